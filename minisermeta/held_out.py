"""The held-out predictions of a job's setup, cached on disk and keyed by everything they are computed from.

Confident learning's drop and relabel jobs of one (fold, seed) train the same
held-out networks before their own; the second reads what the first
computed. An entry also holds torch's generator state after the held-out
trainings, so that a job served from the cache draws what it would have drawn
after computing them: the same job, number for number.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .atomic import write_atomically
from .environment import home


def cache() -> Path:
    """Where held-out predictions are cached: ``held_out/`` in the cache folder (``environment.home``)."""
    return home() / "held_out"


@functools.cache
def _code_digest() -> str:
    """A hash of the library's source: another version of the code computes other predictions."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key(trainer, groups: np.ndarray) -> str:
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


def restore_torch_rng(device: torch.device, cached: dict) -> None:
    """Set torch's generators to the state an entry recorded after computing its predictions."""
    torch.set_rng_state(torch.from_numpy(np.asarray(cached["torch_rng"], dtype=np.uint8)))
    if device.type == "cuda":
        torch.cuda.set_rng_state(torch.from_numpy(np.asarray(cached["cuda_rng"], dtype=np.uint8)), device)


def write(path: Path, device: torch.device, probs: np.ndarray, seconds: float) -> None:
    """Store predictions that took ``seconds`` to compute, with torch's generator state now (after computing them)."""
    cpu, cuda = _torch_rng(device)
    write_atomically(path, lambda file: np.savez(file, probs=probs, torch_rng=cpu, cuda_rng=cuda, seconds=seconds),
                     binary=True)


def read(path: Path, shape: tuple[int, int]) -> dict | None:
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
