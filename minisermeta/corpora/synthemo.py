"""SynthEmo: a synthetic emotional speech corpus in the IEMOCAP release layout.

IEMOCAP is licensed, so the library's default corpus is simulated. SynthEmo is
built to have the property the paper is about: **the gold labels are noisy
because some emotions are expressed ambiguously**, and, unlike in any real
corpus, we know the truth behind each label.

Every utterance is simulated in three steps.

1. **What the speaker meant.** A true emotion (happiness, sadness, neutral,
   anger) and a *clarity* between 0 and 1: how strongly the emotion is
   expressed. The counts of true emotions per speaker follow the paper's
   Table 1 (:data:`TABLE1`) times ``scale``. Clarity is drawn from a Beta
   distribution per emotion; happiness is the least clear on average, which is
   what makes it the hardest class in IEMOCAP.

2. **How it sounds** (:func:`synthesise`). A source-filter synthesiser: a
   glottal pulse train (Rosenberg pulses, with jitter and shimmer) following an
   F0 contour (phrase declination, pitch accents, slow drift), plus aspiration
   noise, goes through a spectral-tilt filter and a cascade of formant
   resonators, one vowel per syllable; noise bursts stand for consonants and
   pauses separate phrases. Ten speakers (:data:`SPEAKERS`), five women and
   five men, differ in F0 range, vocal-tract length (formant scale), loudness
   and speaking rate. The emotion moves the voice away from the speaker's
   baseline along the cues the speech-emotion literature reports (Scherer
   2003; Juslin & Laukka 2003), by an amount proportional to clarity
   (:data:`EFFECTS`):

   ========== ========== ======== ========= ====== ============ ===========
   emotion    F0 level   F0 range intensity rate   spectrum     voice
   ========== ========== ======== ========= ====== ============ ===========
   anger      higher     wider    much      faster flat/bright  pressed,
              (+3 st)             louder                        jittery
   happiness  highest    widest   louder    faster brighter     a little
              (+4 st)                                           breathy
   sadness    lower      narrow   quieter   slower steep/dull   breathy,
                                                                jittery
   neutral    baseline   baseline baseline  base   baseline     modal
   ========== ========== ======== ========= ====== ============ ===========

   Happiness shares its arousal cues (high F0, loudness, brightness) with
   anger, and an unclear utterance of any emotion sounds neutral, so classes
   overlap as they do in real data. Each utterance also varies in ways that
   have nothing to do with emotion (its own F0 level and range, effort,
   tempo, voice quality, microphone colouring and background noise), so the
   task is not trivially separable.

3. **How it was annotated** (:func:`annotate`). Three simulated annotators
   each hear the true emotion with a probability that grows with clarity;
   otherwise they hear a plausible confusion (:data:`CONFUSIONS`): an unclear
   happy utterance as neutral, a clear one as excited or angry, anger as
   frustration or neutral, sadness as neutral. Annotators who miss tend to
   miss the same way, because the utterance, not the annotator, is ambiguous.
   The gold label is the majority vote, ``xxx`` when there is none; like
   IEMOCAP's, a gold ``exc``, ``fru`` or ``xxx`` falls outside the paper's
   four classes and is excluded by the reader (``exc`` counts as happiness in
   the ``merged`` class set).

:func:`generate` writes everything in the IEMOCAP release layout, so the same
reader (:func:`~minisermeta.corpora.iemocap.read_iemocap`) serves both::

    ROOT/Session{1..5}/sentences/wav/<dialog>/<utterance>.wav   16 kHz mono int16
    ROOT/Session{1..5}/dialog/EmoEvaluation/<dialog>.txt        gold + votes
    ROOT/truth.csv       utterance, truth, clarity and synthesis parameters
    ROOT/synthemo.json   generation parameters, written last

The corpus is deterministic for a ``seed``: each utterance draws from its own
random stream derived from ``(seed, utterance index)``, so the result does not
depend on how many processes generate it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.signal import lfilter
from tqdm.auto import tqdm

from .. import environment, paper
from .base import EMOTIONS, Corpus, Problems
from .iemocap import SAMPLE_RATE, parse_evaluation, read_iemocap

VERSION = 1
MANIFEST = "synthemo.json"  # written last: its presence means "complete"
IN_PROGRESS = "synthemo.partial"  # marks a directory SynthEmo is writing into
HOP = SAMPLE_RATE // 100  # the 10 ms frame shift of the F0 returned by synthesise
WINDOW = SAMPLE_RATE * 25 // 1000  # the 25 ms analysis window that frame k starts

# Paper Table 1 (IEMOCAP, 4,490 utterances) as speaker -> {emotion: count}.
TABLE1 = {speaker: dict(zip(paper.EMOTIONS, counts)) for speaker, counts in paper.TABLE1.items()}

# Utterances whose gold label falls outside the four classes (exc, fru, xxx)
# are excluded by the reader; generating this many more keeps the surviving
# corpus near Table 1 x scale.
SURVIVAL = 0.92


@dataclass(frozen=True)
class Speaker:
    """A simulated actor's neutral voice."""

    gender: str
    f0_low: float  # Hz, bottom of the neutral F0 range
    f0_high: float  # Hz, top of the neutral F0 range
    formants: float  # formant scale: shorter vocal tracts (women) have higher formants
    loudness: float  # dB relative to the corpus reference level
    rate: float  # syllables per second


SPEAKERS = {
    "Ses01F": Speaker("F", 172, 250, 1.17, 0.0, 4.6),
    "Ses01M": Speaker("M", 88, 140, 1.00, 1.5, 4.2),
    "Ses02F": Speaker("F", 182, 255, 1.21, -1.5, 4.9),
    "Ses02M": Speaker("M", 96, 152, 0.96, 0.5, 4.4),
    "Ses03F": Speaker("F", 165, 235, 1.14, 1.0, 4.3),
    "Ses03M": Speaker("M", 85, 135, 1.03, -1.0, 4.8),
    "Ses04F": Speaker("F", 176, 245, 1.19, 2.0, 5.0),
    "Ses04M": Speaker("M", 100, 155, 0.99, 0.0, 4.0),
    "Ses05F": Speaker("F", 168, 240, 1.16, -0.5, 4.5),
    "Ses05M": Speaker("M", 92, 146, 1.02, -2.0, 4.6),
}


@dataclass(frozen=True)
class Voice:
    """Prosody and voice quality of an utterance, on top of the speaker's profile.

    :func:`utterance_voice` returns absolute values. An entry of
    :data:`EFFECTS` holds how far an emotion moves each field at clarity 1:
    added to the fields whose neutral value is 0 in :class:`Voice` or set in
    :data:`NEUTRAL_VOICE`, multiplying the factors (neutral value 1).
    """

    f0_level: float = 0.0  # semitones above the speaker's median F0
    f0_range: float = 1.0  # factor on the speaker's F0 excursions
    level: float = 0.0  # dB above the speaker's loudness
    rate: float = 1.0  # factor on the speaker's syllable rate
    tilt: float = 0.0  # pole of the spectral-tilt low-pass (0-1): higher is duller
    open_quotient: float = 0.0  # open part of the glottal cycle: lower is pressed, higher is lax
    breath: float = 0.0  # aspiration noise relative to the voiced source
    jitter: float = 1.0  # cycle-to-cycle F0 perturbation (relative standard deviation)
    formants: float = 1.0  # factor on formant frequencies (smiling shortens the tract)


NEUTRAL_VOICE = Voice(tilt=0.55, open_quotient=0.6, breath=0.05, jitter=0.008)

# How each emotion moves the voice at clarity 1 (see Voice); clarity c moves it c of the way.
EFFECTS = {
    "neutral": Voice(),
    "anger": Voice(f0_level=3.0, f0_range=1.35, level=8.0, rate=1.15, tilt=-0.3, open_quotient=-0.15,
                   jitter=1.6, formants=1.02),
    "happiness": Voice(f0_level=4.0, f0_range=1.7, level=4.0, rate=1.08, tilt=-0.12, breath=0.1,
                       formants=1.04),
    "sadness": Voice(f0_level=-2.5, f0_range=0.5, level=-6.0, rate=0.78, tilt=0.22, open_quotient=0.12,
                     breath=0.22, jitter=1.8, formants=0.98),
}

# How clear each true emotion tends to be: Beta(a, b). Neutral's clarity only
# sets how readily annotators agree, since neutral sounds neutral anyway.
CLARITY = {"happiness": (1.3, 3.2), "sadness": (4.5, 1.6), "neutral": (4.0, 1.5), "anger": (4.0, 1.6)}

# Male vowel formants F1-F4 (Hz, Peterson & Barney 1952) and their bandwidths.
VOWELS = np.array(
    [[270, 2290, 3010, 3500], [530, 1840, 2480, 3500], [730, 1090, 2440, 3400], [570, 840, 2410, 3300],
     [300, 870, 2240, 3300], [640, 1190, 2390, 3400], [660, 1720, 2410, 3500]],
    dtype=float,
)
BANDWIDTHS = np.array([70.0, 100.0, 150.0, 220.0])
REFERENCE_DB = -28.0  # RMS of neutral vowels, dB re full scale

# What an annotator hears instead of the true emotion:
# label -> (weight when the utterance is unclear, weight when it is clear).
CONFUSIONS = {
    "happiness": {"neutral": (0.75, 0.2), "sadness": (0.12, 0.05), "excited": (0.08, 0.45), "anger": (0.05, 0.3)},
    "anger": {"frustration": (0.4, 0.6), "neutral": (0.5, 0.15), "excited": (0.1, 0.25)},
    "sadness": {"neutral": (0.75, 0.4), "frustration": (0.25, 0.6)},
    "neutral": {"sadness": (0.35, 0.35), "frustration": (0.3, 0.3), "happiness": (0.35, 0.35)},
}
HEAR_TRUTH = (0.3, 0.95)  # P(an annotator hears the truth) at clarity 0 and 1
SHARED_MISTAKE = 0.8  # P(an annotator who misses makes the utterance's likely mistake)
ANNOTATORS = 3

CODES = {"neutral": "neu", "happiness": "hap", "sadness": "sad", "anger": "ang", "excited": "exc",
         "frustration": "fru"}
WORDS = {"neutral": "Neutral", "happiness": "Happiness", "sadness": "Sadness", "anger": "Anger",
         "excited": "Excited", "frustration": "Frustration"}
# Dimensional ratings (valence, activation, dominance; 1-5) at clarity 1.
VAD = {"neutral": (2.6, 2.5, 2.6), "happiness": (4.0, 3.4, 3.1), "sadness": (1.9, 2.1, 2.2),
       "anger": (1.8, 3.9, 3.8)}
EVALUATION_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"


# -- the voice ---------------------------------------------------------------


def utterance_voice(emotion: str, clarity: float, rng: np.random.Generator) -> Voice:
    """The neutral voice moved toward ``emotion`` by ``clarity``, plus variation unrelated to emotion."""
    effect, n = EFFECTS[emotion], NEUTRAL_VOICE
    return Voice(
        f0_level=clarity * effect.f0_level + rng.normal(0, 1.2),
        f0_range=effect.f0_range**clarity * np.exp(rng.normal(0, 0.25)),
        level=clarity * effect.level + rng.normal(0, 3.0),
        rate=effect.rate**clarity * np.exp(rng.normal(0, 0.1)),
        tilt=float(np.clip(n.tilt + clarity * effect.tilt + rng.normal(0, 0.08), 0.05, 0.92)),
        open_quotient=float(np.clip(n.open_quotient + clarity * effect.open_quotient + rng.normal(0, 0.04),
                                    0.35, 0.85)),
        breath=max(0.0, n.breath + clarity * effect.breath + rng.normal(0, 0.03)),
        jitter=n.jitter * effect.jitter**clarity * np.exp(rng.normal(0, 0.2)),
        formants=effect.formants**clarity * np.exp(rng.normal(0, 0.02)),
    )


def _phrases(n_samples: int, rate: float, rng: np.random.Generator) -> list[list[tuple]]:
    """Phrases of consonant-vowel syllables, separated by pauses.

    Each syllable is ``(consonant_start, vowel_start, vowel_end, stressed)`` in
    samples; the speech starts and ends with a short silence.
    """
    t = int(rng.uniform(0.08, 0.25) * SAMPLE_RATE)
    end = n_samples - int(rng.uniform(0.08, 0.25) * SAMPLE_RATE)
    phrases = []
    while True:
        phrase = []
        for position in range(rng.integers(3, 9)):
            length = int(rng.gamma(8.0, 1.0 / (8.0 * rate)) * SAMPLE_RATE)
            if t + length > end:
                if not phrases and not phrase:  # a very slow speaker still says something
                    length = end - t
                else:
                    return phrases + [phrase] if phrase else phrases
            consonant = int(length * rng.uniform(0.25, 0.45)) if rng.random() < 0.75 else 0
            phrase.append((t, t + consonant, t + length, position == 0 or rng.random() < 0.3))
            t += length
        phrases.append(phrase)
        t += int(rng.uniform(0.12, 0.4) * 4.5 / rate * SAMPLE_RATE)


def _f0_contour(n_samples: int, phrases: list, speaker: Speaker, voice: Voice, rng) -> np.ndarray:
    """F0 in Hz for every sample: phrase declination, pitch accents and slow drift."""
    frames = np.arange(n_samples // HOP + 2) * HOP  # sample index of each 10 ms frame
    contour = np.zeros(len(frames))  # in units of the speaker's half F0 range
    for phrase in phrases:
        inside = (frames >= phrase[0][0]) & (frames < phrase[-1][2])
        contour[inside] += np.linspace(0.4, -0.5, inside.sum())
    syllables = [syllable for phrase in phrases for syllable in phrase]
    stressed = np.array([(s[1] + s[2]) / 2 for s in syllables if s[3]])
    heights = rng.uniform(0.3, 0.9, len(stressed))
    widths = rng.uniform(0.05, 0.1, len(stressed)) * SAMPLE_RATE
    contour += (heights * np.exp(-0.5 * ((frames[:, None] - stressed) / widths) ** 2)).sum(axis=1)
    window = np.hanning(21)  # a 200 ms smoother: F0 wanders slowly, not frame by frame
    drift = np.convolve(rng.normal(0, 1, len(frames) + 20), window, mode="valid")[: len(frames)]
    contour += 0.25 * drift / np.linalg.norm(window)
    half_range = 6 * np.log2(speaker.f0_high / speaker.f0_low)  # semitones
    median = np.sqrt(speaker.f0_low * speaker.f0_high)
    semitones = voice.f0_level + voice.f0_range * half_range * contour
    return np.interp(np.arange(n_samples), frames, median * 2 ** (semitones / 12))


def _glottal_source(f0: np.ndarray, voice: Voice, rng) -> tuple[np.ndarray, np.ndarray]:
    """Differentiated Rosenberg pulses with per-cycle jitter and shimmer, and the glottal flow."""
    cycles = int(np.sum(f0) / SAMPLE_RATE) + 2
    f0 = f0 * (1 + voice.jitter * rng.standard_normal(cycles))[(np.cumsum(f0) / SAMPLE_RATE).astype(int)]
    phase = np.cumsum(f0) / SAMPLE_RATE
    cycle = phase.astype(int)
    p = phase - cycle
    opening, closing = 0.6 * voice.open_quotient, 0.4 * voice.open_quotient
    flow = np.where(
        p < opening,
        0.5 * (1 - np.cos(np.pi * p / opening)),
        np.where(p < opening + closing, np.cos(np.pi * (p - opening) / (2 * closing)), 0.0),
    )
    flow *= np.exp(0.04 * rng.standard_normal(cycles))[cycle]  # shimmer
    # The lips radiate the flow's derivative; the one-pole low-pass sets the spectral tilt.
    source = lfilter([1 - voice.tilt], [1, -voice.tilt], np.diff(flow, prepend=0.0))
    return source, flow


def _resonator(frequency: float, bandwidth: float) -> tuple[list, list]:
    """A second-order resonator with unit gain at 0 Hz."""
    r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
    a = [1.0, -2 * r * np.cos(2 * np.pi * frequency / SAMPLE_RATE), r * r]
    return [sum(a)], a


def _ramp(length: int, ramp: int) -> np.ndarray:
    """A raised-cosine onset and offset, so segments do not click."""
    envelope = np.ones(length)
    ramp = min(ramp, length // 2)
    if ramp:
        rise = 0.5 * (1 - np.cos(np.pi * np.arange(ramp) / ramp))
        envelope[:ramp], envelope[length - ramp:] = rise, rise[::-1]
    return envelope


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)) + 1e-12)


def synthesise(emotion: str, clarity: float, speaker: str, rng: np.random.Generator):
    """One utterance of ``speaker`` expressing ``emotion`` with ``clarity`` (0-1).

    Returns ``(audio, f0)``: float32 samples at 16 kHz, 1-6 s long, and the
    synthesised F0 in Hz per 10 ms frame (0 where unvoiced). ``f0[k]`` is the
    F0 at the centre of the 25 ms window starting at ``k`` x 10 ms, the window
    of openSMILE's frame ``k`` (openSMILE's pitch window is longer, so its F0
    track lags this one by a frame or two).
    """
    if emotion not in EFFECTS:
        raise ValueError(f"unknown emotion {emotion!r}; choose from {EMOTIONS}")
    if speaker not in SPEAKERS:
        raise ValueError(f"unknown speaker {speaker!r}; choose from {sorted(SPEAKERS)}")
    profile, voice = SPEAKERS[speaker], utterance_voice(emotion, float(np.clip(clarity, 0, 1)), rng)
    n_samples = int(np.clip(rng.lognormal(np.log(2.8), 0.35), 1.2, 5.8) * SAMPLE_RATE)
    phrases = _phrases(n_samples, profile.rate * voice.rate, rng)
    f0 = _f0_contour(n_samples, phrases, profile, voice, rng)
    pulses, flow = _glottal_source(f0, voice, rng)
    # Aspiration: high-passed noise that puffs with the glottal opening.
    aspiration = lfilter([1, -0.9], [1], rng.standard_normal(n_samples)) * (0.3 + flow)
    source = pulses / _rms(pulses) + voice.breath * 4 * aspiration / _rms(aspiration)

    audio = np.zeros(n_samples)
    voiced = np.zeros(n_samples)
    scale = profile.formants * voice.formants
    level = REFERENCE_DB + profile.loudness + voice.level
    warmup = 80  # samples the resonators run before the vowel is heard
    syllables = [(*syllable, i == len(phrase) - 1) for phrase in phrases for i, syllable in enumerate(phrase)]
    for consonant_start, start, end, stressed, phrase_end in syllables:
        gain = 10 ** ((level + 2.5 * stressed - 3.0 * phrase_end + rng.normal(0, 1)) / 20)
        formants = VOWELS[rng.integers(len(VOWELS))] * scale * rng.uniform(0.95, 1.05, 4)
        segment = source[max(0, start - warmup): end]
        for frequency, bandwidth in zip(formants, BANDWIDTHS * (1 + voice.breath)):
            segment = lfilter(*_resonator(frequency, bandwidth), segment)
        segment = segment[start - max(0, start - warmup):]
        envelope = _ramp(end - start, int(0.02 * SAMPLE_RATE))
        audio[start:end] += gain * envelope * segment / _rms(segment)
        voiced[start:end] = envelope
        if consonant_start < start:
            noise = rng.standard_normal(start - consonant_start)
            centre = rng.choice([1800.0, 2800.0, 4500.0]) * profile.formants
            noise = lfilter(*_resonator(centre, 1200.0), noise)
            envelope = _ramp(len(noise), int(0.005 * SAMPLE_RATE))
            audio[consonant_start:start] += gain * rng.uniform(0.1, 0.35) * envelope * noise / _rms(noise)

    # The recording: microphone colouring and background noise, unrelated to emotion.
    tilt = rng.uniform(-0.3, 0.3)
    audio = lfilter([1, -tilt], [1], audio) / np.sqrt(1 + tilt * tilt)
    audio += 10 ** (rng.uniform(-68, -55) / 20) * rng.standard_normal(n_samples)
    audio = np.clip(audio, -0.99, 0.99).astype(np.float32)

    centres = np.arange(1 + (n_samples - WINDOW) // HOP) * HOP + WINDOW // 2
    return audio, np.where(voiced[centres] > 0.5, f0[centres], 0.0)


# -- the annotation ----------------------------------------------------------


def _confusion(truth: str, clarity: float) -> tuple[list[str], np.ndarray]:
    """The labels an annotator may hear instead of ``truth`` and their probabilities."""
    labels = list(CONFUSIONS[truth])
    weights = np.array([(1 - clarity) * unclear + clarity * clear for unclear, clear in CONFUSIONS[truth].values()])
    return labels, weights / weights.sum()


def annotate(truth: str, clarity: float, rng: np.random.Generator, noise: float = 1.0, *,
             draw: str = "hear") -> list[str]:
    """The votes of the simulated annotators (canonical names, e.g. ``'excited'``).

    Each annotator hears the truth with a probability that grows with clarity;
    one who misses makes the utterance's likely mistake (shared by all) with
    probability :data:`SHARED_MISTAKE`, or another plausible confusion.
    ``noise`` multiplies the chance of missing (capped at 1): ``0`` gives
    perfect annotators, ``2`` twice the misses.

    Each annotator draws one uniform number to decide whether they hear the
    truth; ``draw`` says what it is compared with: ``'hear'`` hears the truth
    when it falls below P(hear) (what :func:`plan` draws), ``'miss'`` misses
    when it falls below P(miss) (what :func:`minisermeta.book.reannotate`
    draws). Both give the same distribution of votes but different votes from
    one random stream; each caller keeps its own so that its corpora and
    results stay as they were.
    """
    if draw not in ("hear", "miss"):
        raise ValueError(f"draw must be 'hear' or 'miss', got {draw!r}")
    labels, weights = _confusion(truth, clarity)
    likely_mistake = labels[rng.choice(len(labels), p=weights)]
    hear_truth = HEAR_TRUTH[0] + (HEAR_TRUTH[1] - HEAR_TRUTH[0]) * clarity
    miss = min(1.0, noise * (1 - hear_truth))
    if noise != 1:
        hear_truth = 1 - miss  # at noise 1, P(hear) itself: 1 - (1 - p) is not always p in floating point
    votes = []
    for _ in range(ANNOTATORS):
        u = rng.random()
        if (u < hear_truth) if draw == "hear" else (u >= miss):
            votes.append(truth)
        elif rng.random() < SHARED_MISTAKE:
            votes.append(likely_mistake)
        else:
            votes.append(labels[rng.choice(len(labels), p=weights)])
    return votes


def gold_code(votes: list[str]) -> str:
    """The IEMOCAP code of the majority vote, ``xxx`` when no label has a majority."""
    labels, counts = np.unique(votes, return_counts=True)
    return CODES[labels[counts.argmax()]] if 2 * counts.max() > len(votes) else "xxx"


def _ratings(truth: str, clarity: float, rng) -> np.ndarray:
    """Mean of the annotators' integer valence/activation/dominance ratings (1-5)."""
    centre = 2.5 + clarity * (np.array(VAD[truth]) - 2.5)
    return np.clip(np.rint(centre + rng.normal(0, 0.6, (ANNOTATORS, 3))), 1, 5).mean(axis=0)


# -- the corpus ----------------------------------------------------------------


def _counts(scale: float) -> dict[tuple[str, str], int]:
    """True-emotion counts per (speaker, emotion): Table 1 x scale, at least one each."""
    return {
        (speaker, emotion): max(1, round(count * scale / SURVIVAL))
        for speaker, row in TABLE1.items()
        for emotion, count in row.items()
    }


def plan(scale: float, seed: int) -> pd.DataFrame:
    """Who says what, in which dialog, how clearly, and how it was annotated.

    One row per utterance, in generation order; ``stream`` seeds its audio.
    """
    rng = np.random.default_rng([seed, 0])
    counts = _counts(scale)
    rows = []
    for session in range(1, 6):
        speakers = [f"Ses{session:02d}F", f"Ses{session:02d}M"]
        pools = [rng.permutation([e for (s, e), n in counts.items() if s == speaker for _ in range(n)])
                 for speaker in speakers]
        n_dialogs = max(1, round(sum(map(len, pools)) / 35))  # IEMOCAP-like dialog lengths
        # Every dialog gets a share of both actors' utterances, in a random turn order.
        shares = [np.array_split(pool, n_dialogs) for pool in pools]
        for d in range(n_dialogs):
            dialog = f"Ses{session:02d}{'FM'[d % 2]}_impro{d // 2 + 1:02d}"
            turns = [(speaker, emotion) for speaker, share in zip(speakers, shares) for emotion in share[d]]
            numbers = dict.fromkeys(speakers, 0)
            for k in rng.permutation(len(turns)):
                speaker, emotion = turns[k]
                clarity = rng.beta(*CLARITY[emotion])
                votes = annotate(emotion, clarity, rng)
                rows.append(dict(
                    utterance=f"{dialog}_{speaker[-1]}{numbers[speaker]:03d}", session=session, dialog=dialog,
                    speaker=speaker, truth=emotion, clarity=round(float(clarity), 4), votes=votes,
                    code=gold_code(votes), vad=_ratings(emotion, clarity, rng), gap=rng.uniform(0.2, 1.5),
                ))
                numbers[speaker] += 1
    table = pd.DataFrame(rows)
    table.insert(0, "stream", np.arange(len(table)))
    return table


def _wav_path(root: Path, session: int, dialog: str, utterance: str) -> Path:
    return root / f"Session{session}" / "sentences" / "wav" / dialog / f"{utterance}.wav"


def _synthesise_planned(truth: str, clarity: float, speaker: str, seed: int, stream: int):
    """:func:`synthesise` on the utterance's own random stream: its audio and F0, as generated."""
    return synthesise(truth, clarity, speaker, np.random.default_rng([seed, 1, stream]))


def synthesised_f0(utterances, scale: float = 0.25, seed: int = 0) -> dict[str, np.ndarray]:
    """The F0 SynthEmo synthesised for each utterance (Hz per 10 ms frame, 0 where unvoiced).

    What an F0 tracker should find: the corpus of ``scale`` and ``seed`` is
    re-synthesised for these utterances only (a few ms each), nothing is read
    from disk. An utterance the corpus does not have is an error.
    """
    table = plan(scale, seed).set_index("utterance")
    missing = [u for u in utterances if u not in table.index]
    if missing:
        raise ValueError(f"SynthEmo (scale {scale:g}, seed {seed}) has no utterance {', '.join(map(repr, missing[:5]))}"
                         f"{' and more' if len(missing) > 5 else ''}")
    return {u: _synthesise_planned(*table.loc[u, ["truth", "clarity", "speaker"]], seed,
                                   int(table.loc[u, "stream"]))[1] for u in utterances}


def _render(path: Path, truth: str, clarity: float, speaker: str, seed: int, stream: int) -> tuple[float, float]:
    """Synthesise one utterance into its wav file; returns (duration s, mean F0 Hz)."""
    import soundfile as sf  # here, not at the top: training on cached features needs no audio library

    audio, f0 = _synthesise_planned(truth, clarity, speaker, seed, stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.rint(audio * 32767).astype(np.int16), SAMPLE_RATE, subtype="PCM_16")
    return len(audio) / SAMPLE_RATE, float(f0[f0 > 0].mean())


def _write_evaluations(root: Path, table: pd.DataFrame) -> None:
    """One EmoEvaluation file per dialog, turns in time order, in the release format."""
    for (session, dialog), turns in table.groupby(["session", "dialog"], sort=False):
        text, time = EVALUATION_HEADER, 0.0
        for row in turns.itertuples():
            start, time = time + row.gap, time + row.gap + row.duration
            v, a, d = row.vad
            text += f"[{start:.4f} - {time:.4f}]\t{row.utterance}\t{row.code}\t[{v:.4f}, {a:.4f}, {d:.4f}]\n"
            text += "".join(f"C-E{k}:\t{WORDS[vote]};\t()\n" for k, vote in enumerate(row.votes, start=1))
            text += "\n"
        path = root / f"Session{session}" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _parameters(scale: float, seed: int) -> dict:
    return {"generator": "SynthEmo", "version": VERSION, "scale": float(scale), "seed": int(seed)}


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_complete(root, scale: float = 0.25, seed: int = 0) -> bool:
    """Whether ``root`` holds a finished SynthEmo corpus generated with these parameters."""
    manifest = _read_json(Path(root) / MANIFEST)
    wanted = _parameters(scale, seed)
    return manifest is not None and all(manifest.get(key) == value for key, value in wanted.items())


def _clear_previous(root: Path) -> None:
    """Remove what an earlier (other or interrupted) SynthEmo generation wrote, and only that."""
    if not root.exists() or not any(root.iterdir()):
        return
    if not ((root / MANIFEST).exists() or (root / IN_PROGRESS).exists()):
        raise FileExistsError(
            f"{root} is not empty and is not a SynthEmo corpus (no {MANIFEST}); "
            "refusing to write into it. Choose an empty or new directory."
        )
    for name in [MANIFEST, IN_PROGRESS, "truth.csv"] + [f"Session{s}" for s in range(1, 6)]:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def generate(out, scale: float = 0.25, seed: int = 0, n_jobs: int = -1, progress: bool = True) -> Path:
    """Write the SynthEmo corpus for ``(scale, seed)`` into ``out``; return its path.

    ``scale=1`` is IEMOCAP-sized (about 4,490 utterances in the paper's four
    classes), the default 0.25 a quarter of it. Does nothing if ``out``
    already holds this corpus complete; regenerates one left incomplete or
    made with other parameters; raises :class:`FileExistsError` rather than
    write into a non-empty directory that is not a SynthEmo corpus.
    """
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale}")
    root = Path(out).expanduser().resolve()
    if is_complete(root, scale, seed):
        return root
    _clear_previous(root)
    root.mkdir(parents=True, exist_ok=True)
    parameters = _parameters(scale, seed)
    (root / IN_PROGRESS).write_text(json.dumps(parameters))

    table = plan(scale, seed)
    jobs = (
        delayed(_render)(_wav_path(root, row.session, row.dialog, row.utterance), row.truth, row.clarity,
                         row.speaker, seed, row.stream)
        for row in table.itertuples()
    )
    bar = tqdm(total=len(table), desc="SynthEmo", unit="utt", disable=not progress)
    with bar:
        rendered = []
        for result in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
            rendered.append(result)
            bar.update()
    table["duration"], table["f0_mean"] = zip(*rendered)
    _write_evaluations(root, table)
    truth = table[["utterance", "speaker", "dialog", "truth", "clarity", "f0_mean", "duration"]]
    truth.round({"f0_mean": 2, "duration": 4}).to_csv(root / "truth.csv", index=False)
    codes = table["code"].value_counts().to_dict()
    (root / MANIFEST).write_text(json.dumps({**parameters, "utterances": len(table), "gold_codes": codes}, indent=1))
    (root / IN_PROGRESS).unlink()
    return root


def default_root(scale: float = 0.25, seed: int = 0) -> Path:
    """Where :func:`load_synthemo` keeps the corpus for ``(scale, seed)``."""
    return environment.home() / f"synthemo-scale{scale}-seed{seed}"


def load_synthemo(root=None, scale: float = 0.25, seed: int = 0, classes: str = "paper",
                  n_jobs: int = -1, progress: bool = True, strict: bool = True) -> Corpus:
    """The SynthEmo corpus as a :class:`Corpus` with ``truth`` and ``clarity`` columns.

    Generated first (see :func:`generate`) unless ``root`` (default
    :func:`default_root`) already holds it complete for ``(scale, seed)``.
    It is read like any corpus on disk: ``strict=False`` skips damaged files.
    """
    root = default_root(scale, seed) if root is None else root
    return read_iemocap(generate(root, scale, seed, n_jobs=n_jobs, progress=progress), classes=classes,
                        strict=strict)


def all_turns(root) -> pd.DataFrame:
    """Every utterance of a SynthEmo root with its gold label and its truth.

    Unlike :func:`load_synthemo`, keeps the utterances whose gold label falls
    outside the class set (``excited``, ``frustration``, ``xxx``); columns
    ``utterance``, ``gold`` (canonical name) and those of ``truth.csv``.
    """
    root = Path(root)
    turns = [turn for path in sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt"))
             for turn in parse_evaluation(path, Problems(strict=True))]
    gold = pd.DataFrame(turns)[["utterance", "gold"]]
    return gold.merge(pd.read_csv(root / "truth.csv"), on="utterance")
