"""Reader for the Berlin Database of Emotional Speech (EmoDB, Burkhardt et al. 2005), in its own layout.

::

    ROOT/wav/03a01Fa.wav     (or the wav files directly under ROOT)

535 utterances of 10 actors, 16 kHz mono. The file name is speaker (2
digits), text (``a01`` … ``b10``), emotion letter and version letter: the
last letter tells takes of the same text and emotion apart (``a``, ``b``,
``c`` …), so every file is its own utterance. The emotion letters are
German: W(ut) anger, F(reude) happiness, T(rauer) sadness, N neutral; L
(boredom), E (disgust) and A (fear) are outside the book's classes and left
out. EmoDB has no sessions: each actor is a session of its own, and a fold
validates on the next actor of the same gender (``folds.loso_folds``).
EmoDB is published as free to use; nothing of it ships with this library.
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Problems, check_classes
from .named import Utterance, read_utterances, wav_files

NAME = re.compile(r"(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[A-Z])(?P<version>[a-z])")
EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness",
            "N": "neutral"}
# The actors' genders, from the corpus's documentation.
SPEAKERS = {"03": "M", "08": "F", "09": "F", "10": "M", "11": "M", "12": "M", "13": "F", "14": "F", "15": "M",
            "16": "F"}
LAYOUT = "ROOT/wav/<speaker><text><emotion><version>.wav, e.g. 03a01Fa.wav"


def parse(path: Path) -> Utterance:
    """The utterance a file name describes; ``ValueError`` saying what does not parse."""
    match = NAME.fullmatch(path.stem)
    if not match:
        raise ValueError(f"not an EmoDB file name (expected {LAYOUT.split(', ')[1]})")
    if match["emotion"] not in EMOTIONS:
        raise ValueError(f"unknown emotion letter {match['emotion']!r}; EmoDB's are {', '.join(EMOTIONS)}")
    speaker = match["speaker"]
    return Utterance(path, path.stem, speaker + SPEAKERS.get(speaker, ""), EMOTIONS[match["emotion"]])


def read_emodb(root, classes: str = "paper", strict: bool = True):
    """Read EmoDB from ``root`` (its ``wav`` folder or the folder holding it) into a ``Corpus``."""
    check_classes(classes)
    root = Path(root).expanduser().resolve()
    folder = root / "wav" if (root / "wav").is_dir() else root
    problems = Problems(strict)

    def utterances():
        for path in wav_files(folder, "*.wav", "EmoDB", LAYOUT):
            try:
                yield parse(path)
            except ValueError as error:
                problems.report(path, str(error))

    return read_utterances(root, utterances(), problems, classes, "EmoDB")
