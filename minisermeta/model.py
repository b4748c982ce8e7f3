"""BLSTM with attention pooling: the emotion classifier of the paper (Fig. 1, eq. 1-3).

Per frame, a fully connected ReLU layer; then a bidirectional LSTM over the
frames; then attention pooling over time into one vector per utterance; then a
linear layer giving one logit per emotion class (section 3.2: 512, 128 and 4
units, dropout 0.5 on every layer).

Utterances have different lengths, so a batch is padded. Padding must never
change an utterance's output. The BLSTM is run as two one-directional LSTMs
over the padded batch: the forward one is causal, so padding after the last
valid frame cannot reach a valid frame; the backward one reads each utterance
reversed *within its own length* (padding stays at the end), so it starts at
the last valid frame, as a packed sequence would. This is exact, and on a CPU
about four times faster to train than ``pack_padded_sequence``, whose backward
pass is slow. The attention scores of padded frames are set to -inf before the
softmax of eq. (1), so they get weight exactly 0.

The model returns *logits*. The softmax of eq. (3) is applied once, by the loss
(``meta.LabelWeights.loss`` or ``F.cross_entropy``) or by ``predict_proba``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class ModelConfig:
    n_features: int = 32  # frame features: the paper's 32 openSMILE descriptors (section 3.2)
    n_classes: int = 4  # emotion classes C: happiness, sadness, neutral, anger
    fc_units: int = 512  # units of the per-frame fully connected ReLU layer
    lstm_units: int = 128  # LSTM units PER DIRECTION; the BLSTM output h_t has 2 * lstm_units
    dropout: float = 0.5  # dropout rate, applied after every layer (section 3.2)


class BLSTMAttention(nn.Module):
    """The BLSTM + attention classifier of Fig. 1.

    ``forward(x, lengths)`` takes ``x`` of shape (B, T, n_features), zero padded
    after each utterance's ``lengths[b]`` valid frames, and returns logits of
    shape (B, n_classes).
    """

    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        self.config = config = config or ModelConfig()
        self.fc = nn.Linear(config.n_features, config.fc_units)
        self.lstm_forward = nn.LSTM(config.fc_units, config.lstm_units, batch_first=True)
        self.lstm_backward = nn.LSTM(config.fc_units, config.lstm_units, batch_first=True)
        # Zero start: every frame scores 0, so attention begins as the plain mean
        # over valid frames and learns from there.
        self.u = nn.Parameter(torch.zeros(2 * config.lstm_units))
        self.out = nn.Linear(2 * config.lstm_units, config.n_classes)
        self.dropout = Dropout(config.dropout)

    def forward(self, x: Tensor, lengths: Tensor, return_attention: bool = False):
        """Logits (B, C); with ``return_attention=True`` also alpha (B, T), 0 on padding."""
        T = x.shape[1]
        h = self.dropout(F.relu(self.fc(x)))
        lengths = lengths.to(x.device)
        steps = torch.arange(T, device=x.device)
        valid = steps < lengths.unsqueeze(1)  # (B, T)
        # index that reverses each utterance within its length; padding stays put
        reverse = torch.where(valid, lengths.unsqueeze(1) - 1 - steps, steps)
        forward, _ = self.lstm_forward(h)
        backward, _ = self.lstm_backward(_take(h, reverse))
        h = torch.cat([forward, _take(backward, reverse)], dim=-1)
        h = self.dropout(h)  # h_{n,t}, (B, T, 2 * lstm_units)

        scores = (h @ self.u).masked_fill(~valid, float("-inf"))  # h_{n,t} u^T
        alpha = scores.softmax(dim=1)  # eq. (1)
        pooled = (alpha.unsqueeze(-1) * h).sum(dim=1)  # eq. (2): h'_n
        logits = self.out(self.dropout(pooled))  # eq. (3) before its softmax
        return (logits, alpha) if return_attention else logits

    def predict_proba(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Class probabilities y_n (B, C): the softmax of eq. (3) on the logits."""
        return self(x, lengths).softmax(dim=-1)  # eq. (3)


class Dropout(nn.Module):
    """Inverted dropout, as ``nn.Dropout``, with the mask drawn as ``uniform >= p``.

    Same distribution as ``nn.Dropout``; on a CPU, drawing uniforms and comparing
    is about 4x faster than the ``bernoulli_`` that ``nn.Dropout`` calls, which
    took a quarter of a training step (``benchmarks/efficiency.py``).
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        mask = torch.rand_like(x).ge_(self.p).mul_(1 / (1 - self.p))  # in place: no bool-to-float copy
        return x * mask


def _take(x: Tensor, index: Tensor) -> Tensor:
    """x[b, index[b, t]] for a (B, T, D) tensor and a (B, T) index."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
