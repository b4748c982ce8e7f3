"""What the readers of corpora without evaluation files share: one wav per utterance, checked, into a table.

EmoDB, CREMA-D and RAVDESS name each file by its speaker and intended
emotion; a manifest lists them in a CSV. Each reader turns a file into an
:class:`Utterance` and :func:`read_utterances` does the rest the same way for
all: the emotions outside the class set are left out (counted in one
warning), a wav that is missing, unreadable or not mono at an expected rate is
a :class:`~minisermeta.corpora.base.CorpusError` naming it (strict) or skipped
with a warning (lenient), and a duplicated utterance id is refused.

Speaker ids end with the speaker's gender letter where the corpus gives it
(``03M``), which ``folds.loso_folds`` uses to choose a validation speaker when
the corpus has no sessions (``base.session_of``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .base import CLASS_SETS, Corpus, CorpusError, CorpusWarning, Problems, check_classes, session_of
from .iemocap import SAMPLE_RATE, inspect_wav


@dataclass(frozen=True)
class Utterance:
    """One wav of a corpus, as its reader understood it."""

    path: Path
    utterance: str  # its id, unique in the corpus
    speaker: str  # with the gender letter where known (see the module docstring)
    emotion: str  # the intended (gold) emotion, a canonical name (``base.LABEL_NAMES``)
    votes: tuple[str, ...] = field(default=())  # raters' labels, canonical names, where the corpus has them


def read_utterances(root: Path, utterances, problems: Problems, classes: str, corpus: str,
                    rates=(SAMPLE_RATE,)) -> Corpus:
    """The :class:`Corpus` of ``utterances`` (an iterable of :class:`Utterance`) under ``root``.

    ``corpus`` names the corpus in messages; ``rates`` are the sample rates its
    wav files may have.
    """
    class_map = check_classes(classes)
    rows, seen, left_out = [], {}, {}
    for item in utterances:
        if item.utterance in seen:
            problems.report(item.path, f"utterance id {item.utterance} is also {seen[item.utterance]}: "
                                       "ids must be unique")
            continue
        seen[item.utterance] = item.path
        if item.emotion not in class_map:
            left_out[item.emotion] = left_out.get(item.emotion, 0) + 1
            continue
        reason, remarks = inspect_wav(item.path, rates)
        if reason:
            problems.report(item.path, reason)
            continue
        for remark in remarks:
            problems.note(item.path, remark)
        rows.append(dict(utterance=item.utterance, path=str(item.path), speaker=item.speaker,
                         session=session_of(item.speaker), gold=class_map[item.emotion], votes=item.votes,
                         self_votes=()))
    if left_out:
        counts = ", ".join(f"{n} {emotion}" for emotion, n in sorted(left_out.items()))
        keeps = " (classes='all' keeps them)" if all(e in CLASS_SETS["all"] for e in left_out) else ""
        warnings.warn(f"{root}: left out {counts}: not in the {classes!r} class set{keeps}", CorpusWarning,
                      stacklevel=3)
    if not rows:
        raise ValueError(f"{root}: no {corpus} utterance of the {classes!r} classes was found")
    return Corpus(pd.DataFrame(rows), class_set=classes, root=root, skipped=problems.skipped, notes=problems.noted)


def wav_files(root: Path, pattern: str, corpus: str, layout: str) -> list[Path]:
    """The wav files of ``pattern`` under ``root``, sorted; an error saying what was expected when there is none.

    macOS's ``._`` metadata files are not audio and are passed over.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (expected a {corpus} corpus: {layout})")
    files = sorted(p for p in root.glob(pattern) if not p.name.startswith("._"))
    if not files:
        raise FileNotFoundError(f"{root}: no {pattern} files; is this a {corpus} corpus? (expected {layout})")
    return files


def read_csv(path: Path, columns) -> pd.DataFrame:
    """A CSV file that a corpus comes with, checked to have ``columns``; a :class:`CorpusError` naming it if not."""
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CorpusError(path, f"cannot read CSV: {error}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CorpusError(path, f"lacks the column(s) {', '.join(missing)}")
    return table
