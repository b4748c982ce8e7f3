"""Frame-level acoustic features with openSMILE, cached on disk, and their normalisation.

The paper (section 3.2) feeds the BLSTM 32 features per 25 ms frame, shifted by
10 ms: 12 MFCCs, loudness, F0, voicing probability and zero-crossing rate, plus
the first-order delta of each. ``paper32`` (``configs/paper32.conf``) computes
exactly these, in this order::

    mfcc1 … mfcc12, loudness, F0, voicingProb, zcr,
    mfcc1_de … mfcc12_de, loudness_de, F0_de, voicingProb_de, zcr_de

openSMILE's own ``IS09_emotion`` set is the obvious candidate and is also
16 LLDs + 16 deltas = 32, but it is not the paper's set and it fails on men:

- IS09 has RMS *energy* where the paper has *loudness*; paper32 uses the
  auditory-spectrum loudness of eGeMAPS (mel power spectrum, equal-loudness
  weighting, cubic-root compression, summed over bands).
- IS09's F0 (``cPitchACF``, autocorrelation + cepstrum) finds no pitch in a
  120 Hz voice, and male voices lie at 85-155 Hz. paper32 takes F0 (Hz, 0 when
  unvoiced or silent) and voicing probability from the subharmonic-summation
  tracker of eGeMAPS (``cPitchShs`` + ``cPitchSmootherViterbi``).
- MFCC 1-12 and ZCR are computed as in IS09; all 16 LLDs get IS09's 3-frame
  moving average (F0 and voicing skipping unvoiced zeros) and ±2-frame delta
  regression.

``egemaps`` (the 25 eGeMAPSv02 LLDs) and ``is09`` (IS09_emotion's 16 LLDs and
their 16 deltas) are offered for comparison.

Features are cached under ``settings.home() / "features"``, keyed by the audio
file's *content* and by the feature configuration, so renaming or moving a
corpus costs nothing and editing the config invalidates the cache.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import opensmile
import soundfile as sf
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from . import settings
from .atomic import write_atomically
from .corpora.base import Corpus, CorpusError

FEATURE_SETS = ("paper32", "egemaps", "is09")
SAMPLE_RATE = 16_000
CONFIG_DIR = Path(__file__).parent / "configs"

# (feature_set argument of opensmile.Smile, the feature levels to stack side by side)
_SOURCES = {
    "paper32": (str(CONFIG_DIR / "paper32.conf"), ("paper32",)),
    "egemaps": (opensmile.FeatureSet.eGeMAPSv02, (opensmile.FeatureLevel.LowLevelDescriptors,)),
    "is09": (
        opensmile.FeatureSet.IS09,
        (opensmile.FeatureLevel.LowLevelDescriptors, opensmile.FeatureLevel.LowLevelDescriptors_Deltas),
    ),
}


def _check(feature_set: str) -> None:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; choose from {FEATURE_SETS}")


@lru_cache(maxsize=None)
def _extractors(feature_set: str) -> tuple[opensmile.Smile, ...]:
    """One ``opensmile.Smile`` per level, built once per process (building one is slow)."""
    _check(feature_set)
    config, levels = _SOURCES[feature_set]
    return tuple(
        opensmile.Smile(
            feature_set=config,
            feature_level=level,
            sampling_rate=SAMPLE_RATE,
            resample=True,
            channels=None,
            mixdown=True,
        )
        for level in levels
    )


def feature_names(feature_set: str = "paper32") -> list[str]:
    """The column names of :func:`extract_file`'s output for ``feature_set``."""
    return [name for smile in _extractors(feature_set) for name in smile.feature_names]


def config_key(feature_set: str = "paper32") -> str:
    """The cache folder name: changes with the config file text and the openSMILE version.

    Only the top config file is hashed; the ``.conf.inc`` files it includes ship
    with openSMILE, so they change only with its version.
    """
    digest = hashlib.blake2b(digest_size=8)
    for smile in _extractors(feature_set):
        digest.update(Path(smile.config_path).read_bytes())
        digest.update(str(smile.feature_level).encode())
    digest.update(f"opensmile {opensmile.__version__}, {SAMPLE_RATE} Hz".encode())
    return f"{feature_set}-{digest.hexdigest()}"


def audio_key(data: bytes) -> str:
    """The cache file name of an audio file: a hash of its bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_bytes(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CorpusError(path, f"cannot read audio: {error.strerror}") from None


def _features_of_bytes(data: bytes, path, feature_set: str) -> np.ndarray:
    try:
        signal, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises several types for a bad file
        raise CorpusError(path, f"cannot read audio: {error}") from None
    if signal.size == 0:
        raise CorpusError(path, "audio file holds no samples")
    # openSMILE scales by 32768 into int16: a full-scale +1.0 would wrap to -32768
    signal = np.clip(signal.T, -1.0, 32767 / 32768)
    parts = []
    for smile in _extractors(feature_set):
        try:
            with warnings.catch_warnings():
                # a too-short segment comes back as NaN, which is reported below
                warnings.filterwarnings("ignore", "Segment too short")
                parts.append(smile(signal, rate)[0].T)
        except Exception as error:
            raise CorpusError(path, f"openSMILE failed ({feature_set}): {error}") from None
    # IS09's LLD and delta levels can differ by a frame or two at the end
    frames = min(len(part) for part in parts)
    features = np.hstack([part[:frames] for part in parts]).astype(np.float32)
    if features.size == 0:
        raise CorpusError(path, f"openSMILE returned no {feature_set} frames")
    if not np.isfinite(features).all():
        seconds = signal.shape[1] / rate
        raise CorpusError(path, f"{feature_set} features are NaN/inf ({seconds:.3f} s of audio; too short?)")
    return features


def extract_file(path, feature_set: str = "paper32") -> np.ndarray:
    """The ``(frames, dims)`` float32 features of one wav file, never NaN.

    Raises :class:`CorpusError` naming the file when it cannot be read, openSMILE
    fails, or the features are empty or not finite (e.g. audio shorter than a frame).
    """
    _check(feature_set)
    return _features_of_bytes(_read_bytes(path), path, feature_set)


def _load(entry: Path) -> np.ndarray | None:
    try:
        return np.load(entry)
    except (OSError, ValueError, EOFError):  # missing, or damaged outside our control
        return None


def _cached_or_extracted(path, feature_set: str, folder: Path) -> np.ndarray:
    data = _read_bytes(path)
    entry = folder / f"{audio_key(data)}.npy"
    features = _load(entry)
    if features is None:
        features = _features_of_bytes(data, path, feature_set)
        write_atomically(entry, lambda file: np.save(file, features), binary=True)
    return features


def _job(path, feature_set: str, folder: Path) -> np.ndarray | tuple[str, str]:
    """:func:`_cached_or_extracted`, with a failure returned as (path, reason).

    CorpusError cannot be unpickled (its constructor needs two arguments), so a
    worker process hands the failure back as plain data instead of raising.
    """
    try:
        return _cached_or_extracted(path, feature_set, folder)
    except CorpusError as error:
        return str(error.path), error.reason


def extract(
    corpus_or_paths: Corpus | list,
    feature_set: str = "paper32",
    cache_dir=None,
    progress: bool = True,
    n_jobs: int = 1,
) -> list[np.ndarray]:
    """Features of every utterance, in the order of ``corpus.table`` (or of the paths).

    Each result is cached in ``cache_dir / config_key(feature_set) / <audio hash>.npy``
    (``cache_dir`` defaults to ``settings.home() / "features"``), so a second call
    only reads files. ``n_jobs > 1`` extracts in that many processes (joblib);
    one process manages about 85-100x real time.
    """
    _check(feature_set)
    paths = list(corpus_or_paths.table["path"]) if isinstance(corpus_or_paths, Corpus) else list(corpus_or_paths)
    folder = Path(cache_dir if cache_dir is not None else settings.home() / "features") / config_key(feature_set)
    bar = tqdm(total=len(paths), desc=f"{feature_set} features", unit="utt", disable=not progress)
    if n_jobs == 1:
        results = (_job(path, feature_set, folder) for path in paths)
    else:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_job)(path, feature_set, folder) for path in paths
        )
    features = []
    with bar:
        for result in results:
            if isinstance(result, tuple):
                raise CorpusError(*result)
            features.append(result)
            bar.update()
    return features


@dataclass
class Normaliser:
    """Per-dimension standardisation with statistics of one set of utterances.

    Paper 3.2: "normalized by mean and standard deviation calculated over all of
    the utterance features in the training set". The training code fits one per
    cross-validation fold on the *training speakers' utterances only* and applies
    it to that fold's training, validation and test utterances.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features: list[np.ndarray]) -> Normaliser:
        """Mean and standard deviation over all frames of all ``features``."""
        if not features:
            raise ValueError("cannot fit a Normaliser on no utterances")
        frames = np.concatenate(features).astype(np.float64)
        std = frames.std(axis=0)
        # A constant dimension (F0 of a set without voiced frames) would divide by 0;
        # with std 1 it is only centred and stays finite.
        std[std < 1e-8] = 1.0
        return cls(mean=frames.mean(axis=0), std=std)

    def transform(self, features: list[np.ndarray]) -> list[np.ndarray]:
        """Each utterance standardised with the fitted statistics, as float32."""
        return [((f - self.mean) / self.std).astype(np.float32) for f in features]
