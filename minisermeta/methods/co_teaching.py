"""Co-teaching (Han et al., 2018): two networks, each trained on the utterances the other finds easy."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..model import BLSTMAttention
from .base import Batch, rounded
from .labels_weights import FixedTargets


@dataclass
class CoTeaching(FixedTargets):
    """The baseline's network and a peer of the same shape, started from other random weights.

    In every batch each network ranks the utterances by its own cross-entropy
    against the gold labels and hands the fraction R(T) with the smallest
    loss to the *other* network, which trains on those alone (eq. 6, with the
    baseline's eq. 4 weights). Networks that start apart make different
    mistakes, so one does not confirm its own errors. Han et al.'s kept
    fraction after T network epochs, R(T) = 1 - forget_rate * min(T /
    ramp_epochs, 1), starts at 1 because networks fit clean labels before
    noisy ones (memorisation comes late). Early stopping can keep a network
    of an epoch before the ramp ends, which then left out less. The trainer's network is the one validated,
    early-stopped and tested; the peer trains inside :meth:`loss`.

    Han et al. set the forget rate to the noise rate, which they know; here it
    is a hyper-parameter to choose on validation speakers.
    """

    forget_rate: float = 0.2  # tau: Han et al.'s value for their lowest noise (20 % of labels wrong)
    ramp_epochs: int = 10  # T_k: Han et al.'s
    title: str = "BLSTM + ATT + co-teaching"
    cost = 2.0  # two networks, each a forward and a backward pass per batch (1.97 in benchmarks/method_cost.py)

    def __post_init__(self):
        super().__post_init__()
        if not 0 <= self.forget_rate < 1:
            raise ValueError(f"co-teaching's forget_rate must be in [0, 1), got {self.forget_rate}")
        if not (isinstance(self.ramp_epochs, int) and self.ramp_epochs >= 1):
            raise ValueError(f"co-teaching's ramp_epochs must be an integer >= 1, got {self.ramp_epochs!r}")

    def setup(self, trainer) -> None:
        super().setup(trainer)
        self.peer_ = BLSTMAttention(copy.deepcopy(trainer.model.config)).to(trainer.device)  # fresh random weights
        self.peer_optimizer_ = torch.optim.Adam(self.peer_.parameters(), lr=trainer.settings.lr)
        self.epochs_ = 0  # network epochs finished: T of R(T)
        self.kept_ = np.ones(len(trainer.train), dtype=bool)  # this epoch: which utterances trained the network
        self.kept_last_ = self.kept_.copy()

    def forget(self) -> float:
        """1 - R(T): the fraction of each batch left out after ``epochs_`` network epochs."""
        return self.forget_rate * min(self.epochs_ / self.ramp_epochs, 1.0)

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        targets = self.labels_.targets(batch.rows)
        self.peer_.train()
        with self.trainer_.autocast:
            peer_logits = self.peer_(batch.x, batch.lengths).float()
        keep = max(1, len(batch.rows) - round(self.forget() * len(batch.rows)))

        def easiest(logits: Tensor) -> Tensor:  # the keep utterances of smallest cross-entropy
            return (-(targets * logits.detach().log_softmax(dim=-1)).sum(dim=-1)).argsort()[:keep]

        mine, theirs = easiest(logits), easiest(peer_logits)
        peer_loss = self.labels_.loss(peer_logits[mine], batch.rows[mine])
        self.peer_optimizer_.zero_grad()
        peer_loss.backward()
        self.peer_optimizer_.step()
        self.kept_[batch.rows.cpu().numpy()] = False
        self.kept_[batch.rows[theirs].cpu().numpy()] = True
        return self.labels_.loss(logits[theirs], batch.rows[theirs])

    def end_epoch(self, phase: str) -> None:
        self.epochs_ += 1
        self.kept_last_ = self.kept_.copy()

    def state_dict(self) -> dict:
        return dict(labels=super().state_dict(), peer=self.peer_.state_dict(),
                    peer_optimizer=self.peer_optimizer_.state_dict(), epochs=self.epochs_, kept=self.kept_last_)

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state["labels"])
        self.peer_.load_state_dict(state["peer"])
        self.peer_optimizer_.load_state_dict(state["peer_optimizer"])
        self.epochs_, self.kept_last_ = state["epochs"], state["kept"]

    def record(self) -> dict:
        """The baseline's record, ``flagged``: left out in the kept network's epoch (by the peer of that epoch),
        and ``trust``: the kept peer's probability of each gold label after it (what its ranking reads)."""
        return dict(super().record(), flagged=(~self.kept_last_).astype(int).tolist(),
                    trust=rounded(self.target_probability(model=self.peer_).cpu()))
