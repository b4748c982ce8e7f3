"""The paper's methods and their controls: eq. (6) with targets s_n and weights w_n, fixed or learned (Algorithm 1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from ..meta import LabelWeights
from .base import Batch, Method, resample, rounded


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
        one_hot = np.eye(data.n_classes, dtype=np.float32)[data.gold[train]]
        if self.targets == "votes" and np.array_equal(data.votes[train], one_hot):
            # a corpus without votes keeps gold as each utterance's vote row: "votes" would be the baseline, unsaid
            raise ValueError(f"{self.title or 'targets=votes'}: every training utterance's vote proportions are its "
                             f"gold label (the corpus records no annotator votes, or they all agree), so training on "
                             f"them is the baseline; run it on a corpus with votes (IEMOCAP, CREMA-D, SynthEmo)")
        fixed = {"gold": one_hot, "votes": data.votes[train], "smoothed": None}[self.targets]  # smoothed: l_n at its start
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

    def target_probability(self, model=None) -> Tensor:
        """Each training utterance's probability of its target s_n under the kept network (or ``model``)."""
        probs = self.trainer_.log_probs(self.train_, model=model).exp()
        return (self.labels_.targets() * probs).sum(dim=-1)

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
    def cost(self) -> float:
        """The l/w epoch's inference pass over the training utterances: about 40 % more per network epoch
        (small preset: 2.35 s per epoch for L, 1.66 for the baseline)."""
        return 1.4 if self.learn_labels or self.learn_weights else 1.0

    @property
    def learns_weights(self) -> bool:
        return self.learn_weights

    def __post_init__(self):
        super().__post_init__()
        if self.pretrain_targets not in ("same", "gold"):
            raise ValueError(f"unknown pretrain_targets {self.pretrain_targets!r}; choose same or gold")

    def setup(self, trainer) -> None:
        super().setup(trainer)
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

    def end_epoch_inputs(self, phase: str) -> np.ndarray | None:
        # a pass with dropout draws its own masks, which a batched pass would not draw alike
        return None if phase == "pretrain" or self.trainer_.settings.lw_dropout else self.train_

    def end_epoch(self, phase: str) -> None:
        """The l/w epoch (Algorithm 1, second step); none while pretraining."""
        if phase == "pretrain":
            return
        settings = self.trainer_.settings
        log_probs = self.trainer_.log_probs(self.train_, dropout=settings.lw_dropout)
        self.labels_.update(log_probs, self.optimizers_, steps=settings.lw_steps)
