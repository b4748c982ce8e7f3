"""Small in-memory datasets for fast training tests (no audio, no openSMILE)."""

import numpy as np

from minisermeta.dataset import Dataset
from minisermeta.model import ModelConfig
from minisermeta.train import preset

SPEAKERS = ["Ses01F", "Ses01M", "Ses02F", "Ses02M", "Ses03F", "Ses03M"]


def toy_dataset(per_speaker=24, dims=6, seed=0, flip=0.2) -> Dataset:
    """Frames whose mean depends on the true class; a fraction ``flip`` of gold labels is wrong."""
    rng = np.random.default_rng(seed)
    n = per_speaker * len(SPEAKERS)
    truth = np.tile(np.arange(4), n // 4 + 1)[:n]
    rng.shuffle(truth)
    gold = np.where(rng.random(n) < flip, rng.integers(0, 4, n), truth)
    lengths = rng.integers(5, 40, n)
    centres = rng.normal(size=(4, dims))
    features = [rng.normal(size=(length, dims)) + centres[t] for length, t in zip(lengths, truth)]
    votes = np.eye(4)[gold] * 0.7 + 0.3 * np.eye(4)[truth]
    return Dataset(
        utterances=np.array([f"{s}_toy_{s[-1]}{i:03d}" for i, s in enumerate(np.repeat(SPEAKERS, per_speaker))]),
        speakers=np.repeat(SPEAKERS, per_speaker),
        gold=gold,
        votes=votes.astype(np.float32),
        truth=truth,
        frames=np.concatenate(features).astype(np.float32),
        offsets=np.concatenate([[0], np.cumsum(lengths)]),
    )


def without_timing(result: dict) -> dict:
    """A job result without its wall-clock fields and whether a cache served its setup, for comparing two runs."""
    return dict(result, seconds=None, setup_seconds=None, setup_cached=None, epochs=[dict(e, network_seconds=None, lw_seconds=None) for e in result["epochs"]])


def tiny_settings(**overrides):
    fields = dict(model=ModelConfig(fc_units=16, lstm_units=8, dropout=0.1), max_epochs=3, patience=2,
                  batch_size=8, device="cpu")
    return preset("quick", **{**fields, **overrides})
