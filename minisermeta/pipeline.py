"""The main job end to end: corpus → features → leave-one-speaker-out grid → tables.

``python -m minisermeta reproduce`` and the book's notebooks call
:func:`reproduce`; rerunning it with the same output directory skips the jobs
already on disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from . import report
from .corpora import Corpus, load_corpus
from .dataset import Dataset
from .environment import home
from .features import extract
from .folds import loso_folds
from .atomic import write_atomically
from .grid import check_seeds, check_threads, dask_cluster, job_path, load_jobs, read_json, run_grid, threads_per_job, worker_count, write_json
from .methods import LAPTOP_CONDITIONS, PAPER_CONDITIONS, Method, resolve
from .settings import Settings, preset, preset_name as resolve_preset
from . import estimate


# What a run's jobs were computed from: a run directory mixes no jobs that differ in any of these.
IDENTITY = ("classes", "feature_set", "preset", "settings", "data")


def prepare(corpus: Corpus, feature_set: str = "paper32", progress: bool = True, n_jobs: int = 1,
            strict: bool = True) -> Dataset:
    """Extract (or load from the cache) the features of a corpus and pack them for training.

    ``strict=False`` (the CLI's ``--lenient``) drops, with a warning and a
    count, the utterances whose features cannot be extracted instead of stopping.
    """
    features = extract(corpus, feature_set=feature_set, progress=progress, n_jobs=n_jobs, strict=strict)
    kept = [i for i, f in enumerate(features) if f is not None]
    if len(kept) < len(features):
        corpus = corpus.subset(kept)
        features = [features[i] for i in kept]
    return Dataset.from_corpus(corpus, features)


def tables(results: list[dict], has_truth: bool) -> dict[str, "report.pd.DataFrame"]:
    """Tables 2-3, the data of Fig. 3 and the study's intervals of ``results`` (job results), by name."""
    tables = {"table2": report.table2(results), "table2_fold_mean": report.table2(results, estimator="fold_mean"),
              "table2_beside_paper": report.table2_beside_paper(results),
              "table2_fold_spread": report.fold_spread(results), "epochs_kept": report.kept_epochs(results),
              "intervals": report.session_intervals(results)}
    if has_truth:
        tables["table2_vs_truth"] = report.table2(results, against="truth")
        tables["intervals_vs_truth"] = report.session_intervals(results, against="truth")
    conditions = {r["condition"] for r in results}
    if "blstm_att" in conditions and len(conditions) > 1:
        tables["table2_paired"] = report.paired_by_session(results)
        if has_truth:
            tables["table2_paired_vs_truth"] = report.paired_by_session(results, against="truth")
    if any(c in conditions and b in conditions for c, b in report.CONTROL_PAIRS):
        tables["controls"] = report.contrasts(results, report.CONTROL_PAIRS)
        if has_truth:
            tables["controls_vs_truth"] = report.contrasts(results, report.CONTROL_PAIRS, against="truth")
    if "L_w" in conditions:
        tables["table3"] = report.table3(results)
        tables["fig3_label_moves"] = report.label_moves(results)
    if has_truth and report.label_learners(results):
        tables["label_fixes"] = report.label_fixes(results)
    return tables


def write_tables(out: Path) -> dict[str, "report.pd.DataFrame"]:
    """The :func:`tables` of every job in the run directory ``out``, written there as CSV and Markdown; returns them.

    Whoever ran a part of the run, its files describe all of it.
    """
    results = load_jobs(out)
    return _write(out, tables(results, report.has_truth(results)))


def _write(out: Path, written: dict[str, "report.pd.DataFrame"]) -> dict[str, "report.pd.DataFrame"]:
    for name, table in written.items():  # each file whole or not at all, as the job files
        write_atomically(out / f"{name}.csv", table.to_csv)
        write_atomically(out / f"{name}.md", lambda file: file.write(report.to_markdown(table) + "\n"))
    return written


def identity(run: dict) -> str:
    """A run's id: a hash of its :data:`IDENTITY` fields; every job of the run records it."""
    return hashlib.blake2b(json.dumps({k: run[k] for k in IDENTITY}, sort_keys=True).encode(),
                           digest_size=8).hexdigest()


def claim_run(out: Path, run: dict) -> str:
    """Record what a run directory is computed from, or check it against what it records; the run's id."""
    path = out / "run.json"
    try:
        write_json(path, {**run, "id": identity(run)}, exclusive=True)  # of two processes, one creates it
    except FileExistsError:
        check_run(out, **run)  # the other checks it, as any later run does
    return read_json(path)["id"]


def check_run(out, **run) -> None:
    """Raise ``ValueError`` unless ``out/run.json`` records the given fields of :data:`IDENTITY`.

    Fields not given are not checked: the book checks a committed run's
    ``preset`` and ``settings`` without its corpus at hand; ``reproduce``
    checks them before extracting features and everything, ``data`` included,
    after. ``data`` is ``Dataset.fingerprint()``: relabelled turns, changed
    votes or truth, other utterances or other features all change it.
    """
    out = Path(out)
    path = out / "run.json"
    if not path.is_file():
        raise ValueError(f"{out} holds no run.json; it was not written by minisermeta.reproduce")
    before = read_json(path)
    if not isinstance(before, dict) or "id" not in before or "data" not in before:
        raise ValueError(f"{path} records no data fingerprint (written by an older minisermeta, or damaged); "
                         "choose another --out (or delete it) to start a new run")
    run = json.loads(json.dumps({k: v for k, v in run.items() if k in IDENTITY}))  # as it reads back from disk
    if "data" in run and before["data"] != run["data"]:
        changed = sorted(k for k in run["data"].keys() | before["data"].keys()
                         if before["data"].get(k) != run["data"].get(k))
        raise ValueError(f"{out} holds a run computed from other data (changed: {', '.join(changed)}); "
                         "choose another --out (or delete it) to start a new run")
    changed = [key for key in sorted(run) if before.get(key) != run[key]]
    if changed:
        detail = ""
        if "settings" in changed and isinstance(before.get("settings"), dict):
            fields = sorted(k for k in run["settings"].keys() | before["settings"].keys()
                            if before["settings"].get(k) != run["settings"].get(k))
            detail = f" (settings: {', '.join(fields)})"
        raise ValueError(f"{out} holds a run with a different {', '.join(changed)}{detail}; "
                         "choose another --out (or delete it) to start a new run")


def corpus_location(root) -> str:
    """Where a run's corpus is, as ``run.json`` records it: relative to ``MINISERMETA_HOME`` when inside it.

    Generated corpora live in the home folder, whose path differs between
    machines; recording it relative lets a committed run directory (the book's)
    resume on another machine instead of being refused as a different corpus.
    """
    root = Path(root).resolve()
    try:
        return "$MINISERMETA_HOME/" + root.relative_to(home().resolve()).as_posix()
    except ValueError:
        return str(root)


def reproduce(corpus: str | Corpus = "synthemo", preset_name: str | None = None, conditions=None, seeds=(0,),
              out="runs/synthemo", n_jobs: int = -1, feature_set: str = "paper32", classes: str = "paper",
              progress: bool = True, strict: bool = True, batch: int = 1, test_speakers=None, dask: str | None = None,
              threads: int | None = None, **overrides) -> dict:
    """Run (or resume) the grid of Table 2 and write the run's tables; returns the tables of the asked jobs by name.

    ``corpus`` is ``'synthemo'``, an IEMOCAP-layout root or a :class:`Corpus`;
    ``preset_name`` a key of ``settings.PRESETS`` (default: ``settings.preset_name``);
    ``conditions`` names from ``methods.CONDITIONS`` or a ``{name: Method}``
    dict (default: :func:`default_conditions` of the preset);
    ``overrides`` change single fields of the preset (e.g. ``max_epochs=2``);
    ``strict=False`` skips unreadable files and utterances (``--lenient``);
    ``batch`` > 1 trains that many jobs at once per process (``batched``; on
    a GPU, not on a CPU, where one job per core is faster).
    ``test_speakers`` runs only the folds that test them (default: every speaker's).
    ``dask`` runs the jobs on a Dask cluster (``grid.dask_cluster``: a
    scheduler address, or "local"), one thread per job, every worker's threads
    busy; features are extracted here first.
    ``threads``: CPU threads per job (default: this machine's cores shared
    out among this process's jobs at once; not with ``dask``). Give 1 to each of two processes
    that train into one directory on one machine: each would otherwise take
    every core, and two processes of two threads on two cores run several
    times slower than one thread each.
    A run directory holds the jobs of one setup computed from one dataset: a
    different one is refused (``check_run``). The tables written in it are of
    all its jobs (:func:`write_tables`); those returned, of ``conditions`` and
    ``seeds`` (and ``test_speakers``) only.
    """
    if dask and threads is not None:
        raise ValueError("threads is for this machine's processes; on a Dask cluster each job takes one thread")
    threads = 1 if dask else check_threads(threads)
    if test_speakers is not None and not len(test_speakers):
        raise ValueError("test_speakers is empty; give None to run every speaker's fold")
    preset_name = resolve_preset(preset_name)
    methods = resolve(default_conditions(preset_name) if conditions is None else conditions)
    seeds = check_seeds(seeds)
    if Path(out).exists() and not Path(out).is_dir():
        raise ValueError(f"{out} is a file, not a run directory; choose another --out")
    settings = preset(preset_name, **overrides)
    corpus = corpus if isinstance(corpus, Corpus) else load_corpus(corpus, classes=classes, strict=strict)
    out = Path(out)
    identity = dict(classes=corpus.class_set, feature_set=feature_set, preset=preset_name, settings=asdict(settings))
    if (out / "run.json").is_file():
        check_run(out, **identity)  # fail before extracting features when the setup differs
    dataset = prepare(corpus, feature_set, progress, n_jobs, strict)
    claim_run(out, dict(corpus=corpus_location(corpus.root), utterances=len(dataset), **identity,
                     data=dataset.fingerprint()))
    folds = loso_folds(dataset.speakers)
    if test_speakers is not None:
        unknown = sorted(set(test_speakers) - {f.test for f in folds})
        if unknown:
            raise ValueError(f"test speaker(s) {unknown} are not speakers of the corpus; choose from "
                             f"{sorted(f.test for f in folds)}")
        folds = [f for f in folds if f.test in set(test_speakers)]
    todo = {c: sum(not job_path(out, c, f, s).is_file() for f in folds for s in seeds) for c in methods}
    if progress:
        print(plan(dataset, todo, methods, folds, seeds, settings, preset_name, n_jobs, batch, threads), flush=True)
    with dask_cluster(dask) as client:
        run_grid(dataset, out, methods, folds, seeds, settings, -1 if client else n_jobs, progress, batch,
                 threads=threads)
    if progress and preset_name == "small" and any(todo.values()):  # the CPU's default: say what it left out
        print(beyond(dataset, folds, seeds, settings, n_jobs), flush=True)
    every = load_jobs(out)
    written = _write(out, tables(every, corpus.has_truth))  # write_tables, with the jobs loaded once
    tested = {f.test for f in folds}
    asked = [r for r in every if r["condition"] in methods and r["seed"] in seeds and r["fold"] in tested]
    return written if len(asked) == len(every) else tables(asked, corpus.has_truth)


def default_conditions(preset_name: str) -> tuple[str, ...]:
    """The conditions :func:`reproduce` runs when none are named: Table 2's (``methods.PAPER_CONDITIONS``), or,
    on the ``small`` preset (a CPU's default), ``methods.LAPTOP_CONDITIONS``: the paper's method, its baseline
    and its control, within 20 minutes on 2 cores."""
    return LAPTOP_CONDITIONS if preset_name == "small" else tuple(PAPER_CONDITIONS)


def beyond(dataset: Dataset, folds, seeds, settings: Settings, n_jobs: int) -> str:
    """How to run Table 2 in full from the ``small`` preset's run, and the paper's network, with their cost here."""
    table2 = resolve(PAPER_CONDITIONS)
    jobs = {c: len(folds) * len(seeds) for c in table2}
    small = _grid_estimate(dataset, jobs, table2, folds, settings, n_jobs)
    paper = _grid_estimate(dataset, jobs, table2, folds, preset("paper", device=settings.device), n_jobs)
    return (f"Table 2's {len(table2)} conditions on this preset: --conditions {','.join(table2)} "
            f"(about {estimate.describe(small)} here). With the paper's network (the default on a GPU): "
            f"--preset paper, e.g. make reproduce ARGS=\"--preset paper\" (Table 2: about "
            f"{estimate.describe(paper)} here).")


def _grid_estimate(dataset: Dataset, todo: dict[str, int], methods: dict[str, Method], folds, settings: Settings,
                   n_jobs: int, threads: int | None = None) -> float:
    """Rough seconds of ``todo`` jobs here: one network epoch timed on as many threads as a job gets."""
    workers = min(worker_count(n_jobs), max(1, sum(todo.values())))
    threads = threads or threads_per_job(n_jobs, sum(todo.values()))
    epoch = estimate.epoch_seconds(dataset, folds[0], settings, threads=threads)
    return estimate.grid_seconds(dataset, todo, methods, folds[0], settings, epoch, workers)


def plan(dataset: Dataset, todo: dict[str, int], methods: dict[str, Method], folds, seeds, settings: Settings,
         preset_name: str, n_jobs: int, batch: int = 1, threads: int | None = None) -> str:
    """What ``reproduce`` is about to run (``todo``: jobs per condition not on disk yet) and about how long it takes.

    The time comes from one network epoch timed here (a few seconds; see
    ``estimate``), and only for one job per process (``batch`` 1).
    """
    n = sum(todo.values())
    text = (f"Plan: {n} of {len(methods) * len(folds) * len(seeds)} jobs to run ({len(methods)} condition(s): "
            f"{', '.join(methods)} x {len(folds)} folds x {len(seeds)} seed(s)), preset {preset_name}, "
            f"{min(worker_count(n_jobs), max(n, 1))} at a time")
    if not n or batch > 1:
        return text + "."
    seconds = _grid_estimate(dataset, todo, methods, folds, settings, n_jobs, threads)
    return text + (f". Calibrated here: about {estimate.describe(seconds)} (rough: it assumes "
                   f"{estimate.EPOCHS_PER_PATIENCE} x patience epochs per phase; early stopping decides).")
