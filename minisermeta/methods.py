"""What a training job learns from: every condition of Table 2, each control and comparison method, behind one interface.

``train.Trainer`` runs the one loop of Algorithm 1 and knows no method by
name; it calls a :class:`Method`'s hooks::

    method.setup(trainer)                     once, after the network is built
    for phase in method.phases:               each phase trains to early stopping
        method.start_phase(phase)
        each network epoch:
            method.epoch_utterances(rng)      the training utterances of the epoch
            method.loss(logits, batch)        the loss of one batch (eq. 6 for the paper's methods)
            method.end_epoch(phase)           after validation: the paper's l/w epoch lives here
        method.state_dict() / load_state_dict(state)   kept and restored with the best network
    method.record()                           what the job's JSON stores of the training utterances

A method's hyper-parameters are its constructor arguments (dataclass fields);
what it learns in a job is set up by ``setup`` and ends in ``_``, as in
scikit-learn. The trainer works on its own copy, so one instance can serve a
whole grid, and instances pickle, so any joblib backend can ship them. A new
method is one class (or one instance of an existing class) added to
:data:`CONDITIONS`; nothing else changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
from torch import Tensor

from . import paper
from .meta import LabelWeights


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

    @property
    def phases(self) -> tuple[str, ...]:
        """Names of the phases, each trained to early stopping with its patience counted afresh."""
        return ("train",)

    def setup(self, trainer) -> None:
        """Prepare for the trainer's training utterances (``trainer.data``, ``trainer.train``)."""
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

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def record(self) -> dict:
        """JSON-ready entries for the job's ``train`` part, one value per training utterance."""
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


@dataclass
class FixedTargets(Method):
    """Eq. (6) with targets s_n and weights w_n that stay as they start: the baselines and the controls."""

    targets: str = "gold"  # "gold" one-hot; "votes": annotators' vote proportions; "smoothed": softmax(label_scale * one-hot)
    class_weighted: bool = True  # w_n fixed at eq. (4); False: every w_n = 1
    sampling: str | None = None  # "over" or "under": rebalance the classes each epoch by resampling
    pretrain: bool = False  # train to early stopping twice ("pretrain", then "train"), as the pretrained variant does
    title: str = ""

    def __post_init__(self):
        if self.targets not in ("gold", "votes", "smoothed"):
            raise ValueError(f"unknown targets {self.targets!r}; choose gold, votes or smoothed")
        if self.sampling not in (None, "over", "under"):
            raise ValueError(f"unknown sampling {self.sampling!r}; choose over, under or None")

    @property
    def phases(self) -> tuple[str, ...]:
        return ("pretrain", "train") if self.pretrain else ("train",)

    def setup(self, trainer) -> None:
        super().setup(trainer)
        data, train, settings = trainer.data, trainer.train, trainer.settings
        self.gold_ = data.gold
        fixed = {"gold": np.eye(data.n_classes, dtype=np.float32)[data.gold[train]],
                 "votes": data.votes[train], "smoothed": None}[self.targets]  # smoothed: l_n at its start
        self.labels_ = LabelWeights(data.gold[train], data.n_classes, label_scale=settings.label_scale,
                                    learn_labels=self.learns_labels, learn_weights=self.learns_weights,
                                    class_weighted=self.class_weighted, targets=fixed).to(trainer.device)
        self.initial_w_ = self.labels_.weights().detach().cpu().numpy()

    learns_labels = learns_weights = False

    def epoch_utterances(self, rng: np.random.Generator) -> np.ndarray:
        return resample(self.train_, self.gold_, self.sampling, rng)

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        return self.labels_.loss(logits, batch.rows)  # eq. (6)

    def state_dict(self) -> dict:
        return self.labels_.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.labels_.load_state_dict(state)

    def record(self) -> dict:
        return dict(initial_w=rounded(self.initial_w_), w=rounded(self.labels_.weights().detach().cpu()),
                    s=rounded(self.labels_.targets().detach().cpu()))


@dataclass
class LearnedLabelsWeights(FixedTargets):
    """The paper's method: l and w learned in an l/w epoch after every network epoch (Algorithm 1)."""

    targets: str = "smoothed"  # where s_n starts; learned labels start from softmax(label_scale * one-hot)
    learn_labels: bool = True  # update l in the l/w epoch
    learn_weights: bool = True  # update w in the l/w epoch
    pretrain_targets: str = "same"  # while pretraining: "same" targets as after, or "gold" one-hot (the paper's text)

    @property
    def learns_labels(self) -> bool:
        return self.learn_labels

    @property
    def learns_weights(self) -> bool:
        return self.learn_weights

    def __post_init__(self):
        super().__post_init__()
        if self.pretrain_targets not in ("same", "gold"):
            raise ValueError(f"unknown pretrain_targets {self.pretrain_targets!r}; choose same or gold")

    def setup(self, trainer) -> None:
        super().setup(trainer)
        self.trainer_ = trainer  # its inference pass gives the l/w epoch its log y_n
        self.optimizers_ = self.labels_.configure_optimizer(trainer.settings.lr_labels, trainer.settings.lr_weights,
                                                           trainer.settings.lw_optimizer)
        data, train = trainer.data, trainer.train
        self.gold_targets_ = LabelWeights(data.gold[train], data.n_classes, learn_labels=False, learn_weights=False,
                                          class_weighted=self.class_weighted,
                                          targets=np.eye(data.n_classes, dtype=np.float32)[data.gold[train]]
                                          ).to(trainer.device) if self.pretrain_targets == "gold" else None
        self.phase_ = None

    def start_phase(self, phase: str) -> None:
        self.phase_ = phase

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        if self.phase_ == "pretrain" and self.gold_targets_ is not None:
            return self.gold_targets_.loss(logits, batch.rows)  # eq. (6) on one-hot gold and eq. (4) weights
        return super().loss(logits, batch)

    def end_epoch(self, phase: str) -> None:
        """The l/w epoch (Algorithm 1, second step); none while pretraining."""
        if phase == "pretrain":
            return
        settings = self.trainer_.settings
        log_probs = self.trainer_.log_probs(self.train_, dropout=settings.lw_dropout)
        self.labels_.update(log_probs, self.optimizers_, steps=settings.lw_steps)


_names = paper.METHOD_NAMES

# The paper's rows of Table 2 that we run (Cycle-GAN stays a quoted row), in the paper's order.
PAPER_CONDITIONS = {
    # Mirsamadi et al.: gold one-hot targets, eq. (4) class weights kept fixed.
    "blstm_att": FixedTargets(title=_names["blstm_att"]),
    # "oversampling or undersampling instead of w": uniform weights, balanced resampling.
    "oversampling": FixedTargets(class_weighted=False, sampling="over", title=_names["oversampling"]),
    "undersampling": FixedTargets(class_weighted=False, sampling="under", title=_names["undersampling"]),
    # Stands in for Ando et al.'s Soft-target, which the paper could only quote: the annotators' vote
    # proportions as targets. Ando et al. also train on the utterances without a majority label; the
    # paper's class set leaves those out, so this row does not, and is named for what it is.
    "soft_target": FixedTargets(targets="votes", title="BLSTM + ATT + vote proportions"),
    # "only updating L, while keeping w fixed"
    "L": LearnedLabelsWeights(learn_weights=False, title=_names["L"]),
    # "only updating w, while keeping L equal to the gold standard labels": s_n = softmax(l_n), l_n fixed
    "w": LearnedLabelsWeights(learn_labels=False, title=_names["w"]),
    "L_w_pretrained": LearnedLabelsWeights(pretrain=True, title=_names["L_w_pretrained"]),
    "L_w": LearnedLabelsWeights(title=_names["L_w"]),
}

CONDITIONS = {
    **PAPER_CONDITIONS,
    # Controls. Everything of L + w except the learning: the targets softmax(label_scale * one-hot)
    # and eq. (4) weights, both fixed. What L + w gains beyond label smoothing is L + w minus this.
    "smoothed": FixedTargets(targets="smoothed", title="BLSTM + ATT + smoothed targets"),
    # The pretrained variant's schedule (train to early stopping, then again) without learning l or w:
    # what L + w pretrained gains beyond its extra epochs is L + w pretrained minus this.
    "smoothed_pretrained": FixedTargets(targets="smoothed", pretrain=True,
                                        title="BLSTM + ATT + smoothed targets, pretrained"),
    # The pretrained variant as the paper describes it: pretrained "with the original labels" (one-hot gold).
    "L_w_pretrained_gold": LearnedLabelsWeights(pretrain=True, pretrain_targets="gold",
                                                title="BLSTM + ATT + L + w pretrained on one-hot gold"),
}


def resolve(conditions=None) -> dict[str, Method]:
    """``{name: method}`` for condition names of :data:`CONDITIONS` (default: the paper's), or a dict passed on."""
    if isinstance(conditions, dict):
        wrong = sorted(name for name, method in conditions.items() if not isinstance(method, Method))
        if wrong:
            raise ValueError(f"condition(s) {wrong} are not minisermeta.methods.Method instances")
        return dict(conditions)
    names = [conditions] if isinstance(conditions, str) else list(PAPER_CONDITIONS if conditions is None else conditions)
    unknown = sorted(set(names) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; choose from {sorted(CONDITIONS)}")
    if not names:
        raise ValueError(f"no condition given; choose from {sorted(CONDITIONS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"condition(s) {repeated} given more than once")
    return {name: CONDITIONS[name] for name in names}

