"""The method interface (:class:`Method`), the batch it reads, and helpers every method shares."""

from __future__ import annotations

from dataclasses import asdict
from typing import NamedTuple

import numpy as np
from torch import Tensor


def rounded(values, decimals: int = 5) -> list:
    """``values`` (an array or tensor) as nested lists of floats rounded to ``decimals``, for a job's JSON.

    Rounded in float64: a float32 rounded to 5 decimals still prints as a long
    float64 (0.02663 as 0.02662999927997589), which doubles a job file's size.
    """
    return np.asarray(values, dtype=np.float64).round(decimals).tolist()


class Batch(NamedTuple):
    """One network step's utterances, as the trainer hands them to ``Method.loss``."""

    x: Tensor  # (B, T, dims) zero-padded frames
    lengths: Tensor  # (B,) valid frames per utterance
    rows: Tensor  # (B,) rows of the utterances among the training utterances (trainer.train)


class Method:
    """The interface; see the module docstring for when the trainer calls each hook."""

    title = ""  # the row name in tables (dataclass subclasses make it a field)
    # Whether ``batched.BatchedTrainer`` can train it: its loss needs only the logits it is handed. A method that
    # differentiates through the network itself (a look-ahead step) trains on the single-job trainer.
    batchable = True
    # A job's time relative to the baseline's with the same phases, for estimates (``estimate.job_seconds``); the
    # comparison methods' values are measured by benchmarks/method_cost.py.
    cost = 1.0
    # Seconds the setup's work took where a cache served it (confident learning's held-out predictions), so that
    # a job records what it cost, not how fast it was read; None: the trainer times the setup.
    setup_seconds_ = None

    @property
    def phases(self) -> tuple[str, ...]:
        """Names of the phases, each trained to early stopping with its patience counted afresh."""
        return ("train",)

    def setup(self, trainer) -> None:
        """Prepare for the trainer's training utterances (``trainer.data``, ``trainer.train``)."""
        self.trainer_ = trainer  # its network, inference pass (``log_probs``) and settings
        self.train_ = trainer.train

    def start_phase(self, phase: str) -> None:
        """Before the first network epoch of each phase."""

    def epoch_utterances(self, rng: np.random.Generator) -> np.ndarray:
        """Dataset indices of the utterances of the next network epoch: all training utterances."""
        return self.train_

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        """The mean loss of a batch, from the network's ``logits`` (B, C) (float32)."""
        raise NotImplementedError

    def end_epoch(self, phase: str) -> None:
        """After each network epoch and its validation pass (network weights stay fixed here)."""

    def end_epoch_inputs(self, phase: str) -> np.ndarray | None:
        """The utterances whose ``trainer_.log_probs`` (eval mode, the job's network) ``end_epoch`` reads, so that
        ``batched.BatchedTrainer`` computes them for many jobs in one pass; None: none (or another pass)."""
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def record(self) -> dict:
        """JSON-ready entries for the job's ``train`` part, one value per training utterance.

        Two entries have a meaning across methods (``report.label_correction``
        reads them): ``trust``, how much the method trusts each gold label (a
        weight or a probability; higher is more), and ``flagged``, 1 where it
        dropped or relabelled the utterance. ``s`` holds the targets it trained on.
        """
        return {}

    def describe(self) -> dict:
        """The method as a job's JSON records it: its class and hyper-parameters."""
        return {"type": type(self).__name__, **asdict(self)}


def resample(indices: np.ndarray, gold: np.ndarray, how: str | None, rng: np.random.Generator) -> np.ndarray:
    """The training utterances of one epoch: all of them, or classes balanced by over/undersampling."""
    if how is None:
        return indices
    groups = [indices[gold[indices] == c] for c in np.unique(gold[indices])]
    if how == "over":  # every class up to the largest: all of its utterances plus random repeats
        size = max(len(g) for g in groups)
        return np.concatenate([np.concatenate([g, rng.choice(g, size - len(g))]) for g in groups])
    if how == "under":  # every class down to the smallest, a fresh draw each epoch
        size = min(len(g) for g in groups)
        return np.concatenate([rng.choice(g, size, replace=False) for g in groups])
    raise ValueError(f"unknown sampling {how!r}")
