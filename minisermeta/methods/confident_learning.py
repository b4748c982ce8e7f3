"""Confident learning (Northcutt et al., 2021) with ``cleanlab``: find the wrong labels from held-out predictions,
then train without them or with them relabelled.

The held-out predictions cost about four baseline trainings and are the same
for both actions of one (fold, seed) job, so they are cached on disk
(``minisermeta.held_out``), keyed by everything they are computed from; a job
served from the cache is the job that computed them, number for number.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import held_out
from ..corpora.base import session_of
from ..meta import LabelWeights, class_frequency_weights
from .base import rounded
from .labels_weights import FixedTargets


def held_out_groups(speakers: np.ndarray, most: int) -> np.ndarray:
    """A group number per training utterance for cross-validation: its session (IEMOCAP's two speakers of a
    session stay together), sessions dealt round-robin into at most ``most`` groups."""
    sessions = sorted({session_of(s) for s in speakers})
    group = {session: i % most for i, session in enumerate(sessions)}
    return np.array([group[session_of(s)] for s in speakers])


@dataclass
class ConfidentLearning(FixedTargets):
    """Label issues found by ``cleanlab.filter.find_label_issues`` on out-of-fold predictions; then the baseline.

    Before training, the training speakers are split by session into at most
    ``folds`` groups; for each, the baseline is trained on the others (early
    stopping on the fold's validation speaker) and predicts the group's
    utterances, so every training utterance gets class probabilities from a
    network that never trained on it. Confident learning counts, per (gold,
    likely true) class pair, the utterances whose predicted probability of
    another class passes that class's mean self-confidence, and flags as many
    of the most doubtful (by margin) as the counts say are wrong (``filter_by``). The job's
    network then trains as the baseline on the utterances left (``"drop"``,
    the eq. 4 weights counted on them) or on all of them with the flagged ones
    relabelled to the predicted class (``"relabel"``).
    """

    action: str = "drop"  # "drop" the flagged utterances, or "relabel" them to the out-of-fold prediction
    folds: int = 4  # cross-validation groups of training sessions at most (4: every session its own on IEMOCAP)
    filter_by: str = "prune_by_noise_rate"  # cleanlab's default rule
    title: str = ""

    def __post_init__(self):
        super().__post_init__()
        if self.action not in ("drop", "relabel"):
            raise ValueError(f"unknown confident-learning action {self.action!r}; choose drop or relabel")
        if not self.class_weighted or self.sampling is not None:  # its drop and relabel set w from eq. 4 themselves
            raise ValueError("confident learning keeps the baseline's eq. 4 weights and no resampling; "
                             "leave class_weighted and sampling at their defaults")
        if not (isinstance(self.folds, int) and self.folds >= 2):
            raise ValueError(f"confident learning needs folds >= 2, got {self.folds!r}")
        if not self.title:
            self.title = f"BLSTM + ATT + confident learning ({self.action})"

    @property
    def cost(self) -> float:
        """The job and, before it, one baseline per held-out group on the other groups' (folds - 1) / folds
        (benchmarks/method_cost.py: a setup of 9.5 baseline epochs before 3-epoch jobs, at 4 folds)."""
        return float(self.folds)

    def setup(self, trainer) -> None:
        from cleanlab.filter import find_label_issues

        super().setup(trainer)
        data, train = trainer.data, trainer.train
        gold = data.gold[train]
        self.probs_ = self.out_of_fold_probs(trainer)
        self.flagged_ = find_label_issues(gold, self.probs_, filter_by=self.filter_by, n_jobs=1)
        n_classes = data.n_classes
        if self.action == "relabel":
            labels = np.where(self.flagged_, self.probs_.argmax(axis=1), gold)
            self.labels_ = LabelWeights(labels, n_classes, learn_labels=False, learn_weights=False,
                                        targets=np.eye(n_classes, dtype=np.float32)[labels]).to(trainer.device)
        else:
            weights = np.ones(len(train))  # the dropped ones never train; 1 keeps the mean of w at 1 (eq. 8)
            weights[~self.flagged_] = class_frequency_weights(gold[~self.flagged_], n_classes)
            self.labels_ = LabelWeights(gold, n_classes, learn_labels=False, learn_weights=False, weights=weights,
                                        targets=np.eye(n_classes, dtype=np.float32)[gold]).to(trainer.device)
        self.initial_w_ = self.labels_.weights().detach().cpu().numpy()

    def out_of_fold_probs(self, trainer) -> np.ndarray:
        """Class probabilities of every training utterance from a baseline that did not train on its group.

        Read from ``held_out.cache()`` where the same inputs computed them
        before; the random streams then move on as computing them moves them,
        so the job trains on as if it had.
        """
        data, train = trainer.data, trainer.train
        groups = held_out_groups(data.speakers[train], self.folds)
        if len(set(groups)) < 2:
            raise ValueError(f"confident learning needs training speakers of two sessions at least; this fold's "
                             f"are all of {session_of(data.speakers[train[0]])}")
        path = held_out.cache() / f"{held_out.key(trainer, groups)}.npz"
        cached = held_out.read(path, (len(train), data.n_classes))
        if cached is not None:
            for _ in sorted(set(groups)):
                trainer.rng.spawn(1)  # as computing them spawns one generator per held-out network
            held_out.restore_torch_rng(trainer.device, cached)
            self.setup_seconds_ = float(cached["seconds"])
            return cached["probs"]
        start = time.perf_counter()
        probs = np.zeros((len(train), data.n_classes), dtype=np.float64)
        for group in sorted(set(groups)):
            inner = type(trainer)(data, FixedTargets(), train[groups != group], trainer.valid, trainer.settings,
                                  trainer.rng.spawn(1)[0])  # type(trainer): this module imports no train
            inner.fit()
            probs[groups == group] = inner.log_probs(train[groups == group]).exp().cpu().numpy()
        held_out.write(path, trainer.device, probs, time.perf_counter() - start)
        return probs

    def epoch_utterances(self, rng: np.random.Generator) -> np.ndarray:
        return self.train_ if self.action == "relabel" else self.train_[~self.flagged_]

    def record(self) -> dict:
        """The baseline's record (``s``: the labels trained on), ``flagged`` and ``trust``: the out-of-fold
        probability of each gold label (cleanlab's self-confidence)."""
        gold_prob = self.probs_[np.arange(len(self.train_)), self.trainer_.data.gold[self.train_]]
        return dict(super().record(), flagged=self.flagged_.astype(int).tolist(), trust=rounded(gold_prob))
