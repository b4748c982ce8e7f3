"""The label-noise methods side by side: what each gains over the baseline, against gold and the truth, how well it
finds the wrong labels, and what it costs (chapter "Other ways to learn from ambiguous labels")."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from . import stats, study
from .correction import label_correction
from .methods import CONDITIONS, FORGET_RATES
from .report import _by_condition, _ordered, has_truth, paired_by_session, session_intervals, titles

# The conditions the chapter compares, in its order: the baseline, label smoothing (the study's control), the
# paper's L + w, and the methods of ``methods.ALTERNATIVES``.
COMPARED = ("blstm_att", "smoothed", "L_w", "gce", "co_teaching", "meta_weight_net", "cl_drop", "cl_relabel")
# The conditions that distrust some labels more than others: the paper's L and w, alone and together, and the others.
DISTRUSTING = ("L", "w", "L_w", "gce", "co_teaching", "meta_weight_net", "cl_drop", "cl_relabel")


def lines_of_code(path) -> int:
    """Lines of a Python file that hold code: not blank, not a comment, not a docstring."""
    source = Path(path).read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for number, line in enumerate(source.splitlines(), start=1)
               if line.strip() and not line.strip().startswith("#") and number not in docstrings)


def method_sizes() -> pd.DataFrame:
    """Each module of ``minisermeta.methods``: its classes and its lines of code (:func:`lines_of_code`)."""
    import inspect

    from . import methods

    rows = {}
    for path in sorted(Path(methods.__file__).parent.glob("*.py")):
        module = f"minisermeta.methods.{path.stem}" if path.stem != "__init__" else "minisermeta.methods"
        classes = sorted({type(m).__name__ for m in CONDITIONS.values()
                          if inspect.getmodule(type(m)).__name__ == module})
        rows[f"methods/{path.name}"] = {"classes": ", ".join(classes), "lines of code": lines_of_code(path)}
    return pd.DataFrame.from_dict(rows, orient="index")


def job_cost(results: list[dict], baseline: str = "blstm_att", conditions=None) -> pd.DataFrame:
    """What each condition's jobs took, alone and beside the baseline's same (fold, seed) job.

    ``seconds per job``: the median over every job of the condition (``jobs``
    of them); the ratios are medians over the jobs paired with the baseline's.

    ``× baseline``: a whole job, its method's setup (confident learning's
    cross-validation) included, so it also counts how long early stopping
    let it train; ``× baseline per epoch``: one network epoch, setup left
    out: what the method adds to each step. Times are as the jobs recorded
    them, in the process that ran them (compare jobs run alike: one job per
    process; a batched job records its batch's time). Rows in the
    order of ``conditions`` (default: the paper's, then the others).
    """
    grouped, names = _by_condition(results), titles(results)
    if baseline not in grouped:
        raise ValueError(f"no results of the baseline {baseline!r}; run it first")

    def per_epoch(r):
        return (r["seconds"] - r.get("setup_seconds", 0.0)) / len(r["epochs"])

    base = {(r["fold"], r["seed"]): r for r in grouped[baseline]}
    rows = {}
    for condition in [c for c in conditions if c in grouped] if conditions else _ordered(grouped):
        pairs = [(r, base[(r["fold"], r["seed"])]) for r in grouped[condition] if (r["fold"], r["seed"]) in base]
        rows[names[condition]] = {
            "seconds per job": float(np.median([r["seconds"] for r in grouped[condition]])),
            "× baseline": float(np.median([r["seconds"] / b["seconds"] for r, b in pairs])) if pairs else np.nan,
            "× baseline per epoch": float(np.median([per_epoch(r) / per_epoch(b) for r, b in pairs]))
            if pairs else np.nan,
            "jobs": len(grouped[condition])}
    return pd.DataFrame.from_dict(rows, orient="index")


def side_by_side(results: list[dict], conditions=COMPARED, baseline: str = "blstm_att",
                 confidence: float = 0.95) -> pd.DataFrame:
    """One row per condition: its UA against gold and against the truth (``UA``, ``UA low``, ``UA high``: mean over
    sessions with its t interval, every job of the condition; ``report.session_intervals``), UA minus the
    baseline's (``UA − baseline``, ``low``, ``high``: paired by session, on the jobs both ran; Holm's
    correction over every row and both targets, a family of its own: the study's verdict corrects over its claims),
    the label-correction measures (``correction.label_correction``) and the cost (:func:`job_cost`). Off SynthEmo
    (no truth): gold alone, without the label correction."""
    results = [r for r in results if r["condition"] in conditions or r["condition"] == baseline]
    names = titles(results)
    truth = has_truth(results)  # off SynthEmo: gold only, and no label correction
    paired = {against: paired_by_session(results, baseline, against=against, confidence=confidence)
              for against in (("gold", "truth") if truth else ("gold",))}
    adjusted = np.split(stats.holm(np.concatenate([paired[a]["UA p"].to_numpy() for a in paired])), len(paired))
    ran = _by_condition(results)
    table = pd.DataFrame(index=[names[c] for c in conditions if c in ran])  # in the order asked for
    for (against, pairs), holm in zip(paired.items(), adjusted):
        levels = session_intervals(results, against=against, confidence=confidence)
        for column in ("UA", "UA low", "UA high"):
            table[f"{column} ({against})"] = levels[column]
        table[f"UA − baseline ({against})"] = pairs["UA diff"]
        table[f"low ({against})"] = pairs["UA low"]
        table[f"high ({against})"] = pairs["UA high"]
        table[f"p Holm ({against})"] = pd.Series(holm, index=pairs.index)
    if truth:
        correction = label_correction(results, conditions)
        for column in ("precision", "recall", "AUROC"):
            table[column] = correction[column] if column in correction else np.nan
    cost = job_cost(results, baseline, conditions)
    table["× baseline time"] = cost["× baseline"]
    table["× per epoch"] = cost["× baseline per epoch"]
    table["seeds"] = pd.Series({names[c]: len({r["seed"] for r in g}) for c, g in ran.items()})
    return table


def real_differences(table: pd.DataFrame, alpha: float = 0.05) -> dict[str, dict[str, float]]:
    """Of a :func:`side_by_side` table, ``{method: {target: UA − baseline}}`` for each difference whose Holm-corrected
    p is below ``alpha``: a method appears with the targets (gold, truth) on which it differs, and no others."""
    return _differences(table, lambda row, against: row[f"p Holm ({against})"] < alpha)


def real_before_correction_only(table: pd.DataFrame, alpha: float = 0.05) -> dict[str, dict[str, float]]:
    """As :func:`real_differences`, for each difference whose own interval (the table's ``low``, ``high``) excludes
    zero while its Holm-corrected p is not below ``alpha``: one a reader of the interval alone would call real."""
    return _differences(table, lambda row, against: (row[f"low ({against})"] > 0 or row[f"high ({against})"] < 0)
                        and not row[f"p Holm ({against})"] < alpha)


def _differences(table: pd.DataFrame, keep) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for name, row in table.iterrows():
        for against in ("gold", "truth"):
            if f"p Holm ({against})" in table and keep(row, against):
                found.setdefault(name, {})[against] = row[f"UA − baseline ({against})"]
    return found


def forget_rates(results: list[dict], rates: dict = FORGET_RATES) -> tuple[pd.DataFrame, dict[str, float], list[dict]]:
    """Co-teaching's forget rate chosen on validation speakers, as the study chooses the l/w update.

    ``rates``: ``{condition: CoTeaching}``, the rates to choose among (a rate
    of your own joins them by its condition name). Returns the validation UA
    of each of them that ran (on the seeds all of them ran), the rate chosen for each session from
    the *other* sessions' validation speakers (``study.nested_choice``), and
    the co-teaching jobs that choice picks, as condition ``co_teaching``: the
    row the comparison shows. The truth is not read.
    """
    sweep = {name: [dict(r, condition="co_teaching") for r in results if r["condition"] == name]
             for name in rates}
    sweep = {name: jobs for name, jobs in sweep.items() if jobs}
    if not sweep:
        raise ValueError(f"no jobs of the forget rates to choose among ({', '.join(rates)}); run them first")
    seeds = study.shared_seeds(sweep, "co_teaching")
    table = pd.DataFrame.from_dict(
        {rates[name].forget_rate: {
            "validation UA": study.validation_scores([r for r in jobs if r["seed"] in seeds])["UA"],
            "seeds": len(seeds)} for name, jobs in sweep.items()}, orient="index").rename_axis("forget rate")
    chosen, jobs = study.nested_choice(sweep, "co_teaching")
    title = CONDITIONS["co_teaching"].title  # the method's row; the rate under it is the chosen one
    jobs = [dict(r, method={**r["method"], "title": title}) for r in jobs]
    return table.sort_index(), {s: rates[name].forget_rate for s, name in chosen.items()}, jobs


def compared(results: list[dict]) -> list[dict]:
    """The jobs of :data:`COMPARED`, co-teaching's at the forget rate chosen per session (:func:`forget_rates`)."""
    kept = [r for r in results if r["condition"] in COMPARED and r["condition"] not in FORGET_RATES]
    return kept + forget_rates(results)[2] if any(r["condition"] in FORGET_RATES for r in results) else kept
