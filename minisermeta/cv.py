"""Leave-one-speaker-out folds and the grid of (condition, fold, seed) jobs.

Each job writes one JSON file when it finishes (atomically), so rerunning the
same grid skips finished jobs and a killed run loses only the jobs in flight.
The grid runs through joblib: a user who outgrows one machine switches the
joblib backend (``with joblib.parallel_config(backend="dask")``) instead of
this module growing a scheduler.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .atomic import write_atomically
from .dataset import Dataset


@dataclass(frozen=True)
class Fold:
    """One leave-one-speaker-out split."""

    test: str  # the held-out test speaker
    valid: str  # the validation speaker: the other speaker of the test speaker's session

    @property
    def name(self) -> str:
        return self.test

    def split(self, dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices of the training, validation and test utterances."""
        train = dataset.indices_of(set(dataset.speakers) - {self.test, self.valid})
        return train, dataset.indices_of([self.valid]), dataset.indices_of([self.test])


def loso_folds(speakers) -> list[Fold]:
    """One fold per speaker; validation on the session partner (IEMOCAP: Ses01F ↔ Ses01M).

    The paper validates on "the validation set" without naming it. Using the
    other speaker of the same session keeps the 8 training speakers disjoint
    from both held-out speakers and never trains on the test speaker's partner,
    whose dialogue turns share topic and recording conditions with the test
    speaker's. A speaker without a partner validates on the next speaker.
    """
    speakers = sorted({str(s) for s in speakers})
    if len(speakers) < 3:
        raise ValueError(f"leave-one-speaker-out needs at least 3 speakers, got {speakers}")
    folds = []
    for i, test in enumerate(speakers):
        partners = [s for s in speakers if s != test and s[:5] == test[:5]]
        valid = partners[0] if partners else speakers[(i + 1) % len(speakers)]
        folds.append(Fold(test=test, valid=valid))
    return folds


def job_path(out: Path, condition: str, fold: Fold, seed: int) -> Path:
    return Path(out) / "jobs" / condition / f"{fold.name}_seed{seed}.json"


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON so that ``path`` is either absent or complete, never half-written."""
    write_atomically(path, lambda file: json.dump(data, file))


def load_results(out: Path) -> list[dict]:
    """Every finished job's result under a run directory."""
    results = []
    for path in sorted(Path(out).glob("jobs/*/*.json")):
        try:
            results.append(json.loads(path.read_text()))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a finished job result ({error}); delete it to rerun the job") from error
    return results


def _run_job(dataset, condition, fold, seed, settings, path, threads):
    import torch

    from .train import run

    torch.set_num_threads(threads)
    result = run(dataset, condition, fold, seed=seed, settings=settings)
    write_json(path, result)
    return path


def run_grid(dataset: Dataset, out, conditions, folds, seeds, settings, n_jobs: int = 1,
             progress: bool = True) -> list[Path]:
    """Run every (condition, fold, seed) job whose result is not on disk yet.

    ``settings`` is a :class:`minisermeta.train.Settings`; jobs share the CPU
    cores (one thread each when several run at once).
    """
    out = Path(out)
    todo = [(c, f, s) for c in conditions for f in folds for s in seeds
            if not job_path(out, c, f, s).is_file()]
    done = len(conditions) * len(folds) * len(seeds) - len(todo)
    if done and progress:
        print(f"{done} job(s) already finished under {out}, skipping them")
    workers = n_jobs if n_jobs > 0 else max(os.cpu_count() + 1 + n_jobs, 1)
    threads = max(1, (os.cpu_count() or 1) // min(workers, max(len(todo), 1)))
    jobs = (delayed(_run_job)(dataset, c, f, s, settings, job_path(out, c, f, s), threads) for c, f, s in todo)
    paths = Parallel(n_jobs=workers, return_as="generator_unordered")(jobs)
    return list(tqdm(paths, total=len(todo), desc="jobs", disable=not progress))
