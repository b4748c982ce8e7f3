"""The grid of (condition, fold, seed) jobs of one run directory.

A *job* trains one method on one fold with one seed (``train.train_job``) and
writes its result, gzipped JSON, when it finishes (atomically), so rerunning
the same grid skips finished jobs and a killed run loses only the jobs in
flight. A *run* is a directory: ``run.json`` (what its jobs were computed from;
``pipeline``) and ``jobs/<condition>/<fold>_seed<seed>.json.gz``. Every job
records the run's ``id``, and :func:`load_jobs` refuses one that does not
carry it. Two processes running the same grid into one directory share the
work: each job is claimed with a lock file (released by the operating system
if the process dies), and a process waits at the end for the jobs the other
one is training.

The grid runs through joblib: a user who outgrows one machine runs it on a
Dask cluster (:func:`dask_cluster`, ``reproduce --dask ADDRESS``), joblib's own
``dask`` backend, instead of this module growing a scheduler. Jobs are
picklable: (condition name, method, fold, seed, settings). On a cluster the
run directory must be on a file system every worker sees; its lock files keep
two workers (or two grids) off one job, and a worker that dies loses only the
job it was training: Dask runs it again elsewhere, and a result is written
whole or not at all.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .atomic import write_atomically
from .dataset import Dataset
from .folds import Fold
from .methods import resolve
from .settings import Settings
from .train import train_job

JOB_KEYS = ("condition", "fold", "seed", "settings", "epochs", "test", "train")  # what every job result holds


def check_seeds(seeds) -> list[int]:
    """``seeds`` as a list, or ``ValueError``: none given, one given twice, or one that is not an integer >= 0."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("no seed given")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seeds are integers >= 0, got {seed!r}")
    repeated = sorted({int(s) for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"seed {', '.join(map(str, repeated))} given more than once")
    return [int(s) for s in seeds]


def check_threads(threads: int | None) -> int | None:
    """``threads`` per job, or ``ValueError``: fewer than 1 (None: the cores shared out, see :func:`threads_per_job`)."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads} (None: the cores shared out)")
    return threads


def job_path(out: Path, condition: str, fold: Fold, seed: int) -> Path:
    return Path(out) / "jobs" / condition / f"{fold.name}_seed{seed}.json.gz"


def write_json(path: Path, data, exclusive: bool = False) -> None:
    """Write ``data`` as JSON (gzipped for ``*.gz``) so that ``path`` is either absent or complete.

    ``exclusive``: ``FileExistsError`` rather than replace an existing ``path``.
    """
    if Path(path).suffix == ".gz":
        def write(file):
            with gzip.GzipFile(fileobj=file, mode="wb", mtime=0) as packed:  # mtime 0: same bytes for the same data
                packed.write(json.dumps(data).encode())
        write_atomically(path, write, binary=True, exclusive=exclusive)
    else:
        write_atomically(path, lambda file: json.dump(data, file), exclusive=exclusive)


def read_json(path: Path):
    """What :func:`write_json` wrote; ``ValueError`` naming the file when it is not (gzipped) JSON."""
    path = Path(path)
    try:
        with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as file:
            return json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as error:
        raise ValueError(f"{path}: not readable JSON ({error}); delete it to rerun what wrote it") from error


def run_id(out: Path) -> str | None:
    """The id a run directory's ``run.json`` gives its jobs (None without one)."""
    path = Path(out) / "run.json"
    return read_json(path).get("id") if path.is_file() else None


def load_jobs(out: Path) -> list[dict]:
    """Every finished job's result under a run directory, each checked to belong to it."""
    out = Path(out)
    expected = run_id(out)
    results = []
    for path in sorted(out.glob("jobs/*/*.json.gz")):
        result = read_json(path)
        missing = [key for key in JOB_KEYS if key not in result] if isinstance(result, dict) else list(JOB_KEYS)
        if missing:
            raise ValueError(f"{path}: not a job result (no {', '.join(missing)}); delete it to rerun the job")
        if expected is not None and result.get("run") != expected:
            raise ValueError(f"{path}: {path.name} belongs to another run (run id {result.get('run')}, this run is "
                             f"{expected}); it was copied here or the run changed: delete it to rerun the job")
        results.append(result)
    return results


def slim_jobs(out: Path, seeds=None) -> int:
    """Keep only the learned labels of each finished job's learned targets under a run directory; how many changed.

    A learned-label job's targets s_n (``train.s``) are half its file, and of
    them the book reads only argmax(s_n) (``report.learned_labels``) outside
    the chapters that show s_n itself. Slimming replaces them by
    ``train.labels`` before a large grid is committed (a Colab reader clones
    every job file). ``seeds``: only jobs of these seeds (default: all). Each
    file is rewritten whole or not at all; a slimmed job stays finished, so a
    rerun of the grid skips it.
    """
    changed = 0
    for path in sorted(Path(out).glob("jobs/*/*.json.gz")):
        result = read_json(path)
        if "s" not in result.get("train", {}) or (seeds is not None and result.get("seed") not in seeds):
            continue
        train = result["train"]
        train["labels"] = np.argmax(np.asarray(train.pop("s")), axis=1).tolist()
        write_json(path, result)
        changed += 1
    return changed


@contextmanager
def _claim(path: Path, wait: bool):
    """Hold the lock file of job ``path``; yields whether it is held (False: another process has it, and not ``wait``).

    The operating system releases the lock of a process that dies, so a killed
    run never blocks the next one.
    """
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def _run_jobs(dataset: Dataset, jobs: list[tuple], settings: Settings, out: Path, threads: int, run: str | None,
              wait: bool = False) -> list[Path]:
    """Train those of ``jobs`` (condition, method, fold, seed) that no other process holds or finished; their paths.

    One job trains on the single-job trainer; several train as one batch
    (``batched.train_batched``), each written as soon as it stops. ``wait``
    waits for jobs another process holds instead of leaving them to it.
    """
    def unlock(path: Path) -> None:  # while holding it: no one can claim a finished job afterwards
        path.with_name(path.name + ".lock").unlink(missing_ok=True)

    with ExitStack() as every:
        claims, mine = [], []  # each job's lock is released as soon as its result is written
        for job in jobs:
            path = job_path(out, job[0], job[2], job[3])
            claims.append(every.enter_context(ExitStack()))
            if not claims[-1].enter_context(_claim(path, wait)):
                continue
            if path.is_file():  # finished by another process meanwhile
                unlock(path)
                claims[-1].close()
            else:
                mine.append(len(claims) - 1)

        def write(index: int, result: dict) -> Path:
            path = job_path(out, jobs[index][0], jobs[index][2], jobs[index][3])
            write_json(path, {**result, "run": run})
            unlock(path)
            claims[index].close()
            return path

        if len(mine) == 1:
            condition, method, fold, seed = jobs[mine[0]]
            return [write(mine[0], train_job(dataset, method, fold, seed=seed, settings=settings, name=condition,
                                             threads=threads))]
        if mine:
            from .batched import train_batched

            written = []
            train_batched(dataset, [jobs[i] for i in mine], settings, threads=threads,
                          on_result=lambda k, result: written.append(write(mine[k], result)))
            return written
        return []


def worker_count(n_jobs: int) -> int:
    """Processes a grid runs side by side for ``n_jobs`` (joblib's rule: -1 is one per core, -2 all but one)."""
    return n_jobs if n_jobs > 0 else max((os.cpu_count() or 1) + 1 + n_jobs, 1)


def threads_per_job(n_jobs: int, tasks: int) -> int:
    """Threads each of ``tasks`` processes gets when a grid runs them ``n_jobs`` at a time: the cores shared out."""
    return max(1, (os.cpu_count() or 1) // min(worker_count(n_jobs), max(tasks, 1)))


@contextmanager
def dask_cluster(address: str | None):
    """Run the grids inside the block on a Dask cluster; ``address``: a running scheduler's ("tcp://host:8786"),
    or "local" / "local:N" for a cluster of this machine (N worker processes, default one per core, one thread
    each). None: no cluster, the grids run on local processes.

    Why Dask: joblib, the grid's seam, has a Dask backend built in, so no job
    code changes; ``dask-jobqueue`` starts the workers as SLURM or PBS jobs and
    ``dask-cuda`` one worker per GPU (the README shows both).
    """
    if address is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError("running a grid on a Dask cluster needs Dask's distributed scheduler: "
                          "pip install 'dask[distributed]' (or minisermeta[cluster])") from error
    from joblib import parallel_config

    with ExitStack() as stack:
        if address == "local" or address.startswith("local:"):
            workers = int(address.partition(":")[2] or os.cpu_count() or 1)
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            address = cluster.scheduler_address
        client = stack.enter_context(Client(address))
        stack.enter_context(parallel_config(backend="dask"))
        yield client


def run_grid(dataset: Dataset, out, conditions, folds, seeds, settings: Settings, n_jobs: int = 1,
             progress: bool = True, batch: int = 1, threads: int | None = None) -> list[Path]:
    """Run every (condition, fold, seed) job whose result is not on disk yet; the paths of the jobs trained here.

    ``conditions`` are names of ``methods.CONDITIONS`` or a ``{name: Method}``
    dict (a method of your own); jobs share the CPU cores (each of the ``n_jobs`` at
    once gets its share of them). ``batch`` > 1 trains that many jobs at once in one
    process (``batched``): the way to fill a GPU. Returns once every job is on
    disk, also those another process was training. ``threads``: CPU threads
    per job (default: this machine's cores shared out among the jobs it runs
    at once; on a Dask cluster, 1: each worker is one thread).
    """
    out = Path(out)
    methods = resolve(conditions)
    seeds = check_seeds(seeds)
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    check_threads(threads)
    run = run_id(out)
    # seed by seed: a grid stopped early leaves whole seeds of every condition, which is what the book reads
    todo = [(c, methods[c], f, s) for s in seeds for c in methods for f in folds
            if not job_path(out, c, f, s).is_file()]
    done = len(methods) * len(folds) * len(seeds) - len(todo)
    if done and progress:
        print(f"{done} job(s) already finished under {out}, skipping them")
    stacked = [job for job in todo if job[1].batchable]  # the others train one per process
    groups = [stacked[i:i + batch] for i in range(0, len(stacked), batch)] + \
        [[job] for job in todo if not job[1].batchable]
    threads = threads or threads_per_job(n_jobs, len(groups))
    tasks = (delayed(_run_jobs)(dataset, group, settings, out, threads, run) for group in groups)
    trained = []
    with tqdm(total=len(todo), desc="jobs", disable=not progress) as bar:
        for paths in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):  # on Dask, -1: every worker
            trained += paths
            bar.update(len(paths))
    left = [job for job in todo if not job_path(out, job[0], job[2], job[3]).is_file()]
    for job in left:  # jobs another process held: wait for it, and train those it left unfinished
        trained += _run_jobs(dataset, [job], settings, out, threads, run, wait=True)
    return trained
