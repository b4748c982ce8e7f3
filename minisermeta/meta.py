"""The per-utterance parameters l_n and w_n of the paper (section 2.2, eq. 4-8).

Each training utterance n gets label logits l_n (C values; their softmax s_n is
the target the classifier learns from, eq. 7) and a contribution weight w_n
that *divides* its loss (eq. 6). Training alternates (Algorithm 1): one epoch
updates the network with l and w fixed, then one epoch updates l and w with the
network fixed, after which w is rescaled to mean 1 (eq. 8).

Because the network is frozen during the l/w epoch, the model's log-probabilities
log y_n are constants there: compute them once by an inference pass (eval mode,
no dropout), then ``LabelWeights.update`` steps l and w on them. An l/w epoch
costs what inference costs.

Two things worth knowing before reading the code:

* w divides the loss, so a *lower* w_n means a *higher* weight. Eq. (4) gives
  frequent classes larger w, i.e. less importance.
* The w update moves weight away from high-loss utterances: for fixed
  cross-entropies CE_n, minimising sum_n CE_n / w_n subject to mean(w) = 1 gives
  w_n proportional to sqrt(CE_n) (``closed_form_weights``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn


@dataclass
class MetaConfig:
    # Choices the paper leaves open; defaults are argued in LabelWeights.update.
    label_scale: float = 1.0  # l_n starts as label_scale * one-hot(gold); the paper's text reads as 1, PENCIL uses 10
    lr_labels: float = 0.1  # Adam lr of l: about how far (in logits) a label moves per l/w epoch
    lr_weights: float = 0.05  # Adam lr of log w: about how far log w_n moves per l/w epoch
    steps_per_epoch: int = 1  # full-batch Adam steps per l/w epoch (1: each l_n, w_n updated once, as in one data pass)
    learn_labels: bool = True  # update l (False: targets stay the initial labels, condition "BLSTM + ATT + w")
    learn_weights: bool = True  # update w (False: w stays at its initial value, condition "BLSTM + ATT + L")
    class_weighted: bool = True  # initialise w by eq. (4); False: every w_n = 1 (e.g. with over/undersampling)


def class_frequency_weights(gold: np.ndarray, n_classes: int) -> np.ndarray:
    """Initial weights w_n of eq. (4)-(5), as printed.

    w_n = count(c*_n) / mean_m count(c*_m), where c*_n is the argmax of the
    initial (one-hot) label of utterance n, i.e. its gold class, and count(c)
    is the number of training utterances of class c. The weights have mean 1
    (eq. 8) by construction.

    The loss *divides* by w_n (eq. 6), so a frequent class gets a *larger* w
    and therefore *less* importance: on the paper's Table 1 totals (595, 1084,
    1708, 1103) the weights are about 0.47, 0.86, 1.35 and 0.87.
    """
    gold = np.asarray(gold)
    count = np.bincount(gold, minlength=n_classes)[gold].astype(np.float64)  # eq. (4) numerator
    return count / count.mean()  # eq. (4)


def init_label_logits(gold: np.ndarray, n_classes: int, scale: float = 1.0) -> np.ndarray:
    """Initial label logits l_n = scale * one-hot(gold_n), shape (N, C).

    The paper initialises l_n "with the one-hot gold standard emotion label",
    i.e. scale 1. But the targets are s_n = softmax(l_n) (eq. 7), and for 4
    classes a one-hot logit vector puts only e / (e + 3) = 0.475 on the gold
    class. PENCIL (Yi & Wu, 2019), which the paper builds on, uses scale 10.
    The probability on the gold class, e^k / (e^k + C - 1) with C = 4:

        scale k      1      2      3      5      10
        s_gold     0.475  0.711  0.870  0.980  0.99986

    Targets this soft reward hedging: at scale 1, a network with logit margin
    4 on the gold class has cross-entropy 2.15, more than the 1.39 of a
    network that outputs the uniform distribution.
    """
    return scale * np.eye(n_classes, dtype=np.float32)[np.asarray(gold)]


def closed_form_weights(per_sample_ce: np.ndarray) -> np.ndarray:
    """The w minimising sum_n CE_n / w_n subject to mean(w) = 1 and w > 0.

    The Lagrangian gives CE_n / w_n^2 = lambda for all n, so w_n is
    proportional to sqrt(CE_n): high-loss utterances get a high w, i.e. less
    weight. This is where the w update of ``LabelWeights.update`` goes when the
    network's outputs stay fixed.
    """
    root = np.sqrt(np.asarray(per_sample_ce, dtype=np.float64))
    return root / root.mean()


class LabelWeights(nn.Module):
    """l (N, C) and w (N,) for the N training utterances, indexed by utterance index.

    w is stored as ``log_w`` so it stays positive. Build with
    ``LabelWeights(gold, n_classes, config)`` (or with fixed ``targets`` for the
    baselines that train on one-hot or vote distributions); use ``loss`` in the network's epoch
    and ``update`` in the l/w epoch, with the optimiser from ``configure_optimizer``.
    """

    def __init__(self, gold: np.ndarray, n_classes: int, config: MetaConfig | None = None,
                 targets: np.ndarray | None = None):
        super().__init__()
        self.config = config = config or MetaConfig()
        logits = init_label_logits(gold, n_classes, config.label_scale)
        if targets is not None:
            # Fixed target distributions (gold one-hot, vote proportions) of the
            # baselines: l = log(targets), so softmax(l) returns them exactly
            # (a zero becomes -inf and gets probability 0).
            if config.learn_labels:
                raise ValueError("fixed targets cannot be learned; use learn_labels=False")
            with np.errstate(divide="ignore"):
                logits = np.log(np.asarray(targets, dtype=np.float32))
        w = class_frequency_weights(gold, n_classes) if config.class_weighted else np.ones(len(logits))
        self.logits = nn.Parameter(torch.as_tensor(logits), requires_grad=config.learn_labels)
        self.log_w = nn.Parameter(torch.as_tensor(np.log(w), dtype=torch.float32), requires_grad=config.learn_weights)

    def targets(self, idx: Tensor | None = None) -> Tensor:
        """s_n = softmax(l_n) (eq. 7) for utterances ``idx`` (all when None), shape (len(idx), C)."""
        return self.logits[_rows(idx)].softmax(dim=-1)  # eq. (7)

    def weights(self, idx: Tensor | None = None) -> Tensor:
        """w_n for utterances ``idx`` (all when None).

        Returned as exp(log w_n) / mean_m exp(log w_m): eq. (8) holds by
        construction. After ``renormalise`` the divisor is 1, so the value is
        just exp(log w_n); the division matters for the gradient (see ``update``).
        """
        w = self.log_w.exp()
        return w[_rows(idx)] / w.mean()  # eq. (8)

    def loss(self, logits: Tensor, idx: Tensor, reduction: str = "mean") -> Tensor:
        """Eq. (6) for the network's ``logits`` (B, C) of utterances ``idx`` (B,).

        -sum_c s_{n,c} log y_{n,c} / w_n, with y_n = softmax(logits_n) (eq. 3).
        The paper writes the loss of one utterance; averaging over the batch
        (``reduction="mean"``) is our choice, ``"sum"`` and ``"none"`` are there too.
        """
        return self._loss(logits.log_softmax(dim=-1), idx, reduction)

    def _loss(self, log_probs: Tensor, idx: Tensor | None, reduction: str) -> Tensor:
        per_sample = -(self.targets(idx) * log_probs).sum(dim=-1) / self.weights(idx)  # eq. (6)
        if reduction == "none":
            return per_sample
        return per_sample.sum() if reduction == "sum" else per_sample.mean()

    def configure_optimizer(self) -> torch.optim.Adam:
        """Adam with ``lr_labels`` for l and ``lr_weights`` for log w.

        Both parameters are always in the optimiser; one with learning switched
        off has no gradient, and Adam skips it.
        """
        return torch.optim.Adam([
            {"params": [self.logits], "lr": self.config.lr_labels},
            {"params": [self.log_w], "lr": self.config.lr_weights},
        ])

    @torch.no_grad()
    def renormalise(self) -> None:
        """Rescale w to mean 1 (eq. 8): subtract log mean(exp(log w)) from log w."""
        self.log_w -= self.log_w.exp().mean().log()  # eq. (8)

    def update(self, log_probs: Tensor, optimizer: torch.optim.Optimizer, idx: Tensor | None = None) -> None:
        """One l/w epoch (Algorithm 1, second step) on frozen model outputs.

        ``log_probs`` (len(idx), C) are the network's log y_n for utterances
        ``idx`` (all N, in order, when None), from an inference pass in eval
        mode; they are constants here. Takes ``steps_per_epoch`` full-batch
        Adam steps on eq. (6) summed over the utterances, each followed by
        ``renormalise`` (eq. 8).

        Defaults (the paper gives no learning rates for l and w). Adam scales
        each coordinate's step to about its learning rate, whatever the size
        of the gradient, so the learning rates read as distances per step:
        ``lr_labels=0.1`` moves a label logit by up to ~0.1 per l/w epoch, so
        with ``label_scale=1`` (gold logit 1, others 0) a label the network
        keeps contradicting flips after about 5 epochs, not at the first
        disagreement of a half-trained network (at ``label_scale=10`` the same
        flip takes ~50 epochs: scale ``lr_labels`` with it). PENCIL needs a huge SGD rate
        for labels (thousands) because its per-sample gradients are tiny; Adam
        removes that need. ``lr_weights=0.05`` moves log w_n by up to ~0.05 per
        epoch: the spread of sqrt(CE) (a factor of a few) is reached in tens of
        epochs, about a training run. ``steps_per_epoch=1`` matches one data
        pass of the paper, in which every l_n and w_n gets one step.

        Why w is divided by its mean inside ``weights``: d(CE_n / w_n)/dw_n =
        -CE_n / w_n^2 < 0 for every n, so the plain gradient raises every w
        and only eq. (8) keeps the problem bounded. "Step on log w, then
        rescale" has the wrong fixed point. With SGD it stops where the step is
        the same for all n, i.e. CE_n / w_n constant: w proportional to CE
        (stepping on w itself, then rescaling, stops at CE^(1/3)); with Adam,
        whose steps are all about +lr, it wanders. We checked both numerically.
        With w = exp(log w) / mean(exp(log w)) the loss is a function
        on the constraint set itself: its gradient ignores a common shift of
        log w and vanishes exactly where CE_n / w_n^2 is the same for all n,
        i.e. at w proportional to sqrt(CE), the constrained minimum.
        """
        if not (self.config.learn_labels or self.config.learn_weights):
            return
        log_probs = log_probs.detach()
        for _ in range(self.config.steps_per_epoch):
            optimizer.zero_grad()
            self._loss(log_probs, idx, reduction="sum").backward()
            optimizer.step()
            if self.config.learn_weights:
                self.renormalise()


def _rows(idx: Tensor | None):
    return slice(None) if idx is None else idx
