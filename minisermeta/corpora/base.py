"""The utterance table every corpus reader returns.

A :class:`Corpus` is one row per utterance with the fixed vocabulary used across
the library, the notebooks and the book:

``utterance``  the utterance id (``Ses01F_impro01_M003``)
``path``       absolute path of its 16 kHz mono wav file
``speaker``    the speaker (``Ses01M``), see :func:`speaker_of`
``session``    the session (``Ses01``)
``gold``       the gold label, one of ``Corpus.classes``
``votes``      tuple of the annotators' categorical labels (canonical names)
``self_votes`` tuple of the actors' self-assessments, kept apart from ``votes``
``truth``      the true emotion (simulated corpora only)
``clarity``    how strongly the emotion is expressed, 0-1 (simulated corpora only)
``agreement``  the share of raters who chose the gold label, 0-1, NaN where not
               given (optional: corpora that publish the share but not the
               votes, EmoDB's listener recognition rates)
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..paper import EMOTIONS  # the four classes, in the order of the paper's tables

# IEMOCAP writes the gold label as a code in the turn line and the annotators'
# choices as words; both map to one canonical name. The canonical names are the
# emotions every reader and manifest may use: the vocabulary of the ``all`` class set.
LABEL_NAMES = {
    "neu": "neutral",
    "neutral": "neutral",
    "neutral state": "neutral",
    "hap": "happiness",
    "happiness": "happiness",
    "happy": "happiness",
    "exc": "excited",
    "excited": "excited",
    "sad": "sadness",
    "sadness": "sadness",
    "ang": "anger",
    "anger": "anger",
    "fru": "frustration",
    "frustration": "frustration",
    "sur": "surprise",
    "surprise": "surprise",
    "fea": "fear",
    "fear": "fear",
    "dis": "disgust",
    "disgust": "disgust",
    "oth": "other",
    "other": "other",
    "xxx": "xxx",
    "boredom": "boredom",  # EmoDB
    "calm": "calm",  # RAVDESS
}

NOT_EMOTIONS = ("other", "xxx")  # IEMOCAP's "other" names no emotion; "xxx": its raters found no majority

# The paper keeps excited apart (595 happy utterances); most toolkits merge it.
# ``all`` keeps every emotion of the corpus as a class of its own (``classes_of`` orders them).
CLASS_SETS = {
    "paper": {"happiness": "happiness", "sadness": "sadness", "neutral": "neutral", "anger": "anger"},
    "merged": {
        "happiness": "happiness",
        "excited": "happiness",
        "sadness": "sadness",
        "neutral": "neutral",
        "anger": "anger",
    },
    "all": {name: name for name in LABEL_NAMES.values() if name not in NOT_EMOTIONS},
}

COLUMNS = ("utterance", "path", "speaker", "session", "gold", "votes", "self_votes")


class CorpusError(ValueError):
    """A corpus file that cannot be read; the message names the file (and line)."""

    def __init__(self, path, reason: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.reason = Path(path), line, reason


class CorpusWarning(UserWarning):
    """A corpus problem that was skipped, or that is worth knowing but harmless; names the file."""


@dataclass(frozen=True)
class Skipped:
    """One problem that a non-strict read skipped instead of raising."""

    path: Path
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return str(CorpusError(self.path, self.reason, self.line))


@dataclass(frozen=True)
class Noted(Skipped):
    """One oddity reported with a warning; what it concerns was kept (or was never used)."""


class Problems:
    """Raise on the first problem (strict) or warn, skip and count it; warn about oddities either way."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.skipped: list[Skipped] = []
        self.noted: list[Noted] = []

    def report(self, path, reason: str, line: int | None = None) -> None:
        """A problem: raise :class:`CorpusError` (strict), or warn and count it as skipped."""
        if self.strict:
            raise CorpusError(path, reason, line)
        skipped = Skipped(Path(path), reason, line)
        warnings.warn(f"skipped {skipped}", CorpusWarning, stacklevel=3)
        self.skipped.append(skipped)

    def note(self, path, reason: str, line: int | None = None, warn: bool = True) -> None:
        """An oddity that does not stop the read, strict or not: warn (unless ``warn=False``) and list it."""
        noted = Noted(Path(path), reason, line)
        if warn:
            warnings.warn(str(noted), CorpusWarning, stacklevel=3)
        self.noted.append(noted)


def check_classes(classes: str) -> dict[str, str]:
    """The label map of a class set (:data:`CLASS_SETS`); an error naming the sets for an unknown one."""
    if classes not in CLASS_SETS:
        raise ValueError(f"unknown class set {classes!r}; choose from {sorted(CLASS_SETS)}")
    return CLASS_SETS[classes]


def classes_of(class_set: str, gold) -> tuple[str, ...]:
    """The classes of a corpus read with ``class_set``, in the order of their label indices.

    The paper's four come first, in the order of its tables, in every class
    set, so their indices (and the paper's tables) never move; under ``all``
    the other emotions among ``gold`` (the corpus's gold labels) follow,
    alphabetically. Only emotions the corpus labels become classes: EmoDB read
    with ``all`` has seven, RAVDESS eight.
    """
    check_classes(class_set)
    return EMOTIONS + tuple(sorted(set(gold) - set(EMOTIONS)) if class_set == "all" else ())


def canonical_label(label: str) -> str | None:
    """The canonical name of an IEMOCAP code or word, or None if unknown."""
    return LABEL_NAMES.get(label.strip().lower())


def speaker_of(utterance: str) -> str:
    """The speaker of an IEMOCAP utterance id.

    The gender letter is the first character of the *last* part of the id:
    ``Ses01F_impro01_M003`` is spoken by ``Ses01M``; the ``Ses01F`` prefix only
    names who wore the motion-capture markers.
    """
    parts = utterance.split("_")
    if len(parts) < 3 or len(parts[0]) < 6 or not parts[0].startswith("Ses"):
        raise ValueError(f"not an IEMOCAP utterance id: {utterance!r}")
    gender = parts[-1][:1]
    if gender not in ("F", "M"):
        raise ValueError(f"no speaker gender letter in the last part of {utterance!r}")
    return parts[0][:5] + gender


IEMOCAP_SPEAKER = re.compile(r"(Ses\d\d)[FM]")


def session_of(speaker: str) -> str:
    """The session of a speaker: the unit the book's statistics treat as independent.

    IEMOCAP and SynthEmo: ``Ses01F`` -> ``Ses01``, the two speakers of a
    dialogue. A corpus read with sessions names its speakers ``<session>/<speaker>``
    (the manifest reader), so the part before the slash. Any other speaker is a
    session of its own (acted corpora without dialogues: EmoDB, CREMA-D, RAVDESS).
    """
    speaker = str(speaker)
    match = IEMOCAP_SPEAKER.fullmatch(speaker)
    if match:
        return match.group(1)
    return speaker.split("/", 1)[0] if "/" in speaker else speaker


def gender_of(speaker: str) -> str | None:
    """``"F"`` or ``"M"`` when the speaker id ends with its gender letter (``Ses01F``, EmoDB's ``03M``), else None.

    Every reader of this package appends the letter where the corpus gives the
    speaker's gender; leave-one-speaker-out folds use it to pick a validation
    speaker where there is no session partner (``folds.loso_folds``).
    """
    last = str(speaker)[-1:]
    return last if last in ("F", "M") else None


@dataclass
class Corpus:
    """An utterance table (see the module docstring) plus what reading it skipped or warned about."""

    table: pd.DataFrame
    class_set: str = "paper"
    root: Path | None = None
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Noted] = field(default_factory=list)
    classes: tuple[str, ...] = ()  # in label-index order; default ``classes_of(class_set, gold)``

    def __post_init__(self):
        check_classes(self.class_set)
        missing = [c for c in COLUMNS if c not in self.table.columns]
        if missing:
            raise ValueError(f"corpus table lacks columns {missing}")
        self.classes = tuple(self.classes) or classes_of(self.class_set, self.table["gold"])
        unknown = set(self.table["gold"]) - set(self.classes)
        if unknown:
            raise ValueError(f"gold labels {sorted(unknown)} are not in classes {self.classes}")
        self.table = self.table.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def speakers(self) -> list[str]:
        return sorted(self.table["speaker"].unique())

    @property
    def has_truth(self) -> bool:
        return "truth" in self.table.columns

    def subset(self, rows) -> "Corpus":
        """The utterances at positions ``rows`` of the table, with what reading skipped and noted."""
        return Corpus(self.table.iloc[list(rows)].reset_index(drop=True), class_set=self.class_set, root=self.root,
                      skipped=self.skipped, notes=self.notes, classes=self.classes)  # a class it lacks stays one

    def label_index(self, column: str = "gold") -> np.ndarray:
        """The labels of ``column`` (``gold`` or ``truth``) as class indices."""
        lookup = {c: i for i, c in enumerate(self.classes)}
        return self.table[column].map(lookup).to_numpy(dtype=np.int64)

    def vote_distribution(self) -> np.ndarray:
        """Each utterance's annotator votes as proportions over ``classes``.

        Votes for emotions outside the classes are dropped (excited counts
        as happiness in the ``merged`` set); an utterance without votes, or
        whose votes all fall outside them, keeps its gold label as a one-hot
        row. These are the soft targets of Ando et al. (2018). An ``agreement``
        column does not enter them: it says how many raters chose gold, not
        what the others chose.
        """
        class_map = CLASS_SETS[self.class_set]
        lookup = {c: i for i, c in enumerate(self.classes)}
        dist = np.zeros((len(self), len(self.classes)))
        for n, (votes, gold) in enumerate(zip(self.table["votes"], self.table["gold"])):
            for vote in votes:
                if class_map.get(vote) in lookup:
                    dist[n, lookup[class_map[vote]]] += 1
            if dist[n].sum() == 0:
                dist[n, lookup[gold]] = 1
        return dist / dist.sum(axis=1, keepdims=True)

    def agreement(self) -> np.ndarray:
        """Each utterance's share of raters who chose its gold label, 0-1; NaN where the corpus says nothing.

        The ``agreement`` column where it has a value, else the share of the
        votes that name the gold class (in the class set's mapping: excited is
        happiness under ``merged``) where there are votes. Votes for emotions
        outside the classes count as raters who did not choose gold, unlike in
        :meth:`vote_distribution`, which drops them to make targets over the classes.
        """
        class_map = CLASS_SETS[self.class_set]
        share = np.array([sum(class_map.get(vote) == gold for vote in votes) / len(votes) if votes else np.nan
                          for votes, gold in zip(self.table["votes"], self.table["gold"])], dtype=float)
        if "agreement" in self.table.columns:
            given = self.table["agreement"].to_numpy(dtype=float)
            share = np.where(np.isnan(given), share, given)
        return share

    def summary(self) -> str:
        """One line on the size of the corpus and what reading it skipped or warned about."""
        line = f"{len(self)} utterances, {len(self.speakers)} speakers"
        if self.skipped:
            line += f"; skipped {len(self.skipped)} problem(s), first: {self.skipped[0]}"
        if self.notes:
            line += f"; {len(self.notes)} warning(s), first: {self.notes[0]}"
        return line
