"""The main job end to end: corpus → features → leave-one-speaker-out grid → tables.

``python -m minisermeta reproduce`` and the book's notebooks call
:func:`reproduce`; rerunning it with the same output directory skips the jobs
already on disk.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from . import report
from .corpora import Corpus, load_corpus
from .dataset import Dataset
from .environment import home
from .features import extract
from .folds import loso_folds
from .grid import load_jobs, run_grid, write_json
from .methods import resolve
from .settings import preset, preset_name as resolve_preset


def prepare(corpus: Corpus, feature_set: str = "paper32", progress: bool = True, n_jobs: int = 1) -> Dataset:
    """Extract (or load from the cache) the features of a corpus and pack them for training."""
    return Dataset.from_corpus(corpus, extract(corpus, feature_set=feature_set, progress=progress, n_jobs=n_jobs))


def write_tables(results: list[dict], out: Path, has_truth: bool) -> dict[str, "report.pd.DataFrame"]:
    """Tables 2-3 and the data of Fig. 3 as CSV and Markdown under ``out``; returns them."""
    tables = {"table2": report.table2(results), "table2_beside_paper": report.table2_beside_paper(results),
              "table2_fold_spread": report.fold_spread(results), "epochs_kept": report.kept_epochs(results)}
    if has_truth:
        tables["table2_vs_truth"] = report.table2(results, against="truth")
    conditions = {r["condition"] for r in results}
    if "blstm_att" in conditions and len(conditions) > 1:
        tables["table2_paired"] = report.paired_differences(results)
        if has_truth:
            tables["table2_paired_vs_truth"] = report.paired_differences(results, against="truth")
    if "L_w" in conditions:
        tables["table3"] = report.table3(results)
        tables["fig3_label_moves"] = report.label_moves(results)
    if has_truth and conditions & {"L", "L_w", "L_w_pretrained"}:
        tables["label_fixes"] = report.label_fixes(results)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv")
        (out / f"{name}.md").write_text(report.to_markdown(table) + "\n")
    return tables


def _claim(out: Path, run: dict) -> None:
    """Record what a run directory holds; refuse to mix jobs of a different setup into it."""
    path = out / "run.json"
    if not path.is_file():
        write_json(path, run)
        return
    check_run(out, **run)


def check_run(out, **run) -> None:
    """Raise ``ValueError`` unless ``out/run.json`` records the given fields (``preset=…``, ``settings=…``).

    A run loaded from disk (the book's committed one) is checked like this, so
    a changed preset cannot pass off old results as its own.
    """
    out = Path(out)
    path = out / "run.json"
    if not path.is_file():
        raise ValueError(f"{out} holds no run.json; it was not written by minisermeta.reproduce")
    before = json.loads(path.read_text())
    run = json.loads(json.dumps(run))  # as it reads back from disk (tuples become lists)
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
              progress: bool = True, **overrides) -> dict:
    """Run (or resume) the grid of Table 2 and write its tables; returns them by name.

    ``corpus`` is ``'synthemo'``, an IEMOCAP-layout root or a :class:`Corpus`;
    ``preset_name`` ``quick`` or ``paper`` (default: by quick mode);
    ``conditions`` names from ``methods.CONDITIONS`` (default: the paper's
    Table 2, ``methods.PAPER_CONDITIONS``) or a ``{name: Method}`` dict;
    ``overrides`` change single fields of the preset (e.g. ``max_epochs=2``).
    """
    methods = resolve(conditions)
    preset_name = resolve_preset(preset_name)
    settings = preset(preset_name, **overrides)
    corpus = corpus if isinstance(corpus, Corpus) else load_corpus(corpus, classes=classes)
    out = Path(out)
    _claim(out, dict(corpus=corpus_location(corpus.root), classes=corpus.class_set, feature_set=feature_set,
                     utterances=len(corpus), preset=preset_name, settings=asdict(settings)))
    dataset = prepare(corpus, feature_set, progress, n_jobs)
    run_grid(dataset, out, methods, loso_folds(dataset.speakers), list(seeds), settings, n_jobs, progress)
    results = [r for r in load_jobs(out) if r["condition"] in methods and r["seed"] in seeds]
    return write_tables(results, out, corpus.has_truth)
