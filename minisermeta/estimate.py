"""How long a grid will take on this machine: one timed network epoch and a rough count of epochs.

A job's time is its network epochs, each costing what the method says
(``Method.cost``: an l/w epoch's inference pass, a peer network, a
look-ahead, a cross-validation before training). One network epoch and validation
pass of a baseline job is timed here; how many epochs early stopping will let
a job run is not known in advance, so the estimate assumes
:data:`EPOCHS_PER_PATIENCE` times the patience per phase, and says it is rough.
"""

from __future__ import annotations

import time

import numpy as np

from .dataset import Dataset
from .folds import Fold
from .methods import CONDITIONS, Method, resample
from .settings import Settings
from .train import cpu_threads, make_trainer

# Epochs a phase runs, per epoch of patience: the small preset's study jobs (patience 5) ran a
# median of 15 to 27 epochs per condition (results/study-small).
EPOCHS_PER_PATIENCE = 4
def epoch_seconds(dataset: Dataset, fold: Fold, settings: Settings, threads: int = 1) -> float:
    """Seconds of one network epoch and validation pass of a baseline job on ``fold``, timed here."""
    with cpu_threads(threads):
        trainer, _ = make_trainer(dataset, CONDITIONS["blstm_att"], fold, 0, settings)
        start = time.perf_counter()
        trainer.network_epoch()
        trainer.validation_loss()
        return time.perf_counter() - start


def job_seconds(dataset: Dataset, method: Method, fold: Fold, settings: Settings, epoch: float) -> float:
    """A rough time of one job of ``method``, from ``epoch`` (:func:`epoch_seconds`).

    Counts the method's phases, the utterances of its epochs (oversampling
    trains on more than there are) and its ``cost`` per network epoch
    relative to the baseline's, counted in its last phase only (the paper's
    pretraining has no l/w epoch). Builds nothing: a method's setup can train.
    """
    train = fold.split(dataset)[0]
    size = len(resample(train, dataset.gold, getattr(method, "sampling", None), np.random.default_rng(0))) / len(train)
    epochs = min(settings.max_epochs, EPOCHS_PER_PATIENCE * settings.patience)
    return (len(method.phases) - 1 + method.cost) * epochs * epoch * size


def grid_seconds(dataset: Dataset, jobs: dict[str, int], methods: dict[str, Method], fold: Fold,
                 settings: Settings, epoch: float, workers: int) -> float:
    """A rough wall time of ``jobs`` (``{condition: how many jobs}``) on ``workers`` processes side by side."""
    total = sum(count * job_seconds(dataset, methods[name], fold, settings, epoch) for name, count in jobs.items()
                if count)
    return total / max(1, workers)


def describe(seconds: float) -> str:
    """``seconds`` as a person reads a duration: "40 s", "12 min", "3.5 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 90 * 60 else f"{seconds / 3600:.1f} h"
