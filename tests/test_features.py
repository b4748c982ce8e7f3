"""Feature extraction: the paper's 32 features, F0 on male and female voices, cache, normalisation."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from minisermeta import features
from minisermeta.corpora import Corpus, CorpusError
from minisermeta.features import Normaliser, extract, extract_file, feature_names

RATE = 16_000
F0, VOICING = feature_names("paper32").index("F0"), feature_names("paper32").index("voicingProb")


def write(path, signal):
    sf.write(path, signal.astype(np.float32), RATE, subtype="PCM_16")
    return path


def sawtooth(f0, seconds):
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * (2 * ((t * f0) % 1) - 1)


def glottal(f0, seconds):
    """Harmonics falling at -12 dB/octave (a glottal source spectrum) with 2 % vibrato."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / RATE
    harmonics = np.arange(1, int(RATE / 2 / (f0 * 1.03)))
    signal = (np.sin(np.outer(phase, harmonics)) / harmonics**2).sum(axis=1)
    return 0.3 * signal / np.abs(signal).max()


def with_silence(voice, seconds=0.3):
    pad = np.zeros(int(seconds * RATE))
    return np.concatenate([pad, voice, pad])


def test_paper32_has_32_columns_and_a_frame_per_10_ms(tmp_path):
    names = feature_names("paper32")
    assert len(names) == 32 and len(set(names)) == 32
    assert names[:16] == [f"mfcc{k}" for k in range(1, 13)] + ["loudness", "F0", "voicingProb", "zcr"]
    assert names[16:] == [f"{name}_de" for name in names[:16]]
    x = extract_file(write(tmp_path / "a.wav", glottal(150, 2.0)))
    assert x.dtype == np.float32 and x.shape[1] == 32
    assert 190 <= x.shape[0] <= 201
    assert np.isfinite(x).all()


@pytest.mark.parametrize("make", [sawtooth, glottal])
@pytest.mark.parametrize("f0", [120, 220])
def test_f0_tracks_male_and_female_pitch(tmp_path, make, f0):
    x = extract_file(write(tmp_path / "v.wav", with_silence(make(f0, 1.5))))
    # frame n starts at n * 10 ms; keep frames well inside the voiced 0.3-1.8 s
    voiced = x[40:170]
    assert np.all(np.abs(voiced[:, F0] - f0) < 0.1 * f0), voiced[:, F0]
    assert np.all(voiced[:, VOICING] > 0.6)
    assert np.all(x[:20, F0] == 0) and np.all(x[-10:, F0] == 0)


def test_silence_gives_zero_f0_and_finite_features(tmp_path):
    x = extract_file(write(tmp_path / "s.wav", np.zeros(RATE)))
    assert np.isfinite(x).all()
    assert np.all(x[:, F0] == 0) and np.all(x[:, VOICING] == 0)


@pytest.mark.parametrize("feature_set, dims", [("egemaps", 25), ("is09", 32)])
def test_comparison_sets_run(tmp_path, feature_set, dims):
    x = extract_file(write(tmp_path / "a.wav", glottal(200, 1.0)), feature_set)
    assert x.shape[1] == dims == len(feature_names(feature_set))
    assert 90 <= x.shape[0] <= 101 and np.isfinite(x).all()


def test_unknown_feature_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown feature set"):
        extract_file(tmp_path / "a.wav", "mfcc")


def test_corrupt_and_too_short_files_raise_corpus_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(CorpusError, match="broken.wav"):
        extract_file(bad)
    with pytest.raises(CorpusError, match="broken.wav"):
        extract([bad], cache_dir=tmp_path / "cache", progress=False)
    short = write(tmp_path / "short.wav", glottal(200, 0.01))
    with pytest.raises(CorpusError, match="short.wav"):
        extract_file(short)
    with pytest.raises(CorpusError, match="missing.wav"):
        extract_file(tmp_path / "missing.wav")


def test_second_extraction_loads_from_the_cache(tmp_path, monkeypatch):
    paths = [write(tmp_path / f"{f0}.wav", glottal(f0, 0.5)) for f0 in (110, 180, 250)]
    cache = tmp_path / "cache"
    first = extract(paths, cache_dir=cache, progress=False)
    entries = list((cache / features.config_key("paper32")).glob("*"))
    assert len(entries) == 3 and all(e.suffix == ".npy" for e in entries)

    def no_opensmile(*args):
        raise AssertionError("openSMILE ran although the features were cached")

    monkeypatch.setattr(features, "_features_of_bytes", no_opensmile)
    second = extract(paths, cache_dir=cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_cache_is_keyed_by_audio_content_and_config(tmp_path):
    path, cache = tmp_path / "a.wav", tmp_path / "cache"
    write(path, glottal(120, 0.5))
    (before,) = extract([path], cache_dir=cache, progress=False)
    write(path, glottal(240, 0.5))  # same name, new content
    (after,) = extract([path], cache_dir=cache, progress=False)
    assert len(list((cache / features.config_key("paper32")).glob("*.npy"))) == 2
    assert np.median(after[20:30, F0]) > 1.5 * np.median(before[20:30, F0])
    keys = {features.config_key(name) for name in features.FEATURE_SETS}
    assert len(keys) == 3


def test_normaliser_standardises_training_frames_and_survives_constant_columns():
    rng = np.random.default_rng(0)
    train = [rng.normal(5, 3, size=(n, 4)).astype(np.float32) for n in (50, 80, 120)]
    for utterance in train:
        utterance[:, 2] = 7.0  # e.g. F0 on a set without voiced frames
    normaliser = Normaliser.fit(train)
    frames = np.concatenate(normaliser.transform(train))
    assert np.isfinite(frames).all() and frames.dtype == np.float32
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(frames.std(axis=0)[[0, 1, 3]], 1, atol=1e-4)
    assert np.all(frames[:, 2] == 0)
    (test,) = normaliser.transform([np.full((3, 4), 100.0)])
    assert np.isfinite(test).all()


@pytest.mark.filterwarnings("ignore:.*tasks which were still being processed")
def test_extract_follows_the_corpus_order_in_parallel_too(tmp_path):
    pitches = (100, 160, 230, 130)
    table = pd.DataFrame(
        {
            "utterance": [f"Ses01F_impro01_M00{k}" for k in range(4)],
            "path": [str(write(tmp_path / f"{k}.wav", glottal(f0, 0.6))) for k, f0 in enumerate(pitches)],
            "speaker": "Ses01M",
            "session": "Ses01",
            "gold": "neutral",
            "votes": [("neutral",)] * 4,
            "self_votes": [()] * 4,
        }
    )
    corpus = Corpus(table)
    for n_jobs in (1, 2):
        result = extract(corpus, cache_dir=tmp_path / f"cache{n_jobs}", progress=False, n_jobs=n_jobs)
        medians = [np.median(x[20:40, F0]) for x in result]
        np.testing.assert_allclose(medians, pitches, rtol=0.1)
    (tmp_path / "1.wav").write_bytes(b"not a wav")
    with pytest.raises(CorpusError, match="1.wav"):
        extract(corpus, cache_dir=tmp_path / "cache3", progress=False, n_jobs=2)


@pytest.mark.parametrize("speaker, emotion", [("Ses03M", "sadness"), ("Ses01M", "neutral"), ("Ses02F", "anger")])
def test_f0_follows_synthemo_speech(tmp_path, speaker, emotion):
    """The lowest male voice of SynthEmo (sad, ~95 Hz) and a high female one, against the true contour."""
    from minisermeta.corpora.synthemo import synthesise

    audio, truth = synthesise(emotion, 1.0, speaker, np.random.default_rng(1))
    estimate = extract_file(write(tmp_path / "s.wav", audio))[:, F0]
    n = min(len(truth), len(estimate))
    truth, estimate = truth[:n], estimate[:n]
    assert np.mean(estimate[truth > 0] > 0) > 0.9  # voiced frames are found
    both = (truth > 0) & (estimate > 0)
    assert np.mean(np.abs(estimate[both] - truth[both]) < 0.1 * truth[both]) > 0.95


# -- a cache entry is checked as a fresh extraction is -------------------------------------------------------


def _entry(cache, path):
    return cache / features.config_key("paper32") / f"{features.audio_key(path.read_bytes())}.npy"


def _with_nan(x):
    x = x.copy()
    x[3, 5] = np.nan
    return x


@pytest.mark.parametrize(
    "spoil, problem",
    [
        (_with_nan, "hold NaN or infinite values"),
        (lambda x: x[:, :31], r"have the shape \(\d+, 31\), not \(frames, 32\)"),
        (lambda x: x[:0], "have no frame"),
        (lambda x: x.astype(np.float64), "are float64, not float32"),
        (lambda x: x[:, 0], r"have the shape \(\d+,\), not"),
        (None, "cannot be loaded"),
    ],
)
def test_bad_cache_entry_is_extracted_again_with_a_warning(tmp_path, spoil, problem):
    path, cache = write(tmp_path / "Ses01F_impro01_F000.wav", glottal(150, 0.5)), tmp_path / "cache"
    (fresh,) = extract([path], cache_dir=cache, progress=False)
    entry = _entry(cache, path)
    if spoil is None:
        entry.write_bytes(entry.read_bytes()[:100])  # a truncated .npy
    else:
        np.save(entry, spoil(fresh))
    with pytest.warns(UserWarning, match=problem) as record:
        (again,) = extract([path], cache_dir=cache, progress=False)
    (message,) = [str(w.message) for w in record]
    assert message.startswith(f"{path}: its cached paper32 features {entry} ") and "extracted them again" in message
    assert np.array_equal(again, fresh)
    assert np.array_equal(np.load(entry), fresh)  # the entry is repaired


def test_bad_cache_entries_warn_once_in_parallel_too(tmp_path):
    paths = [write(tmp_path / f"{k}.wav", glottal(f0, 0.5)) for k, f0 in enumerate((110, 180, 250))]
    cache = tmp_path / "cache"
    fresh = extract(paths, cache_dir=cache, progress=False)
    for path, x in zip(paths[1:], fresh[1:]):
        np.save(_entry(cache, path), _with_nan(x))
    replaced = r"1.wav: its cached .* \(and 1 more bad cache entries, replaced too\)"
    with pytest.warns(UserWarning, match=replaced) as record:
        again = extract(paths, cache_dir=cache, progress=False, n_jobs=2)
    assert len([w for w in record if "cache" in str(w.message)]) == 1
    assert all(np.array_equal(a, b) for a, b in zip(again, fresh))


def test_bad_cache_entry_that_cannot_be_extracted_again_raises(tmp_path):
    short = write(tmp_path / "short.wav", glottal(200, 0.01))  # openSMILE gives no usable frame
    cache = tmp_path / "cache"
    entry = _entry(cache, short)
    entry.parent.mkdir(parents=True)
    np.save(entry, np.full((1, 32), np.nan, dtype=np.float32))
    with pytest.raises(CorpusError, match="short.wav") as error:
        extract([short], cache_dir=cache, progress=False)
    assert f"and its cached features {entry} hold NaN or infinite values" in str(error.value)


def test_nan_samples_are_refused_by_extraction_too(tmp_path):
    path = tmp_path / "nan.wav"
    signal = glottal(150, 0.5).astype(np.float32)
    signal[100] = np.nan
    sf.write(path, signal, RATE, subtype="FLOAT")
    with pytest.raises(CorpusError, match="nan.wav: audio holds NaN or infinite samples"):
        extract_file(path)


def test_stale_temporary_files_are_removed(tmp_path):
    import os
    import time

    path, cache = write(tmp_path / "a.wav", glottal(150, 0.5)), tmp_path / "cache"
    folder = cache / features.config_key("paper32")
    folder.mkdir(parents=True)
    stale, young, other = folder / "tmpk3j2h1g0.tmp", folder / "tmpa1b2c3d4.tmp", folder / "notes.tmp"
    for file in (stale, young, other):
        file.write_bytes(b"half an array")
    two_hours_ago = time.time() - 7200
    for file in (stale, other):
        os.utime(file, (two_hours_ago, two_hours_ago))
    extract([path], cache_dir=cache, progress=False)
    assert not stale.exists()  # left by a killed run
    assert young.exists()  # may be another process's write in progress
    assert other.exists()  # not a name write_atomically makes


def test_a_full_disk_names_the_feature_cache(tmp_path, monkeypatch):
    import errno

    from minisermeta import features

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(features, "write_atomically", full)
    path = write(tmp_path / "Ses01F_impro01_F000.wav", glottal(150, 0.5))
    with pytest.raises(OSError, match=r"cannot write the feature cache \(No space left on device\).*cache"):
        extract([path], cache_dir=tmp_path / "cache", progress=False)
