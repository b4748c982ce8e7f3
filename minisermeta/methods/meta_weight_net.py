"""Meta-Weight-Net (Shu et al., 2019): a small network maps each utterance's loss to its weight, learned by look-ahead."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from ..dataset import collate
from .base import Batch, rounded
from .labels_weights import FixedTargets


class WeightNet(nn.Module):
    """Shu et al.'s weighting function: loss -> 100 ReLU units -> a weight in (0, 1) (sigmoid)."""

    def __init__(self, hidden: int = 100):
        super().__init__()
        self.hidden, self.out = nn.Linear(1, hidden), nn.Linear(hidden, 1)

    def forward(self, losses: Tensor) -> Tensor:
        return torch.sigmoid(self.out(F.relu(self.hidden(losses.unsqueeze(-1))))).squeeze(-1)


def weighted_mean(values: Tensor, weights: Tensor) -> Tensor:
    """Sum of weights * values over the sum of weights: Shu et al. normalise a batch's weights to sum 1."""
    return (weights * values).sum() / weights.sum().clamp_min(1e-12)


@dataclass
class MetaWeightNet(FixedTargets):
    """The baseline with a weight v_n = V(CE_n) on each utterance's loss, V learned to help a held-out set.

    Every network step first takes a *virtual* step of the network on the
    batch's weighted loss (:meth:`_look_ahead`), keeping the graph; then the
    cross-entropy of a batch of held-out utterances under the stepped network
    is differentiated back through that step to V's parameters, and V takes
    one Adam step; the
    network then takes its real step on the loss weighted by the updated V.
    V's input is the loss alone, so it can only learn a shape (which losses
    count more); with noisy labels it learns to count large losses less.

    The held-out set here is the fold's validation speaker, whose gold labels
    are as noisy as the training speakers': Shu et al. assume a small *clean*
    meta set, which an emotion corpus does not have. The same speaker also
    decides early stopping, so its validation loss is no longer unseen.
    Per utterance the loss is still divided by w_n as in eq. (6).
    """

    hidden: int = 100  # units of V (Shu et al.)
    meta_lr: float = 1e-3  # Adam learning rate of V (Shu et al.'s code)
    meta_weight_decay: float = 1e-4  # of V (Shu et al.'s code)
    title: str = "BLSTM + ATT + Meta-Weight-Net"
    batchable = False  # the look-ahead differentiates through the job's own network
    # A virtual step (a forward, a backward that keeps its graph), a held-out forward and a backward through both,
    # then the real step: 9.5 baseline epochs per epoch on a CPU (benchmarks/method_cost.py, small preset).
    cost = 9.5

    def setup(self, trainer) -> None:
        super().setup(trainer)
        self.net_ = WeightNet(self.hidden).to(trainer.device)
        self.net_optimizer_ = torch.optim.Adam(self.net_.parameters(), lr=self.meta_lr,
                                               weight_decay=self.meta_weight_decay)
        self.meta_rng_ = trainer.rng.spawn(1)[0]  # draws the held-out batches; leaves the trainer's draws as they are

    def _cross_entropy(self, logits: Tensor, rows: Tensor) -> Tensor:
        return -(self.labels_.targets(rows) * logits.log_softmax(dim=-1)).sum(dim=-1)

    def _look_ahead(self, params: dict[str, Tensor], grads) -> dict[str, Tensor]:
        """The parameters after the step the network's Adam would take on ``grads``, kept differentiable in them.

        Shu et al.'s look-ahead is the step their network takes (SGD, without
        its momentum). Ours trains with Adam, whose step divides the gradient
        by the root of its running second moment: held constant here, with
        this gradient folded in as Adam would, and without the momentum. A
        plain SGD step at Adam's learning rate instead is several hundred
        times shorter (median 360 to 455 per epoch over the first three on the
        study's preset: ``benchmarks/mwn_step.py``), and V's meta-gradient
        with it, which V's weight decay then outweighs.
        """
        optimizer = self.trainer_.optimizer
        group = optimizer.param_groups[0]
        beta2, lr, eps = group["betas"][1], group["lr"], group["eps"]
        ahead = {}
        for (name, p), g in zip(params.items(), grads):
            state = optimizer.state.get(p, {})
            steps = float(state.get("step", 0)) + 1
            second = state.get("exp_avg_sq", torch.zeros_like(p)) * beta2 + (1 - beta2) * g.detach() ** 2
            ahead[name] = p - lr * g / ((second / (1 - beta2 ** steps)).sqrt() + eps)
        return ahead

    def _meta_step(self, batch: Batch) -> None:
        """V's step: a virtual network step on the batch, then the held-out loss through it."""
        trainer, model = self.trainer_, self.trainer_.model
        params = dict(model.named_parameters())
        with torch.backends.cudnn.flags(enabled=False):  # cuDNN's LSTM has no second derivative
            ce = self._cross_entropy(functional_call(model, params, (batch.x, batch.lengths)).float(), batch.rows)
            loss = weighted_mean(ce / self.labels_.weights(batch.rows), self.net_(ce.detach()))
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            ahead = self._look_ahead(params, grads)
            held_out = self.meta_rng_.choice(trainer.valid, min(trainer.settings.batch_size, len(trainer.valid)),
                                             replace=False)
            x, lengths = collate(trainer.data, held_out, trainer.device)
            gold = torch.as_tensor(trainer.data.gold[held_out], device=trainer.device)
            model.eval()  # the held-out loss as validation measures it: without dropout
            meta_loss = F.cross_entropy(functional_call(model, ahead, (x, lengths)).float(), gold)
            model.train()
        self.net_optimizer_.zero_grad()
        meta_loss.backward(inputs=list(self.net_.parameters()))
        self.net_optimizer_.step()

    def loss(self, logits: Tensor, batch: Batch) -> Tensor:
        self._meta_step(batch)
        ce = self._cross_entropy(logits, batch.rows)
        with torch.no_grad():
            weights = self.net_(ce.detach())
        return weighted_mean(ce / self.labels_.weights(batch.rows), weights)

    def state_dict(self) -> dict:
        return dict(labels=super().state_dict(), net=self.net_.state_dict(),
                    net_optimizer=self.net_optimizer_.state_dict())

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state["labels"])
        self.net_.load_state_dict(state["net"])
        self.net_optimizer_.load_state_dict(state["net_optimizer"])

    @torch.no_grad()
    def record(self) -> dict:
        """The baseline's record and ``trust``: V's weight for each utterance's loss under the kept network, as a
        share of the mean weight (how a batch's normalisation reads it)."""
        ce = -(self.labels_.targets() * self.trainer_.log_probs(self.train_)).sum(dim=-1)
        weights = self.net_(ce)
        return dict(super().record(), trust=rounded(weights / weights.mean()))
