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

import numpy as np
import torch
from torch import Tensor, nn


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
    """l (N, C) and w (N,) of the N training utterances, indexed by their row.

    w is stored as ``log_w`` so it stays positive. ``loss`` is eq. (6) for a
    network epoch; ``update`` is the l/w epoch, with the optimiser from
    ``configure_optimizer``. With ``targets`` (gold one-hot, vote proportions)
    the targets are those distributions, fixed. ``weights`` gives the initial
    w itself instead of eq. (4) (``class_weighted``) or ones.
    """

    def __init__(self, gold: np.ndarray, n_classes: int, label_scale: float = 1.0, learn_labels: bool = True,
                 learn_weights: bool = True, class_weighted: bool = True, targets: np.ndarray | None = None,
                 weights: np.ndarray | None = None):
        super().__init__()
        logits = init_label_logits(gold, n_classes, label_scale)
        if targets is not None:
            # Fixed target distributions: l = log(targets), so softmax(l) returns
            # them exactly (a zero becomes -inf and gets probability 0).
            if learn_labels:
                raise ValueError("fixed targets cannot be learned; use learn_labels=False")
            with np.errstate(divide="ignore"):
                logits = np.log(np.asarray(targets, dtype=np.float32))
        w = weights if weights is not None else \
            class_frequency_weights(gold, n_classes) if class_weighted else np.ones(len(logits))
        self.logits = nn.Parameter(torch.as_tensor(logits), requires_grad=learn_labels)
        self.log_w = nn.Parameter(torch.as_tensor(np.log(w), dtype=torch.float32), requires_grad=learn_weights)

    @property
    def learns(self) -> bool:
        return self.logits.requires_grad or self.log_w.requires_grad

    def targets(self, idx: Tensor | None = None) -> Tensor:
        """s_n = softmax(l_n) (eq. 7) for utterances ``idx`` (all when None), shape (len(idx), C)."""
        return self.logits[_rows(idx)].softmax(dim=-1)  # eq. (7)

    def weights(self, idx: Tensor | None = None) -> Tensor:
        """w_n for utterances ``idx`` (all when None).

        Returned as exp(log w_n) / mean_m exp(log w_m): eq. (8) holds by
        construction. After ``renormalise`` the divisor is 1, so the value is
        just exp(log w_n); the division matters for the gradient (``update``).
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

    def configure_optimizer(self, lr_labels: float = 0.1, lr_weights: float = 0.05,
                            kind: str = "adam") -> list[torch.optim.Optimizer]:
        """The optimisers of the l/w epoch: l with ``kind`` ("adam" or "sgd") at ``lr_labels``, log w with Adam.

        ``Settings`` argues the defaults. Adam divides each step by the
        gradient's running size, so every l_n moves about ``lr_labels`` per
        step however sure the network is. Plain SGD (the optimiser PENCIL
        uses for its labels) steps by the gradient itself:
        l_{n,k} moves by ``lr_labels`` * s_{n,k} (CE_n - CE_{n,k}) / w_n, with
        CE_{n,k} = -log y_{n,k} and CE_n their mean under s_n. A class gains
        where the network's log-probability of it is above that mean, in
        proportion to the weight the target already gives it: at label scale
        1 (s 0.175 on each other class) a label the network contradicts can
        flip; at scale 10 (s about 5e-5) it practically cannot. w keeps Adam
        whatever ``kind`` is, so the choice changes the label update alone.
        Both parameters are always optimised; one with learning switched off
        has no gradient, and its optimiser skips it.
        """
        if kind not in ("adam", "sgd"):
            raise ValueError(f"unknown l/w optimiser {kind!r}; choose adam or sgd")
        if kind == "adam":  # one Adam over both, as the paper's reading has always run
            return [torch.optim.Adam([{"params": [self.logits], "lr": lr_labels},
                                      {"params": [self.log_w], "lr": lr_weights}])]
        return [torch.optim.SGD([self.logits], lr=lr_labels), torch.optim.Adam([self.log_w], lr=lr_weights)]

    @torch.no_grad()
    def renormalise(self) -> None:
        """Rescale w to mean 1 (eq. 8): subtract log mean(exp(log w)) from log w."""
        self.log_w -= self.log_w.exp().mean().log()  # eq. (8)

    def update(self, log_probs: Tensor, optimizers: list[torch.optim.Optimizer], steps: int = 1,
               idx: Tensor | None = None) -> None:
        """One l/w epoch (Algorithm 1, second step) on frozen model outputs.

        ``log_probs`` (len(idx), C) are the network's log y_n for utterances
        ``idx`` (all N, in order, when None), constants here. Takes ``steps``
        full-batch steps of ``optimizers`` (``configure_optimizer``) on eq. (6)
        summed over the utterances, each followed by ``renormalise`` (eq. 8).
        Why the learning rates read as distances, and why w is divided by its
        mean in ``weights`` (the fixed point is then w ∝ sqrt(CE)): the chapter
        "Learning labels and weights".
        """
        if not self.learns:
            return
        log_probs = log_probs.detach()
        for _ in range(steps):
            for optimizer in optimizers:
                optimizer.zero_grad()
            self._loss(log_probs, idx, reduction="sum").backward()
            for optimizer in optimizers:
                optimizer.step()
            if self.log_w.requires_grad:
                self.renormalise()


def _rows(idx: Tensor | None):
    return slice(None) if idx is None else idx
