"""Reader for the speech of RAVDESS (Livingstone & Russo 2018), in its own layout.

::

    ROOT/Actor_01/03-01-05-01-01-01-01.wav       48 kHz (or resampled to 16 kHz), mono

24 actors, 1,440 speech files. The file name is seven two-digit fields:
modality (01 audio-video, 02 video, 03 audio), vocal channel (01 speech, 02
song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
07 disgust, 08 surprised), intensity (01 normal, 02 strong), statement,
repetition and actor (odd: male, even: female). Song files (channel 02) are
not speech and are passed over, as are non-audio modalities; calm, fear,
disgust and surprise are left out under the book's four classes (the
default) and kept with ``classes="all"``. RAVDESS
has no sessions: each actor is a session of its own, and a fold validates
on the next actor of the same gender. RAVDESS is licensed CC BY-NC-SA 4.0;
nothing of it ships with this library.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from .base import CorpusWarning, Problems, check_classes
from .named import Utterance, read_utterances, wav_files

NAME = re.compile(r"(?P<modality>\d\d)-(?P<channel>\d\d)-(?P<emotion>\d\d)-(?P<intensity>\d\d)-(?P<statement>\d\d)"
                  r"-(?P<repetition>\d\d)-(?P<actor>\d\d)")
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger", "06": "fear",
            "07": "disgust", "08": "surprise"}
SPEECH, AUDIO_ONLY = "01", "03"
RATES = (48_000, 16_000)
LAYOUT = "ROOT/Actor_NN/<modality>-<channel>-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav"


def parse(path: Path) -> Utterance | None:
    """The utterance a file name describes, None for a song or a non-audio file; ``ValueError`` if it does not parse."""
    match = NAME.fullmatch(path.stem)
    if not match:
        raise ValueError("not a RAVDESS file name (expected seven two-digit fields, e.g. 03-01-05-01-01-01-12)")
    if match["channel"] != SPEECH or match["modality"] != AUDIO_ONLY:
        return None
    if match["emotion"] not in EMOTIONS:
        raise ValueError(f"unknown emotion code {match['emotion']}; RAVDESS's are 01-08")
    actor = match["actor"]
    if path.parent.name.startswith("Actor_") and path.parent.name != f"Actor_{actor}":
        raise ValueError(f"names actor {actor} but lies in {path.parent.name}")
    return Utterance(path, path.stem, actor + ("M" if int(actor) % 2 else "F"), EMOTIONS[match["emotion"]])


def read_ravdess(root, classes: str = "paper", strict: bool = True):
    """Read RAVDESS's speech files under ``root`` (its ``Actor_NN`` folders) into a ``Corpus``."""
    check_classes(classes)
    root = Path(root).expanduser().resolve()
    problems = Problems(strict)
    passed_over = []

    def utterances():
        for path in wav_files(root, "Actor_*/*.wav", "RAVDESS", LAYOUT):
            try:
                item = parse(path)
            except ValueError as error:
                problems.report(path, str(error))
                continue
            if item is None:
                passed_over.append(path)
                continue
            yield item

    corpus = read_utterances(root, utterances(), problems, classes, "RAVDESS", rates=RATES)
    if passed_over:
        warnings.warn(f"{root}: passed over {len(passed_over)} song or non-audio file(s), e.g. {passed_over[0].name}",
                      CorpusWarning, stacklevel=2)
    return corpus
