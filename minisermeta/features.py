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

Features are cached under ``environment.home() / "features"``, keyed by the audio
file's *content* and by the feature configuration, so renaming or moving a
corpus costs nothing and editing the config invalidates the cache. A cache entry
is checked as a fresh extraction is (float32, the set's columns, at least one
frame, all finite); a bad one is extracted again, with a warning.
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from . import environment
from .atomic import write_atomically
from .corpora.base import Corpus, CorpusError, CorpusWarning
from .corpora.iemocap import SAMPLE_RATE

FEATURE_SETS = ("paper32", "egemaps", "is09")
CONFIG_DIR = Path(__file__).parent / "configs"

# (config file, or name in opensmile.FeatureSet; the feature levels to stack side by side, names in
# opensmile.FeatureLevel). Names, not openSMILE's objects: opensmile and soundfile are imported only where audio is
# read, so a machine that trains on cached or packed features (a GPU node) needs neither.
_SOURCES = {
    "paper32": (str(CONFIG_DIR / "paper32.conf"), ("paper32",)),
    "egemaps": ("eGeMAPSv02", ("LowLevelDescriptors",)),
    "is09": ("IS09", ("LowLevelDescriptors", "LowLevelDescriptors_Deltas")),
}


def _check(feature_set: str) -> None:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; choose from {FEATURE_SETS}")


@lru_cache(maxsize=None)
def _extractors(feature_set: str) -> tuple["opensmile.Smile", ...]:
    """One ``opensmile.Smile`` per level, built once per process (building one is slow)."""
    import opensmile

    _check(feature_set)
    config, levels = _SOURCES[feature_set]
    config = config if config.endswith(".conf") else opensmile.FeatureSet[config]
    return tuple(
        opensmile.Smile(
            feature_set=config,
            feature_level=level if level == "paper32" else opensmile.FeatureLevel[level],
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
    digest.update(f"opensmile {version('opensmile')}, {SAMPLE_RATE} Hz".encode())
    return f"{feature_set}-{digest.hexdigest()}"


def audio_key(data: bytes) -> str:
    """The cache file name of an audio file: a hash of its bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@lru_cache(maxsize=None)
def _width(feature_set: str) -> int:
    return len(feature_names(feature_set))


def _problem(features, feature_set: str) -> str | None:
    """What is wrong with a feature array of ``feature_set`` (as a predicate), or None.

    The one check of both fresh and cached features: a float32 ``(frames, dims)``
    array with the set's ``dims``, at least one frame, every value finite.
    """
    if not isinstance(features, np.ndarray):
        return "are not an array"
    if features.dtype != np.float32:
        return f"are {features.dtype}, not float32"
    if features.ndim != 2 or features.shape[1] != _width(feature_set):
        return f"have the shape {features.shape}, not (frames, {_width(feature_set)})"
    if features.shape[0] == 0:
        return "have no frame"
    if not np.isfinite(features).all():
        return "hold NaN or infinite values"
    return None


def _read_bytes(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CorpusError(path, f"cannot read audio: {error.strerror}") from None


def _features_of_bytes(data: bytes, path, feature_set: str) -> np.ndarray:
    import soundfile as sf

    try:
        signal, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises several types for a bad file
        raise CorpusError(path, f"cannot read audio: {error}") from None
    if signal.size == 0:
        raise CorpusError(path, "audio file holds no samples")
    if not np.isfinite(signal).all():
        raise CorpusError(path, "audio holds NaN or infinite samples: the recording is damaged")
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
    problem = _problem(features, feature_set)
    if problem:
        seconds = signal.shape[1] / rate
        raise CorpusError(path, f"its {feature_set} features {problem} ({seconds:.3f} s of audio; too short?)")
    return features


def extract_file(path, feature_set: str = "paper32") -> np.ndarray:
    """The ``(frames, dims)`` float32 features of one wav file, never NaN.

    Raises :class:`CorpusError` naming the file when it cannot be read, openSMILE
    fails, or the features are empty or not finite (e.g. audio shorter than a frame).
    """
    _check(feature_set)
    return _features_of_bytes(_read_bytes(path), path, feature_set)


def _load(entry: Path, feature_set: str) -> tuple[np.ndarray | None, str | None]:
    """A cache entry's features if it holds good ones, else (None, what is wrong; None when it is absent)."""
    try:
        features = np.load(entry, allow_pickle=False)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, EOFError) as error:  # damaged outside our control
        return None, f"cannot be loaded ({error})"
    if not isinstance(features, np.ndarray):  # a .npz archive
        features.close()
        return None, "are not a .npy array"
    problem = _problem(features, feature_set)
    return (None, problem) if problem else (features, None)


def _cached_or_extracted(path, feature_set: str, folder: Path) -> tuple[np.ndarray, str | None]:
    """The features of ``path``, from the cache or extracted, and a warning when a bad cache entry was replaced."""
    data = _read_bytes(path)
    entry = folder / f"{audio_key(data)}.npy"
    features, problem = _load(entry, feature_set)
    if features is not None:
        return features, None
    try:
        features = _features_of_bytes(data, path, feature_set)
    except CorpusError as error:
        if problem:
            raise CorpusError(path, f"{error.reason}; and its cached features {entry} {problem}") from None
        raise
    try:
        write_atomically(entry, lambda file: np.save(file, features), binary=True)
    except OSError as error:  # a full or read-only disk: say which cache, not just the errno
        raise OSError(error.errno, f"cannot write the feature cache ({error.strerror}); free space there or move "
                                   "it with MINISERMETA_HOME", str(entry)) from error
    if problem:
        return features, f"{path}: its cached {feature_set} features {entry} {problem}; extracted them again"
    return features, None


def _job(path, feature_set: str, folder: Path) -> tuple[np.ndarray | None, str | None, tuple[str, str] | None]:
    """:func:`_cached_or_extracted` as ``(features, warning, None)``, a failure as ``(None, None, (path, reason))``.

    CorpusError cannot be unpickled (its constructor needs two arguments), and
    a warning raised in a worker process never reaches the caller, so both
    travel back as plain data.
    """
    try:
        return (*_cached_or_extracted(path, feature_set, folder), None)
    except CorpusError as error:
        return None, None, (str(error.path), error.reason)


STALE_TEMPORARY_S = 3600


def _remove_stale_temporaries(folder: Path) -> None:
    """Delete the ``tmp*.tmp`` files a killed run left in ``folder``, if an hour old.

    :func:`~minisermeta.atomic.write_atomically` holds its temporary file only
    while ``np.save`` writes it (milliseconds) and then renames or deletes it,
    so one not modified for an hour belongs to no live writer; the younger ones
    may belong to another process extracting into the same cache now, and are
    left alone.
    """
    limit = time.time() - STALE_TEMPORARY_S
    for stray in folder.glob("tmp*.tmp"):
        try:
            if stray.stat().st_mtime < limit:
                stray.unlink()
        except OSError:  # removed meanwhile by another run, or not ours to remove
            pass


def extract(
    corpus_or_paths: Corpus | list,
    feature_set: str = "paper32",
    cache_dir=None,
    progress: bool = True,
    n_jobs: int = 1,
    strict: bool = True,
) -> list[np.ndarray | None]:
    """Features of every utterance, in the order of ``corpus.table`` (or of the paths).

    Each result is cached in ``cache_dir / config_key(feature_set) / <audio hash>.npy``
    (``cache_dir`` defaults to ``environment.home() / "features"``), so a second call
    only reads files. ``n_jobs > 1`` extracts in that many processes (joblib);
    one process manages about 85-100x real time. A cache entry that fails the
    checks of a fresh extraction is extracted again, with one warning for all
    of them; ``tmp*.tmp`` files an hour old, left by a killed run, are removed.
    A file whose features cannot be extracted raises :class:`CorpusError`; with
    ``strict=False`` its entry is ``None`` instead, with one warning for all of them.
    """
    _check(feature_set)
    paths = list(corpus_or_paths.table["path"]) if isinstance(corpus_or_paths, Corpus) else list(corpus_or_paths)
    folder = Path(cache_dir if cache_dir is not None else environment.home() / "features") / config_key(feature_set)
    _remove_stale_temporaries(folder)
    bar = tqdm(total=len(paths), desc=f"{feature_set} features", unit="utt", disable=not progress)
    if n_jobs == 1:
        results = (_job(path, feature_set, folder) for path in paths)
    else:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_job)(path, feature_set, folder) for path in paths
        )
    features, replaced, failed = [], [], []
    with bar:
        for result, replacement, failure in results:
            if failure and strict:
                raise CorpusError(*failure)
            if failure:
                failed.append(str(CorpusError(*failure)))
            features.append(result)
            if replacement:
                replaced.append(replacement)
            bar.update()
    if replaced:
        more = f" (and {len(replaced) - 1} more bad cache entries, replaced too)" if len(replaced) > 1 else ""
        warnings.warn(replaced[0] + more, stacklevel=2)
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        warnings.warn(f"skipped {len(failed)} utterance(s) whose features cannot be extracted: {failed[0]}{more}",
                      CorpusWarning, stacklevel=2)
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
