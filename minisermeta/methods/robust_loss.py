"""A robust loss: generalized cross-entropy (Zhang & Sabuncu, 2018) in place of the baseline's cross-entropy."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .base import Batch, rounded
from .labels_weights import FixedTargets


@dataclass
class GeneralizedCrossEntropy(FixedTargets):
    """The baseline (gold one-hot targets, eq. 4 weights) with the loss (1 - p^q) / q of the gold class's probability p.

    q -> 0 is the cross-entropy; q = 1 is the mean absolute error, which is
    robust to label noise but slow to fit. In between, the loss's gradient is
    the cross-entropy's times p^q: an utterance the network finds unlikely
    under its gold label counts less, so p^q is the weight GCE gives each
    label without ever being told which are wrong. Per utterance, the loss is
    divided by w_n as in eq. (6); with soft targets it is their expectation.
    """

    q: float = 0.7  # Zhang & Sabuncu's choice for all their experiments
    title: str = "BLSTM + ATT + generalized cross-entropy"

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.q <= 1:
            raise ValueError(f"GCE's q must be in (0, 1], got {self.q}")

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        probs = logits.float().softmax(dim=-1)
        per_class = (1 - probs.clamp_min(1e-12) ** self.q) / self.q  # clamp: no infinite gradient of p^q at p = 0
        per_utterance = (self.labels_.targets(batch.rows) * per_class).sum(dim=-1)
        return (per_utterance / self.labels_.weights(batch.rows)).mean()

    def record(self) -> dict:
        """The baseline's record and ``trust``: p^q of each gold label under the kept network, its gradient's weight."""
        return dict(super().record(), trust=rounded(self.target_probability().cpu() ** self.q))
