"""Reader for any corpus listed in a manifest: a CSV with one row per utterance.

::

    path,speaker,label[,session][,gender][,votes][,utterance]
    wav/a.wav,spk01,anger,s1,F,anger;anger;neutral

``path`` is a wav file (relative to the manifest's folder, or absolute; 16
kHz mono), ``speaker`` any id, ``label`` the gold emotion (a name or an
IEMOCAP code: anger, ang, happiness, hap, …). Optional: ``session`` groups
speakers who share recordings (two speakers of a dialogue); ``gender`` (F or
M) lets a corpus without sessions validate each fold on a speaker of the same
gender; ``votes`` are raters' labels separated by ``;``; ``utterance`` is the
id (default: the wav's file name without ``.wav``). A speaker id becomes
``<session>/<speaker><gender>`` (``base.session_of``). Emotions outside the
class set are left out with a warning; with ``classes="all"`` every emotion of
the library's vocabulary (``base.LABEL_NAMES``: the paper's four, boredom,
calm, disgust, excited, fear, frustration, surprise) that the manifest uses
is a class. A label outside that vocabulary (a typo, or an emotion it lacks)
is an error naming the manifest and its line under every class set, as are a
missing column and an empty cell.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .base import CLASS_SETS, CorpusError, Problems, canonical_label, check_classes
from .named import Utterance, read_utterances

REQUIRED = ("path", "speaker", "label")
OPTIONAL = ("session", "gender", "votes", "utterance")


def read_manifest(path, classes: str = "paper", strict: bool = True):
    """Read the corpus a manifest CSV lists into a ``Corpus``."""
    check_classes(classes)
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest (a CSV with columns {', '.join(REQUIRED)})")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CorpusError(path, f"cannot read CSV: {error}") from None
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise CorpusError(path, f"lacks the column(s) {', '.join(missing)}; a manifest has {', '.join(REQUIRED)} "
                                f"and optionally {', '.join(OPTIONAL)}")
    problems = Problems(strict)

    def utterances():
        for line, row in zip(range(2, len(table) + 2), table.to_dict("records")):
            try:
                yield _utterance(path.parent, row)
            except ValueError as error:
                problems.report(path, str(error), line)

    return read_utterances(path.parent, utterances(), problems, classes, "manifest")


def _utterance(folder: Path, row: dict) -> Utterance:
    for column in REQUIRED:
        if not row[column].strip():
            raise ValueError(f"empty {column}")
    emotion = canonical_label(row["label"])
    if emotion is None:
        raise ValueError(f"unknown emotion {row['label']!r}; use one of {', '.join(sorted(CLASS_SETS['all']))} "
                         "or an IEMOCAP code (ang, hap, …)")
    votes = tuple(canonical_label(v) or v.strip() for v in row.get("votes", "").split(";") if v.strip())
    unknown = [v for v in votes if canonical_label(v) is None]
    if unknown:
        raise ValueError(f"unknown vote(s) {', '.join(map(repr, unknown))}")
    gender = row.get("gender", "").strip().upper()
    if gender not in ("", "F", "M"):
        raise ValueError(f"gender is {row['gender']!r}; expected F, M or nothing")
    session = row.get("session", "").strip()
    speaker = (f"{session}/" if session else "") + row["speaker"].strip() + gender
    wav = Path(row["path"].strip())
    wav = wav if wav.is_absolute() else folder / wav
    return Utterance(wav, row.get("utterance", "").strip() or wav.stem, speaker, emotion, votes)
