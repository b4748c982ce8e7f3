"""Reader for the Berlin Database of Emotional Speech (EmoDB, Burkhardt et al. 2005), in its own layout.

::

    ROOT/wav/03a01Fa.wav     (or the wav files directly under ROOT)
    ROOT/recognition.csv     utterance,recognition[,…]   (optional: the listeners' recognition rates)

535 utterances of 10 actors, 16 kHz mono. The file name is speaker (2
digits), text (``a01`` … ``b10``), emotion letter and version letter: the
last letter tells takes of the same text and emotion apart (``a``, ``b``,
``c`` …), so every file is its own utterance. The emotion letters are
German: W(ut) anger, F(reude) happiness, T(rauer) sadness, N neutral, L
(Langeweile) boredom, E (Ekel) disgust, A (Angst) fear. The last three are
left out under the book's four classes (the default) and kept with
``classes="all"``: seven classes, the paper's four first. EmoDB has no
sessions: each actor is a session of its own, and a fold validates on the
next actor of the same gender (``folds.loso_folds``).

EmoDB has no raters' votes, but its perception test published, per
utterance, the share of 20 listeners who recognised the intended emotion.
Where you have these rates, write them to ``ROOT/recognition.csv``, one row
per utterance: ``utterance`` (the file name without ``.wav``, ``03a01Fa``)
and ``recognition`` (percent, 0-100); other columns (naturalness) are
ignored, and an utterance without a row has no rate. A rate is the share of
raters who chose the gold label, so it becomes the corpus's ``agreement``
column (a share, 0-1), what ``report.by_agreement`` reads. It does not say
which emotions the other listeners heard, so it gives no votes: the soft
targets (``Corpus.vote_distribution``) stay one-hot. A rate outside 0-100, a
row without one, an utterance twice or one without a wav file is an error
naming the file and line (``strict=False``: skipped with a warning).
EmoDB is published as free to use; nothing of it ships with this library.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .base import Problems, check_classes
from .named import Utterance, read_csv, read_utterances, wav_files

NAME = re.compile(r"(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[A-Z])(?P<version>[a-z])")
EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness",
            "N": "neutral"}
# The actors' genders, from the corpus's documentation.
SPEAKERS = {"03": "M", "08": "F", "09": "F", "10": "M", "11": "M", "12": "M", "13": "F", "14": "F", "15": "M",
            "16": "F"}
LAYOUT = "ROOT/wav/<speaker><text><emotion><version>.wav, e.g. 03a01Fa.wav"
RECOGNITION = "recognition.csv"  # under ROOT: the listeners' recognition rates, where the user has them


def parse(path: Path) -> Utterance:
    """The utterance a file name describes; ``ValueError`` saying what does not parse."""
    match = NAME.fullmatch(path.stem)
    if not match:
        raise ValueError(f"not an EmoDB file name (expected {LAYOUT.split(', ')[1]})")
    if match["emotion"] not in EMOTIONS:
        raise ValueError(f"unknown emotion letter {match['emotion']!r}; EmoDB's are {', '.join(EMOTIONS)}")
    speaker = match["speaker"]
    return Utterance(path, path.stem, speaker + SPEAKERS.get(speaker, ""), EMOTIONS[match["emotion"]])


def read_recognition(path: Path, problems: Problems) -> dict[str, tuple[float, int]]:
    """``{utterance: (recognition rate as a share 0-1, its line)}`` from a CSV of percentages (module docstring)."""
    table = read_csv(path, ("utterance", "recognition"))
    rates: dict[str, tuple[float, int]] = {}
    for line, (utterance, rate) in enumerate(zip(table["utterance"], table["recognition"]), start=2):
        utterance, percent = str(utterance).strip(), pd.to_numeric(rate, errors="coerce")
        if utterance in rates:
            problems.report(path, f"utterance {utterance} has a rate already, at line {rates[utterance][1]}", line)
        elif not 0 <= percent <= 100:  # NaN too: an empty cell or a word
            shown = "empty" if pd.isna(rate) else repr(rate)
            problems.report(path, f"recognition of {utterance} is {shown}; expected a percentage, 0-100", line)
        else:
            rates[utterance] = (float(percent) / 100, line)
    if rates and max(share for share, _ in rates.values()) <= 0.01:
        problems.note(path, "every recognition rate is at most 1 %: are they shares? give them in percent (0-100)")
    return rates


def read_emodb(root, classes: str = "paper", strict: bool = True, recognition=None):
    """Read EmoDB from ``root`` (its ``wav`` folder or the folder holding it) into a ``Corpus``.

    ``recognition``: a file of recognition rates other than ``ROOT/recognition.csv``,
    which is read where it is; the rates become the ``agreement`` column.
    """
    check_classes(classes)
    root = Path(root).expanduser().resolve()
    folder = root / "wav" if (root / "wav").is_dir() else root
    problems = Problems(strict)
    if recognition is None and (root / RECOGNITION).is_file():
        recognition = root / RECOGNITION
    rates = read_recognition(Path(recognition), problems) if recognition is not None else {}
    utterances = []
    for path in wav_files(folder, "*.wav", "EmoDB", LAYOUT):
        try:
            utterances.append(parse(path))
        except ValueError as error:
            problems.report(path, str(error))
    found = {item.utterance for item in utterances}  # every utterance, also those the class set leaves out
    for utterance, (_, line) in rates.items():
        if utterance not in found:
            problems.report(recognition, f"utterance {utterance} has no wav file in {folder}", line)
    corpus = read_utterances(root, utterances, problems, classes, "EmoDB")
    if rates:
        corpus.table = corpus.table.assign(agreement=corpus.table["utterance"].map(
            {utterance: share for utterance, (share, _) in rates.items()}).astype(float))
    return corpus
