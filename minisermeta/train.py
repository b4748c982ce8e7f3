"""The conditions of Table 2 and the one training loop that runs them all.

Every row of the paper's Table 2 is a :class:`Condition`, a configuration of
the same loop (Algorithm 1)::

    for epoch in 1..max_epochs:
        network epoch:  update θ on eq. (6) with targets s_n = softmax(l_n) and weights w_n fixed
        validation:     cross-entropy against the gold labels of the validation speaker
        l/w epoch:      θ frozen; one inference pass, then update l and w (meta.LabelWeights)
        early stopping: keep the network (and its l, w) of the lowest validation loss

Conditions that learn neither l nor w skip the l/w epoch. The choices the
paper leaves open are fields of :class:`Settings`, with the paper's reading as
the default.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from . import settings as env
from .cv import Fold
from .dataset import Dataset, collate, length_batches
from .features import Normaliser
from .meta import LabelWeights, MetaConfig
from .model import BLSTMAttention, ModelConfig


@dataclass(frozen=True)
class Condition:
    targets: str = "gold"  # what the loss learns from: "gold" one-hot, "votes" (annotator proportions) or "l" (softmax(l_n), eq. 7)
    class_weighted: bool = True  # w_n starts at eq. (4); False: every w_n = 1
    learn_labels: bool = False  # update l in the l/w epoch
    learn_weights: bool = False  # update w in the l/w epoch
    sampling: str | None = None  # "over" or "under": rebalance the classes each epoch by resampling
    pretrain: bool = False  # first train the network to early stopping with l and w frozen

    @property
    def learns(self) -> bool:
        return self.learn_labels or self.learn_weights


# One entry per row of the paper's Table 2 that we run (Cycle-GAN stays a quoted row).
CONDITIONS = {
    # Mirsamadi et al.: gold one-hot targets, eq. (4) class weights kept fixed.
    "blstm_att": Condition(),
    # "oversampling or undersampling instead of w": uniform weights, balanced resampling.
    "oversampling": Condition(class_weighted=False, sampling="over"),
    "undersampling": Condition(class_weighted=False, sampling="under"),
    # Ando et al.: the annotators' vote proportions as targets; the paper could only quote it.
    "soft_target": Condition(targets="votes"),
    # "only updating L, while keeping w fixed"
    "L": Condition(targets="l", learn_labels=True),
    # "only updating w, while keeping L equal to the gold standard labels": s_n = softmax(l_n) with l_n fixed
    "w": Condition(targets="l", learn_weights=True),
    "L_w": Condition(targets="l", learn_labels=True, learn_weights=True),
    "L_w_pretrained": Condition(targets="l", learn_labels=True, learn_weights=True, pretrain=True),
}


@dataclass(frozen=True)
class Settings:
    max_epochs: int = 40  # network epochs (iterations of Algorithm 1) at most
    patience: int = 5  # network epochs without a lower validation loss before stopping
    batch_size: int = 32  # utterances per network step
    lr: float = 1e-3  # Adam learning rate of the network (the paper names Adam, not its rate)
    label_scale: float = 1.0  # l_n = scale * one-hot(gold) at the start; 1 is the paper's text (see meta.init_label_logits)
    lr_labels: float = 0.1  # Adam learning rate of l (meta.LabelWeights.update argues the default)
    lr_weights: float = 0.05  # Adam learning rate of log w
    lw_dropout: bool = False  # dropout on in the l/w epoch's inference pass (False: eval mode, deterministic targets)
    model: ModelConfig = field(default_factory=ModelConfig)  # the network of Fig. 1
    device: str = "auto"  # "auto": CUDA when present, else CPU
    amp: bool = True  # on CUDA, run the network in bfloat16 autocast (losses, l and w stay float32); no effect on CPU

    def meta_config(self, condition: Condition) -> MetaConfig:
        return MetaConfig(label_scale=self.label_scale, lr_labels=self.lr_labels, lr_weights=self.lr_weights,
                          learn_labels=condition.learn_labels, learn_weights=condition.learn_weights,
                          class_weighted=condition.class_weighted)


PRESETS = {
    # A laptop/CI mode, like nanoGPT's small CPU mode: a narrower network (FC 128,
    # BLSTM 64 per direction; about 6x cheaper per frame) and 3 epochs, so every
    # condition runs end to end in minutes. Its numbers show the pipeline, not the method.
    "quick": Settings(max_epochs=3, patience=2, model=ModelConfig(fc_units=128, lstm_units=64)),
    # The paper's setup: train to early stopping on the validation speaker.
    "paper": Settings(),
}


def preset(name: str | None = None, **overrides) -> Settings:
    """A preset by name; ``None`` picks ``quick`` in quick mode (see ``settings``), else ``paper``."""
    name = name or ("quick" if env.quick_mode() else "paper")
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def set_seed(seed: int) -> np.random.Generator:
    """Seed random, numpy and torch in one call; returns a numpy generator for batching."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(name: str = "auto") -> torch.device:
    return torch.device("cuda" if name == "auto" and torch.cuda.is_available() else
                        "cpu" if name == "auto" else name)


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


class Trainer:
    """One job: a condition trained and tested on one fold of a normalised dataset."""

    def __init__(self, data: Dataset, condition: Condition, train: np.ndarray, valid: np.ndarray,
                 settings: Settings, rng: np.random.Generator):
        self.data, self.condition, self.settings, self.rng = data, condition, settings, rng
        self.train, self.valid = train, valid
        self.device = pick_device(settings.device)
        config = replace(settings.model, n_features=data.frames.shape[1], n_classes=data.n_classes)
        self.model = BLSTMAttention(config).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=settings.lr)
        self.meta = LabelWeights(data.gold[train], data.n_classes, settings.meta_config(condition),
                                 targets=self._fixed_targets()).to(self.device)
        self.meta_optimizer = self.meta.configure_optimizer()
        self.position = {utterance: row for row, utterance in enumerate(train)}  # dataset index -> row of l, w
        # bfloat16 keeps float32's range, so no loss scaling is needed; CPUs here lack fast bfloat16.
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16,
                                       enabled=settings.amp and self.device.type == "cuda")
        self.history: list[dict] = []

    def _fixed_targets(self) -> np.ndarray | None:
        """The target distributions of conditions that do not start from softmax(l)."""
        if self.condition.targets == "gold":
            return np.eye(self.data.n_classes, dtype=np.float32)[self.data.gold[self.train]]
        if self.condition.targets == "votes":
            return self.data.votes[self.train]
        return None

    def network_epoch(self) -> float:
        """Update θ over the (resampled) training utterances with l and w fixed; mean loss."""
        self.model.train()
        epoch = resample(self.train, self.data.gold, self.condition.sampling, self.rng)
        total = 0.0
        for batch in length_batches(epoch, self.data.lengths, self.settings.batch_size, self.rng):
            x, lengths = collate(self.data, batch, self.device)
            rows = torch.as_tensor([self.position[i] for i in batch], device=self.device)
            with self.autocast:
                logits = self.model(x, lengths)
            loss = self.meta.loss(logits.float(), rows)  # eq. (6)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(batch)
        return total / len(epoch)

    @torch.no_grad()
    def log_probs(self, indices: np.ndarray, dropout: bool = False) -> torch.Tensor:
        """log y_n of the given utterances, in their order (one inference pass)."""
        self.model.train(dropout)
        out = torch.empty(len(indices), self.data.n_classes, device=self.device)
        order = {utterance: row for row, utterance in enumerate(indices)}
        for batch in length_batches(indices, self.data.lengths, 4 * self.settings.batch_size, None):
            x, lengths = collate(self.data, batch, self.device)
            rows = torch.as_tensor([order[i] for i in batch], device=self.device)
            with self.autocast:
                logits = self.model(x, lengths)
            out[rows] = logits.float().log_softmax(dim=-1)
        return out

    def validation_loss(self) -> float:
        """Cross-entropy of the validation speaker's gold labels: the early-stopping criterion."""
        gold = torch.as_tensor(self.data.gold[self.valid], device=self.device)
        return F.nll_loss(self.log_probs(self.valid), gold).item()

    def label_weight_epoch(self) -> None:
        """θ frozen: one inference pass over the training utterances, then update l and w."""
        self.meta.update(self.log_probs(self.train, dropout=self.settings.lw_dropout), self.meta_optimizer)

    def fit(self, learn: bool, phase: str) -> None:
        """Algorithm 1 until early stopping; leaves the best network (and its l, w) in place."""
        best_loss, best_state, waited = float("inf"), None, 0
        for epoch in range(1, self.settings.max_epochs + 1):
            start = time.perf_counter()
            train_loss = self.network_epoch()
            valid_loss = self.validation_loss()
            if not np.isfinite(valid_loss):  # never keep (or report) a diverged network
                raise FloatingPointError(f"validation loss is {valid_loss} after epoch {epoch} ({phase}); "
                                         "lower the learning rate (Settings.lr)")
            network_seconds = time.perf_counter() - start
            if learn:
                self.label_weight_epoch()
            self.history.append(dict(phase=phase, epoch=epoch, train_loss=train_loss, valid_loss=valid_loss,
                                     network_seconds=network_seconds,
                                     lw_seconds=time.perf_counter() - start - network_seconds))
            if valid_loss < best_loss:
                best_loss, waited = valid_loss, 0
                best_state = copy.deepcopy((self.model.state_dict(), self.meta.state_dict()))
            else:
                waited += 1
                if waited >= self.settings.patience:
                    break
        self.model.load_state_dict(best_state[0])
        self.meta.load_state_dict(best_state[1])


def run(dataset: Dataset, condition: str, fold: Fold, seed: int = 0, settings: Settings | None = None) -> dict:
    """Train and test one (condition, fold, seed) job; the JSON-ready result.

    Features are normalised with statistics of the fold's training speakers
    only. The result holds the settings, per-epoch curves, the test
    predictions, and the initial and learned w_n and s_n of every training
    utterance.
    """
    settings = settings or preset()
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose from {sorted(CONDITIONS)}")
    spec = CONDITIONS[condition]
    rng = set_seed(seed)
    train, valid, test = fold.split(dataset)
    normaliser = Normaliser.fit(dataset.features(train))
    data = dataset.with_frames(normaliser.transform([dataset.frames])[0])

    start = time.perf_counter()
    trainer = Trainer(data, spec, train, valid, settings, rng)
    initial_w = trainer.meta.weights().detach().cpu().numpy()
    if spec.pretrain:
        trainer.fit(learn=False, phase="pretrain")
    trainer.fit(learn=spec.learns, phase="train")
    test_probs = trainer.log_probs(test).exp().cpu().numpy()

    def labels(indices):
        return dict(utterances=data.utterances[indices].tolist(), gold=data.gold[indices].tolist(),
                    truth=None if data.truth is None else data.truth[indices].tolist())

    return dict(
        condition=condition,
        fold=fold.test,
        valid_speaker=fold.valid,
        seed=seed,
        settings=asdict(settings),
        device=str(trainer.device),
        seconds=time.perf_counter() - start,
        epochs=trainer.history,
        test=dict(labels(test), pred=test_probs.argmax(1).tolist(), probs=test_probs.round(5).tolist()),
        train=dict(labels(train), initial_w=initial_w.round(5).tolist(),
                   w=trainer.meta.weights().detach().cpu().numpy().round(5).tolist(),
                   s=trainer.meta.targets().detach().cpu().numpy().round(5).tolist()),
    )
