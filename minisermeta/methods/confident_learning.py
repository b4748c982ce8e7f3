"""Confident learning (Northcutt et al., 2021) with ``cleanlab``: find the wrong labels from held-out predictions,
then train without them or with them relabelled.

The held-out predictions cost about four baseline trainings and are the same
for both actions of one (fold, seed) job, so they are cached on disk
(:func:`held_out_cache`), keyed by everything they are computed from; a job
served from the cache is the job that computed them, number for number.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..atomic import write_atomically
from ..corpora.base import session_of
from ..environment import home
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

        Read from :func:`held_out_cache` where the same inputs computed them
        before; the random streams then move on as computing them moves them,
        so the job trains on as if it had.
        """
        data, train = trainer.data, trainer.train
        groups = held_out_groups(data.speakers[train], self.folds)
        if len(set(groups)) < 2:
            raise ValueError(f"confident learning needs training speakers of two sessions at least; this fold's "
                             f"are all of {session_of(data.speakers[train[0]])}")
        path = held_out_cache() / f"{held_out_key(trainer, groups)}.npz"
        cached = _read_cached(path, (len(train), data.n_classes))
        if cached is not None:
            for _ in sorted(set(groups)):
                trainer.rng.spawn(1)  # as computing them spawns one generator per held-out network
            _set_torch_rng(trainer.device, cached["torch_rng"], cached["cuda_rng"])
            self.setup_seconds_ = float(cached["seconds"])
            return cached["probs"]
        start = time.perf_counter()
        probs = np.zeros((len(train), data.n_classes), dtype=np.float64)
        for group in sorted(set(groups)):
            inner = type(trainer)(data, FixedTargets(), train[groups != group], trainer.valid, trainer.settings,
                                  trainer.rng.spawn(1)[0])  # type(trainer): this module imports no train
            inner.fit()
            probs[groups == group] = inner.log_probs(train[groups == group]).exp().cpu().numpy()
        cpu, cuda = _torch_rng(trainer.device)
        write_atomically(path, lambda file: np.savez(file, probs=probs, torch_rng=cpu, cuda_rng=cuda,
                                                     seconds=time.perf_counter() - start), binary=True)
        return probs

    def epoch_utterances(self, rng: np.random.Generator) -> np.ndarray:
        return self.train_ if self.action == "relabel" else self.train_[~self.flagged_]

    def record(self) -> dict:
        """The baseline's record (``s``: the labels trained on), ``flagged`` and ``trust``: the out-of-fold
        probability of each gold label (cleanlab's self-confidence)."""
        gold_prob = self.probs_[np.arange(len(self.train_)), self.trainer_.data.gold[self.train_]]
        return dict(super().record(), flagged=self.flagged_.astype(int).tolist(), trust=rounded(gold_prob))


def held_out_cache() -> Path:
    """Where held-out predictions are cached: ``held_out/`` in the cache folder (``environment.home``)."""
    return home() / "held_out"


@functools.cache
def _code_digest() -> str:
    """A hash of the library's source: another version of the code computes other predictions."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def held_out_key(trainer, groups: np.ndarray) -> str:
    """A hash of what a job's held-out predictions are computed from: the code, torch and its device and
    threads, the fold's normalised data, the training, validation and held-out splits, the settings and the
    state of every random stream they draw from."""
    seq = trainer.rng.bit_generator.seed_seq
    parts = dict(code=_code_digest(), torch=torch.__version__, device=str(trainer.device),
                 threads=torch.get_num_threads(), data=trainer.data.fingerprint(),
                 splits=hashlib.blake2b(b"".join(np.ascontiguousarray(a, dtype=np.int64).tobytes()
                                                 for a in (trainer.train, trainer.valid, groups))).hexdigest(),
                 settings=asdict(trainer.settings), rng=trainer.rng.bit_generator.state,
                 spawned=[seq.entropy, list(seq.spawn_key), seq.n_children_spawned],
                 torch_rng=hashlib.blake2b(b"".join(s.tobytes() for s in _torch_rng(trainer.device))).hexdigest())
    return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def _torch_rng(device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """The states of the torch generators the held-out networks draw from: the CPU's (initial weights) and,
    on a GPU, the device's (dropout); an empty array for none."""
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.zeros(0, dtype=torch.uint8)
    return torch.get_rng_state().numpy().copy(), cuda.numpy().copy()


def _set_torch_rng(device: torch.device, cpu: np.ndarray, cuda: np.ndarray) -> None:
    torch.set_rng_state(torch.from_numpy(np.asarray(cpu, dtype=np.uint8)))
    if device.type == "cuda":
        torch.cuda.set_rng_state(torch.from_numpy(np.asarray(cuda, dtype=np.uint8)), device)


def _read_cached(path: Path, shape: tuple[int, int]) -> dict | None:
    """A cache entry, or None where there is none; a damaged one is computed again, with a warning."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as entry:
            cached = {name: entry[name] for name in ("probs", "torch_rng", "cuda_rng", "seconds")}
        if cached["probs"].shape != shape or not np.isfinite(cached["probs"]).all():
            raise ValueError(f"probabilities of shape {cached['probs'].shape}, not {shape}, or not finite")
    except Exception as error:  # a truncated or foreign file: the predictions are computed again
        warnings.warn(f"held-out predictions in {path} are unreadable ({error}); computing them again")
        return None
    return cached
