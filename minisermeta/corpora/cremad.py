"""Reader for CREMA-D (Cao et al. 2014), in its own layout, with its crowd ratings as votes.

::

    ROOT/AudioWAV/1001_DFA_ANG_XX.wav              16 kHz mono
    ROOT/VideoDemographics.csv                     ActorID, Age, Sex, … (optional: the actors' genders)
    ROOT/processedResults/tabulatedVotes.csv       votes per clip (optional), or
    ROOT/finishedResponses.csv                     every rating (optional)

7,442 clips of 91 actors. The file name is actor, sentence, intended emotion
(ANG, DIS, FEA, HAP, NEU, SAD) and intensity (LO, MD, HI, or XX: unspecified).
The intended emotion is the gold label; disgust and fear are left out under
the book's four classes (the default) and kept with ``classes="all"``. The
crowd rated each clip from the voice alone, the face alone and both; the
votes here are the **voice-only** ratings (in ``tabulatedVotes.csv`` the rows
whose id is 100000 + the clip number, in ``finishedResponses.csv`` those with
``queryType`` 1), one vote per rating, so ``Corpus.vote_distribution`` gives
the raters' real disagreement. CREMA-D has no sessions: each actor is a
session of its own, and a fold validates on the next actor of the same
gender. CREMA-D is licensed under the Open Database License (ODbL); nothing
of it ships with this library.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .base import CorpusError, Problems, check_classes
from .named import Utterance, read_csv, read_utterances, wav_files

NAME = re.compile(r"(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<intensity>[A-Z]{2})")
EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutral", "SAD": "sadness"}
INTENSITIES = ("LO", "MD", "HI", "XX")
VOTE_LETTERS = {"A": "anger", "D": "disgust", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness"}
VOICE_ONLY = 1  # queryType of the voice-only ratings
LAYOUT = "ROOT/AudioWAV/<actor>_<sentence>_<emotion>_<intensity>.wav, e.g. 1001_DFA_ANG_XX.wav"


def parse(path: Path, genders: dict[str, str] | None = None) -> Utterance:
    """The utterance a file name describes (``genders``: actor id -> F or M); ``ValueError`` if it does not parse."""
    match = NAME.fullmatch(path.stem)
    if not match:
        raise ValueError(f"not a CREMA-D file name (expected {LAYOUT.split(', ')[1]})")
    if match["emotion"] not in EMOTIONS:
        raise ValueError(f"unknown emotion {match['emotion']!r}; CREMA-D's are {', '.join(EMOTIONS)}")
    if match["intensity"] not in INTENSITIES:
        raise ValueError(f"unknown intensity {match['intensity']!r}; CREMA-D's are {', '.join(INTENSITIES)}")
    actor = match["actor"]
    return Utterance(path, path.stem, actor + (genders or {}).get(actor, ""), EMOTIONS[match["emotion"]])


def read_genders(path: Path) -> dict[str, str]:
    """``{actor id: F or M}`` from ``VideoDemographics.csv`` (columns ActorID and Sex)."""
    table = read_csv(path, ("ActorID", "Sex"))
    sexes = {"male": "M", "female": "F"}
    genders = {}
    for line, (actor, sex) in enumerate(zip(table["ActorID"], table["Sex"]), start=2):
        if str(sex).strip().lower() not in sexes:
            raise CorpusError(path, f"Sex is {sex!r}; expected Male or Female", line)
        genders[str(actor).strip()] = sexes[str(sex).strip().lower()]
    return genders


def read_votes(path: Path) -> dict[str, tuple[str, ...]]:
    """``{clip: voice-only votes}`` from ``tabulatedVotes.csv`` or ``finishedResponses.csv`` (by its columns)."""
    header = pd.read_csv(path, nrows=0).columns
    if "queryType" in header:  # finishedResponses.csv: one row per rating
        table = read_csv(path, ("queryType", "clipName", "respEmo"))
        voice = table[table["queryType"] == VOICE_ONLY]
        votes: dict[str, list[str]] = {}
        for line, (clip, emotion) in zip(voice.index + 2, zip(voice["clipName"], voice["respEmo"])):
            if emotion not in VOTE_LETTERS:
                raise CorpusError(path, f"respEmo is {emotion!r}; expected one of {', '.join(VOTE_LETTERS)}", line)
            votes.setdefault(str(clip), []).append(VOTE_LETTERS[emotion])
        return {clip: tuple(sorted(labels)) for clip, labels in votes.items()}
    table = read_csv(path, ("fileName", *VOTE_LETTERS))
    row_ids = table.iloc[:, 0]  # the unnamed first column: 100000 x query type + clip number
    if not pd.api.types.is_integer_dtype(row_ids):
        raise CorpusError(path, "the first column holds no row ids (100000 x query type + clip number); "
                                "is this CREMA-D's processedResults/tabulatedVotes.csv?")
    voice = table[row_ids // 100000 == VOICE_ONLY]
    return {str(clip): tuple(label for letter, label in VOTE_LETTERS.items() for _ in range(int(row[letter])))
            for clip, (_, row) in zip(voice["fileName"], voice.iterrows())}


def read_cremad(root, classes: str = "paper", strict: bool = True, votes=None):
    """Read CREMA-D from ``root`` into a ``Corpus``; ``votes``: a ratings file other than the default ones.

    Without ``votes``, ``processedResults/tabulatedVotes.csv`` is read where it
    is, else ``finishedResponses.csv``, else the clips carry no votes.
    """
    check_classes(classes)
    root = Path(root).expanduser().resolve()
    demographics = root / "VideoDemographics.csv"
    genders = read_genders(demographics) if demographics.is_file() else {}
    if votes is None:
        found = [p for p in (root / "processedResults" / "tabulatedVotes.csv", root / "finishedResponses.csv")
                 if p.is_file()]
        votes = found[0] if found else None
    by_clip = read_votes(Path(votes)) if votes is not None else {}
    problems = Problems(strict)

    def utterances():
        for path in wav_files(root / "AudioWAV", "*.wav", "CREMA-D", LAYOUT):
            try:
                item = parse(path, genders)
            except ValueError as error:
                problems.report(path, str(error))
                continue
            yield Utterance(item.path, item.utterance, item.speaker, item.emotion, by_clip.get(item.utterance, ()))

    return read_utterances(root, utterances(), problems, classes, "CREMA-D")
