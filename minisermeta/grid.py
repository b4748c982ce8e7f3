"""The grid of (condition, fold, seed) jobs of one run directory.

A *job* trains one method on one fold with one seed (``train.train_job``) and
writes one JSON file when it finishes (atomically), so rerunning the same grid
skips finished jobs and a killed run loses only the jobs in flight. A *run* is
a directory: ``run.json`` (what it was computed from, ``pipeline``) and
``jobs/<condition>/<fold>_seed<seed>.json``. The grid runs through joblib: a
user who outgrows one machine switches the joblib backend
(``with joblib.parallel_config(backend="dask")``) instead of this module
growing a scheduler. Jobs are picklable: (condition name, method, fold, seed,
settings).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .atomic import write_atomically
from .dataset import Dataset
from .folds import Fold
from .methods import Method, resolve
from .settings import Settings
from .train import train_job


def job_path(out: Path, condition: str, fold: Fold, seed: int) -> Path:
    return Path(out) / "jobs" / condition / f"{fold.name}_seed{seed}.json"


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON so that ``path`` is either absent or complete, never half-written."""
    write_atomically(path, lambda file: json.dump(data, file))


def load_jobs(out: Path) -> list[dict]:
    """Every finished job's result under a run directory."""
    results = []
    for path in sorted(Path(out).glob("jobs/*/*.json")):
        try:
            results.append(json.loads(path.read_text()))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a finished job result ({error}); delete it to rerun the job") from error
    return results


def _run_job(dataset: Dataset, condition: str, method: Method, fold: Fold, seed: int, settings: Settings,
             path: Path, threads: int) -> Path:
    import torch

    torch.set_num_threads(threads)
    write_json(path, train_job(dataset, method, fold, seed=seed, settings=settings, name=condition))
    return path


def run_grid(dataset: Dataset, out, conditions, folds, seeds, settings: Settings, n_jobs: int = 1,
             progress: bool = True) -> list[Path]:
    """Run every (condition, fold, seed) job whose result is not on disk yet.

    ``conditions`` are names of ``methods.CONDITIONS`` or a ``{name: Method}``
    dict (a method of your own); jobs share the CPU cores (one thread each when
    several run at once).
    """
    out = Path(out)
    methods = resolve(conditions)
    todo = [(c, f, s) for c in methods for f in folds for s in seeds if not job_path(out, c, f, s).is_file()]
    done = len(methods) * len(folds) * len(seeds) - len(todo)
    if done and progress:
        print(f"{done} job(s) already finished under {out}, skipping them")
    workers = n_jobs if n_jobs > 0 else max(os.cpu_count() + 1 + n_jobs, 1)
    threads = max(1, (os.cpu_count() or 1) // min(workers, max(len(todo), 1)))
    jobs = (delayed(_run_job)(dataset, c, methods[c], f, s, settings, job_path(out, c, f, s), threads)
            for c, f, s in todo)
    paths = Parallel(n_jobs=workers, return_as="generator_unordered")(jobs)
    return list(tqdm(paths, total=len(todo), desc="jobs", disable=not progress))
