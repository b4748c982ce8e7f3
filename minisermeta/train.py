"""The one training loop (Algorithm 1) and a job: one method trained and tested on one fold.

For every phase of the method (one, or "pretrain" then "train")::

    for epoch in 1..max_epochs:
        network epoch:  update θ on the method's loss (eq. 6 with targets s_n and weights w_n fixed)
        validation:     cross-entropy against the gold labels of the validation speaker
        end of epoch:   the method's hook; for the paper's method, the l/w epoch (θ frozen)
        early stopping: keep the network (and the method's state) of the lowest validation loss

The loop knows no method by name (``methods``); the choices the paper leaves
open are fields of ``settings.Settings``.
"""

from __future__ import annotations

import copy
import os
import random
import time
from contextlib import contextmanager
from dataclasses import asdict, replace

import numpy as np
import torch
import torch.nn.functional as F

from .dataset import Dataset, collate, length_batches
from .features import Normaliser
from .folds import Fold, job_seed
from .methods import Batch, Method, resolve, rounded
from .model import BLSTMAttention
from .settings import Settings, preset


def set_seed(seed: int) -> np.random.Generator:
    """Seed random, numpy and torch in one call; returns a numpy generator for batching."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(name: str = "auto") -> torch.device:
    return torch.device("cuda" if name == "auto" and torch.cuda.is_available() else
                        "cpu" if name == "auto" else name)


def free_cores() -> int:
    """The cores the 1-minute load average leaves free, at least one.

    A job started beside a running grid (chapter 4's demo, the explorer's
    runs) should take one thread, not fight the grid's jobs for every core:
    two jobs of two threads on two cores ran ten times slower than one thread each.
    """
    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, round(cores - busy)))


@contextmanager
def cpu_threads(threads: int | None = None):
    """Run torch on ``threads`` CPU threads inside the block (None: as it is), then restore the count.

    The count is a choice, not picked from the load here: the same seed and
    thread count give the same numbers, while other thread counts agree only
    to float rounding.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


class Trainer:
    """One job's network and method on a fold of a normalised dataset (``prepare_fold``)."""

    def __init__(self, data: Dataset, method: Method, train: np.ndarray, valid: np.ndarray,
                 settings: Settings, rng: np.random.Generator):
        self.data, self.settings, self.rng = data, settings, rng
        self.train, self.valid = train, valid
        self.device = pick_device(settings.device)
        config = replace(settings.model, n_features=data.frames.shape[1], n_classes=data.n_classes)
        self.model = BLSTMAttention(config).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=settings.lr)
        self.position = {utterance: row for row, utterance in enumerate(train)}  # dataset index -> training row
        # bfloat16 keeps float32's range, so no loss scaling is needed; CPUs here lack fast bfloat16.
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16,
                                       enabled=settings.amp and self.device.type == "cuda")
        self.history: list[dict] = []
        self.method = copy.deepcopy(method)  # the job's own: a grid shares one instance per condition
        start = time.perf_counter()
        self.method.setup(self)
        # a method's own training before the job's (cross-validation), as it was computed where a cache served it
        timed = time.perf_counter() - start
        self.setup_seconds = timed if self.method.setup_seconds_ is None else self.method.setup_seconds_

    def network_epoch(self) -> float:
        """Update θ over the method's utterances of this epoch; mean loss."""
        self.model.train()
        epoch = self.method.epoch_utterances(self.rng)
        total = 0.0
        for batch in length_batches(epoch, self.data.lengths, self.settings.batch_size, self.rng):
            x, lengths = collate(self.data, batch, self.device)
            rows = torch.as_tensor([self.position[i] for i in batch], device=self.device)
            with self.autocast:
                logits = self.model(x, lengths)
            loss = self.method.loss(logits.float(), Batch(x, lengths, rows))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(batch)
        return total / len(epoch)

    @torch.no_grad()
    def log_probs(self, indices: np.ndarray, dropout: bool = False, model: torch.nn.Module | None = None
                  ) -> torch.Tensor:
        """log y_n of the given utterances, in their order (one inference pass of ``model``, default the job's)."""
        model = self.model if model is None else model
        model.train(dropout)
        out = torch.empty(len(indices), self.data.n_classes, device=self.device)
        order = {utterance: row for row, utterance in enumerate(indices)}
        for batch in length_batches(indices, self.data.lengths, 4 * self.settings.batch_size, None):
            x, lengths = collate(self.data, batch, self.device)
            rows = torch.as_tensor([order[i] for i in batch], device=self.device)
            with self.autocast:
                logits = model(x, lengths)
            out[rows] = logits.float().log_softmax(dim=-1)
        return out

    def validation_loss(self, log_probs: torch.Tensor | None = None) -> float:
        """Cross-entropy of the validation speaker's gold labels: the early-stopping criterion.

        ``log_probs``: the validation utterances' log y_n where a batched pass computed them.
        """
        gold = torch.as_tensor(self.data.gold[self.valid], device=self.device)
        return F.nll_loss(self.log_probs(self.valid) if log_probs is None else log_probs, gold).item()

    def fit(self) -> None:
        """Every phase of the method to early stopping; leaves the best network (and method state) in place."""
        for phase in self.method.phases:
            self.method.start_phase(phase)
            self.fit_phase(phase)

    def fit_phase(self, phase: str) -> None:
        """Algorithm 1 until early stopping."""
        best_loss, best_state, waited = float("inf"), None, 0
        for epoch in range(1, self.settings.max_epochs + 1):
            start = time.perf_counter()
            train_loss = self.network_epoch()
            valid_loss = self.validation_loss()
            if not np.isfinite(valid_loss):  # never keep (or report) a diverged network
                raise FloatingPointError(f"validation loss is {valid_loss} after epoch {epoch} ({phase}); "
                                         "lower the learning rate (Settings.lr)")
            network_seconds = time.perf_counter() - start
            self.method.end_epoch(phase)
            self.history.append(dict(phase=phase, epoch=epoch, train_loss=train_loss, valid_loss=valid_loss,
                                     network_seconds=network_seconds,
                                     lw_seconds=time.perf_counter() - start - network_seconds))
            if valid_loss < best_loss:
                best_loss, waited = valid_loss, 0
                best_state = copy.deepcopy((self.model.state_dict(), self.method.state_dict()))
            else:
                waited += 1
                if waited >= self.settings.patience:
                    break
        self.model.load_state_dict(best_state[0])
        self.method.load_state_dict(best_state[1])


def prepare_fold(dataset: Dataset, fold: Fold) -> tuple[Dataset, np.ndarray, np.ndarray, np.ndarray]:
    """The dataset normalised with statistics of the fold's training speakers only, and its train/valid/test indices."""
    train, valid, test = fold.split(dataset)
    normaliser = Normaliser.fit(dataset.features(train))
    return dataset.with_frames(normaliser.transform([dataset.frames])[0]), train, valid, test


def named(method: str | Method, name: str | None = None) -> tuple[str, Method]:
    """(name, method) for a condition name of ``methods.CONDITIONS`` or a Method (named ``name``, else its class)."""
    if isinstance(method, Method):
        return name or type(method).__name__, method
    condition, found = next(iter(resolve([method]).items()))
    return name or condition, found


def make_trainer(dataset: Dataset, method: Method, fold: Fold, seed: int, settings: Settings) -> tuple[Trainer, np.ndarray]:
    """A job's trainer, seeded and on its fold's normalised data, and the fold's test utterances."""
    rng = set_seed(job_seed(seed, fold) if settings.fold_seeds else seed)
    data, train, valid, test = prepare_fold(dataset, fold)
    return Trainer(data, method, train, valid, settings, rng), test


def job_result(trainer: Trainer, test: np.ndarray, name: str, fold: Fold, seed: int, seconds: float,
               batch: int = 1) -> dict:
    """The JSON-ready result of a trained job (see :func:`train_job`); ``batch``: the jobs trained with it at once."""
    data = trainer.data
    test_probs = trainer.log_probs(test).exp().cpu().numpy()
    valid_pred = trainer.log_probs(trainer.valid).argmax(1).cpu().numpy()  # what choices on validation read

    def labels(indices):
        return dict(utterances=data.utterances[indices].tolist(), gold=data.gold[indices].tolist(),
                    truth=None if data.truth is None else data.truth[indices].tolist())

    return dict(
        condition=name,
        classes=list(data.classes),  # what the label indices below name
        method=trainer.method.describe(),
        fold=fold.name,
        valid_speaker=fold.valid,
        seed=seed,
        settings=asdict(trainer.settings),
        device=str(trainer.device),
        threads=torch.get_num_threads(),  # a CPU sums in an order set by its thread count: rerun at this one to match
        batch=batch,  # stacked networks (batched.py) sum otherwise too, and draw other dropout masks
        seconds=seconds + trainer.setup_seconds,  # the method's setup and the network's training
        setup_seconds=trainer.setup_seconds,
        setup_cached=trainer.method.setup_seconds_ is not None,  # its setup's work read from a cache, not redone
        epochs=trainer.history,
        test=dict(labels(test), pred=test_probs.argmax(1).tolist(), probs=rounded(test_probs)),
        valid=dict(utterances=data.utterances[trainer.valid].tolist(), gold=data.gold[trainer.valid].tolist(),
                   pred=valid_pred.tolist()),
        train=dict(labels(trainer.train), **trainer.method.record()),
    )


def train_job(dataset: Dataset, method: str | Method, fold: Fold, seed: int = 0, settings: Settings | None = None,
              name: str | None = None, threads: int | None = None) -> dict:
    """Train and test one (method, fold, seed) job; the JSON-ready job result.

    ``method`` is a condition name of ``methods.CONDITIONS`` or a
    :class:`~minisermeta.methods.Method` (recorded under ``name``, default its
    class name). The result holds the class names of its label indices, the
    settings and the method, per-epoch curves, the test predictions, the
    validation speaker's predictions (what a choice of hyper-parameters may
    read; never the truth), and what the method records of every training
    utterance (for the paper's methods: initial and learned w_n and s_n).
    ``threads``: CPU threads (default: torch's current setting).
    """
    settings = settings or preset()
    name, method = named(method, name)
    with cpu_threads(threads):
        trainer, test = make_trainer(dataset, method, fold, seed, settings)
        start = time.perf_counter()
        trainer.fit()
        return job_result(trainer, test, name, fold, seed, time.perf_counter() - start)
