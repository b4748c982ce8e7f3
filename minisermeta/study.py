"""The study behind the book's verdict: the paper's claims as paired differences, and the l/w update chosen on validation.

Two parts, each with its run directories under ``results/``:

* **Seeds and controls** (:data:`SEEDS`, :data:`CONDITIONS`): every
  condition the verdict reads, over five training seeds, each job seeded from
  (seed, fold). :func:`verdict` turns the paper's claims (:data:`CLAIMS`) into
  differences between two conditions, session by session, with t intervals
  and Holm's correction over every claim, measure and target at once.
  :func:`agreement` and :func:`run_gap` set two runs of the claims side by side
  (two presets): whether they reach the same verdicts, and how far apart their
  differences lie, session by session.
* **The l/w update** (:data:`SWEEP`): the options the paper leaves open (the
  optimiser and learning rate of l, the label scale) swept for L + w.
  :func:`choose` picks one from the *validation* speakers' gold labels only,
  and :func:`nested_choice` picks one per session from the other sessions'
  validation speakers, so that the chosen setting's test scores are held out;
  :func:`sweep_table` shows beside each option what SynthEmo's truth says about
  it (test scores, labels fixed and broken), which no choice reads.
* **The label scale and the annotator noise** (:data:`SCALES`, :data:`NOISES`):
  :func:`scale_table` shows what the scale of the starting targets does to each
  condition that starts from them; :func:`noise_table` repeats the sweep's
  choice where gold is the truth and where it is twice as noisy.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import grid, metrics, paper, pipeline, report, stats
from .corpora.base import session_of
from .settings import preset

SEEDS = (0, 1, 2, 3, 4)  # training seeds of every condition the verdict reads
# The conditions the verdict reads: the baseline and the paper's other baselines (over- and undersampling), its
# learned variants (the pretrained one in both readings), and the controls that separate learning from the label
# smoothing the learned targets start from (smoothed) and from the pretrained variant's extra epochs
# (smoothed_pretrained).
CONDITIONS = ("blstm_att", "oversampling", "undersampling", "smoothed", "smoothed_pretrained", "L", "w", "L_w",
              "L_w_pretrained", "L_w_pretrained_gold")


class Claim(NamedTuple):
    """A claim as a paired difference, condition minus baseline (WA and UA), and what the paper says of it."""

    text: str  # the claim, in the book's words
    paper: str  # where the paper makes it (its numbers, where Table 2 has both rows, come from ``paper.TABLE2``)
    condition: str
    baseline: str
    expects: str = "better"  # the paper's claim: the condition is "better", "not better", or "" (a control of ours)


CLAIMS = (
    Claim("L + w beats the baseline", "Table 2", "L_w", "blstm_att"),
    Claim("w alone beats the baseline", "Table 2", "w", "blstm_att"),
    Claim("L alone beats the baseline", "Table 2", "L", "blstm_att"),
    Claim("w has more influence than L", "section 4", "w", "L"),
    # Table 2's ordering: the full model above each of its halves.
    Claim("L + w beats L alone", "Table 2", "L_w", "L"),
    Claim("L + w beats w alone", "Table 2", "L_w", "w"),
    Claim("L + w beats oversampling", "section 4: \"much better\"", "L_w", "oversampling"),
    Claim("L + w beats undersampling", "section 4: \"much better\"", "L_w", "undersampling"),
    Claim("pretraining L + w helps", "section 4: it \"did not seem to work better\"", "L_w_pretrained", "L_w",
          "not better"),
    Claim("pretraining L + w on one-hot gold helps", "section 4: it \"did not seem to work better\"",
          "L_w_pretrained_gold", "L_w", "not better"),
    # The controls of this study: the learned variants start from smoothed targets, the baseline does not.
    Claim("label smoothing alone beats the baseline", "not tested (our control)", "smoothed", "blstm_att", ""),
    Claim("L + w beats its label smoothing alone", "not tested (our control)", "L_w", "smoothed", ""),
    Claim("w beats its label smoothing alone", "not tested (our control)", "w", "smoothed", ""),
    Claim("L beats its label smoothing alone", "not tested (our control)", "L", "smoothed", ""),
    Claim("pretrained L + w beats its schedule without learning", "not tested (our control)", "L_w_pretrained",
          "smoothed_pretrained", ""),
    # ...and the schedule itself: the pretrained variant's extra epochs with nothing learned, against one run.
    Claim("the pretrained schedule's extra epochs help", "not tested (our control)", "smoothed_pretrained",
          "smoothed", ""),
)
# Our conditions that stand for a row of the paper's Table 2: the pretrained variant as the paper describes it.
PAPER_ROWS = {"L_w_pretrained_gold": "L_w_pretrained"}


def paper_difference(condition: str, baseline: str) -> tuple[float, float]:
    """The paper's WA and UA difference (points) between two rows of its Table 2; NaNs where one is not there."""
    condition, baseline = PAPER_ROWS.get(condition, condition), PAPER_ROWS.get(baseline, baseline)
    if condition in paper.TABLE2 and baseline in paper.TABLE2:
        return tuple(round(paper.TABLE2[condition][k] - paper.TABLE2[baseline][k], 1) for k in (-2, -1))
    return float("nan"), float("nan")


def _outcome(verdicts: tuple[str, str], expects: str) -> str:
    """What the WA and UA verdicts say of the paper's claim."""
    if expects == "better":
        if "reversed" in verdicts:
            return "contradicted"
        return {2: "supported", 1: "partly supported"}.get(verdicts.count("holds"), "not supported")
    if expects == "not better":
        return "contradicted" if "holds" in verdicts else "consistent"
    return ""


def verdict(results: list[dict], claims=CLAIMS, targets=("gold", "truth"), estimator: str = "pooled",
            confidence: float = 0.95) -> pd.DataFrame:
    """Each claim against each target: WA and UA differences with intervals, a verdict, and what it says of the paper.

    A row per (claim, target) whose two conditions share jobs (``report.contrasts``:
    sessions as the unit, each session's folds and seeds averaged first; only
    the (fold, seed) jobs both ran). Holm's correction runs over the whole
    table (claims x targets x WA/UA), the family the book draws from; the
    truth is left out of ``targets`` where the results have none (a real
    corpus). ``WA verdict`` and ``UA verdict``: "holds" when the difference
    is positive and its Holm p below 1 - ``confidence``, "reversed" when
    negative and below, else "not shown". ``paper's claim``, for what the
    paper says is better: "supported" (both measures hold), "partly
    supported" (one holds, the other is not shown), "contradicted" (one is
    reversed) or "not supported"; for what it says is not better:
    "consistent" or "contradicted" (one holds); empty for our controls.
    """
    targets = [t for t in targets if t != "truth" or report.has_truth(results)]
    rows = []
    for claim in claims:
        for against in targets:
            table = report.contrasts(results, [(claim.condition, claim.baseline)], against, estimator, confidence)
            if len(table):
                wa, ua = paper_difference(claim.condition, claim.baseline)
                rows.append({"claim": claim.text, "against": against, "paper": claim.paper, "expects": claim.expects,
                             "paper WA diff": wa, "paper UA diff": ua, **table.iloc[0].to_dict()})
    if not rows:
        raise ValueError("no claim has results of both its conditions; run the study's conditions first")
    table = _verdicts(report.with_holm(pd.DataFrame(rows)), confidence)
    table["paper's claim"] = [_outcome((wa, ua), expects) for wa, ua, expects
                              in zip(table["WA verdict"], table["UA verdict"], table.pop("expects"))]
    return table.set_index(["claim", "against"])


def _verdicts(table: pd.DataFrame, confidence: float, column: str = "diff",
              words=("holds", "reversed")) -> pd.DataFrame:
    """``WA verdict`` and ``UA verdict`` of a table of differences (its "WA <column>", "UA <column>") with Holm
    p-values: ``words[0]``, ``words[1]`` or not shown."""
    for measure in ("WA", "UA"):
        table[f"{measure} verdict"] = stats.verdicts(table[f"{measure} {column}"], table[f"{measure} p (Holm)"],
                                                     confidence, words=words)
    return table


def agreement(runs: dict[str, list[dict]], conditions=CONDITIONS) -> pd.DataFrame:
    """Whether runs (``{name: job results}``, e.g. two presets) reach the same verdicts on the same claims.

    Each run is cut to ``conditions`` and to the (condition, fold, seed) jobs
    every run holds, so every :func:`verdict` corrects over the same family of
    claims on the same folds and seeds; a run lacking one of them is an error.
    A row per (claim, target): each run's WA and UA differences with their
    intervals and both verdicts; whether the verdicts agree (WA and UA) and whether the
    differences point the same way (WA and UA).
    """
    tables = {name: verdict(results) for name, results in _on_shared_jobs(runs, conditions).items()}
    columns = ["WA diff", "WA low", "WA high", "UA diff", "UA low", "UA high", "WA verdict", "UA verdict"]
    joined = pd.concat({name: table[columns] for name, table in tables.items()}, axis=1, join="inner")
    joined.columns = [f"{name} {column}" for name, column in joined.columns]

    def alike(column, values=lambda frame: frame):
        return values(joined[[f"{name} {column}" for name in tables]]).nunique(axis=1) == 1

    joined["agree"] = alike("WA verdict") & alike("UA verdict")
    joined["same sign"] = alike("WA diff", np.sign) & alike("UA diff", np.sign)
    return joined


def run_gap(runs: dict[str, list[dict]], conditions=CONDITIONS, claims=CLAIMS,
            confidence: float = 0.95) -> pd.DataFrame:
    """How far the first of two runs' differences lies from the second's, claim by claim (e.g. preset against preset).

    Both runs cut as in :func:`agreement`. For each session, the claim's
    difference (``report.session_differences``) in the first run minus the
    one in the second: a paired value, as both runs test the same speakers.
    A row per (claim, target) with the mean gap in WA and UA, its t interval,
    Holm's correction over this table (claims x targets x WA/UA) and a
    verdict: "larger" or "smaller" (the first run's difference against the
    second's) where the gap is real, else "not shown".
    """
    if len(runs) != 2:
        raise ValueError(f"run_gap compares two runs, not {len(runs)}")
    first, second = _on_shared_jobs(runs, conditions).values()
    targets = [t for t in ("gold", "truth") if t != "truth" or (report.has_truth(first) and report.has_truth(second))]
    rows = {}
    for claim in claims:
        for against in targets:
            a, b = (report.session_differences(jobs, claim.condition, claim.baseline, against)
                    for jobs in (first, second))
            gap = np.array([a[session] - b[session] for session in sorted(a.keys() & b.keys())])
            if len(gap):
                rows[(claim.text, against)] = report.paired_summary(gap, confidence, name="gap")
    table = _verdicts(report.with_holm(pd.DataFrame.from_dict(rows, orient="index")), confidence,
                      column="gap", words=("larger", "smaller"))
    table.index.names = ["claim", "against"]
    return table


def _on_shared_jobs(runs: dict[str, list[dict]], conditions) -> dict[str, list[dict]]:
    """Each run cut to ``conditions`` and to the (condition, fold, seed) jobs every run holds (an error if that
    leaves a condition out)."""
    keys = [{(r["condition"], r["fold"], r["seed"]) for r in results if r["condition"] in conditions}
            for results in runs.values()]
    shared = set.intersection(*keys)
    missing = sorted(set(conditions) - {condition for condition, _, _ in shared})
    if missing:
        raise ValueError(f"not every run has jobs of {', '.join(missing)} on shared folds and seeds")
    return {name: [r for r in results if (r["condition"], r["fold"], r["seed"]) in shared]
            for name, results in runs.items()}


# -- the l/w update, chosen on validation ----------------------------------------------------------------

# The l/w update options swept for L + w (``Settings`` fields; the rest is the preset's). Only the label
# update changes; w keeps Adam (``meta.LabelWeights.configure_optimizer``). Adam moves every label
# logit by about its rate per l/w epoch, so at a larger label scale its rate grows with the scale (a
# contradicted label then flips after as many epochs). SGD moves l_n,k by rate * s_n,k (CE_n - CE_n,k)
# / w_n, which needs soft targets (scale 1) to move a label at all.
SWEEP = {
    "adam 0.1, scale 1": dict(lw_optimizer="adam", lr_labels=0.1, label_scale=1.0),  # the presets' update
    "adam 0.03, scale 1": dict(lw_optimizer="adam", lr_labels=0.03, label_scale=1.0),
    "sgd 1, scale 1": dict(lw_optimizer="sgd", lr_labels=1.0, label_scale=1.0),
    "sgd 3, scale 1": dict(lw_optimizer="sgd", lr_labels=3.0, label_scale=1.0),
    "adam 0.3, scale 3": dict(lw_optimizer="adam", lr_labels=0.3, label_scale=3.0),
    "adam 1, scale 10": dict(lw_optimizer="adam", lr_labels=1.0, label_scale=10.0),
    # What the settings above leave alone, each varied once from the gentlest Adam update: w's rate, four times as
    # fast (toward the w ~ sqrt(CE) fixed point, which one step of rate 0.05 per epoch never reaches), and the
    # number of full-batch steps per l/w epoch, three on the same network outputs (l and w move about 3x as far).
    "adam 0.03, scale 1, w 0.2": dict(lw_optimizer="adam", lr_labels=0.03, label_scale=1.0, lr_weights=0.2),
    "adam 0.03, scale 1, 3 steps": dict(lw_optimizer="adam", lr_labels=0.03, label_scale=1.0, lw_steps=3),
}


# The label scale: s starts at softmax(scale * one-hot) for the learned variants and the smoothed control,
# so the scale sets both how hard the targets are and how far a label must move to flip. Scale 1 reads the
# study's own jobs; 3 and 10 run in the sweep's settings at those scales (Adam's rate grows with the scale). Each
# scale is read on the seeds whole at every scale.
SCALES = {1.0: "adam 0.1, scale 1", 3.0: "adam 0.3, scale 3", 10.0: "adam 1, scale 10"}
SCALE_CONDITIONS = ("smoothed", "L", "w", "L_w")
# Annotator noise (times SynthEmo's default chance of mishearing; ``book.reannotate``) of the sweep's runs:
# a method that corrects labels should gain more over the baseline as gold gets noisier.
NOISES = (0.0, 1.0, 2.0)


def sweep_dir(root, name: str) -> Path:
    """The run directory of one sweep setting under ``root`` ("sgd 3, scale 1" -> ``root/sgd-3_scale-1``)."""
    return Path(root) / re.sub(r"[^0-9a-z.]+", "-", name.lower()).replace("-scale-", "_scale-").strip("-")


def run_sweep(corpus, root, preset_name: str, seeds=(0,), conditions=("L_w",), settings=None,
              **options) -> dict[str, list[dict]]:
    """Run (or resume) every setting of ``settings`` (default: :data:`SWEEP`); ``{name: job results}``.

    Each setting is its own run directory (``sweep_dir``), since a run holds
    jobs of one setup; ``options`` go to ``pipeline.reproduce`` (``n_jobs``, ``progress``).
    """
    settings = SWEEP if settings is None else settings
    found = {}
    for name, fields in settings.items():
        out = sweep_dir(root, name)
        pipeline.reproduce(corpus, preset_name=preset_name, conditions=list(conditions), seeds=seeds, out=out,
                           **options, **fields)
        found[name] = [r for r in grid.load_jobs(out) if r["condition"] in conditions and r["seed"] in seeds]
    return found


def load_sweep(root, preset_name: str, settings=None) -> dict[str, list[dict]]:
    """``{name: job results}`` of the sweep settings that have a run directory under ``root``.

    Each directory is checked to hold a run of ``preset_name`` with the
    setting's fields (``pipeline.check_run``): a stale one is an error, not a silent mix.
    """
    settings = SWEEP if settings is None else settings
    found = {}
    for name, fields in settings.items():
        out = sweep_dir(root, name)
        if (out / "run.json").is_file():
            pipeline.check_run(out, preset=preset_name, settings=asdict(preset(preset_name, **fields)))
            found[name] = grid.load_jobs(out)
    return found


def validation_scores(results: list[dict]) -> dict[str, float]:
    """WA and UA (percent) on the validation speakers' gold labels, every job's predictions pooled.

    What a choice of hyper-parameters may read: SynthEmo's truth is not looked
    at. (A fold's validation speaker is another fold's test speaker; see
    :func:`nested_choice` for a choice that leaves a session's test speakers out.)
    """
    if not results:
        raise ValueError("no job results to score")
    if any("valid" not in r for r in results):
        raise ValueError("these job results hold no validation predictions (computed by an older minisermeta)")
    true = np.concatenate([r["valid"]["gold"] for r in results])
    pred = np.concatenate([r["valid"]["pred"] for r in results])
    s = metrics.scores(true, pred, len(report.class_names(results)))
    return {"WA": 100 * s["wa"], "UA": 100 * s["ua"]}


def whole_seeds(results: list[dict], conditions, folds: int) -> set[int]:
    """The seeds of which every one of ``conditions`` has all ``folds`` jobs in ``results``: a grid still running
    (or a seed run for some conditions only) adds no partial seed to a comparison."""
    count: dict[tuple[str, int], set] = {}
    for r in results:
        count.setdefault((r["condition"], r["seed"]), set()).add(r["fold"])
    seeds = {seed for _, seed in count}
    return {seed for seed in seeds if all(len(count.get((c, seed), ())) == folds for c in conditions)}


def shared_seeds(sweep: dict[str, list[dict]], condition: str = "L_w") -> set[int]:
    """The seeds every setting of ``sweep`` ran ``condition`` with: what a choice between them compares."""
    seeds = [{r["seed"] for r in results if r["condition"] == condition} for results in sweep.values()]
    return set.intersection(*seeds) if seeds else set()


def choose(sweep: dict[str, list[dict]], condition: str = "L_w", leave_out: str | None = None) -> str:
    """The setting of ``sweep`` (``{name: job results}``) whose ``condition`` jobs have the highest validation UA.

    Settings are compared on the seeds they all ran (:func:`shared_seeds`),
    like with like. ``leave_out``: a session whose folds are not read (their
    validation speakers are that session's, so its test speakers stay unseen).
    The first of equal settings wins.
    """
    if not sweep:
        raise ValueError("no sweep setting has results; run_sweep first")
    seeds = shared_seeds(sweep, condition)
    if not seeds:
        raise ValueError(f"the sweep's settings share no seed of {condition}: nothing to compare them on")
    ua = {name: validation_scores([r for r in results if r["condition"] == condition and r["seed"] in seeds
                                   and session_of(r["fold"]) != leave_out])["UA"]
          for name, results in sweep.items()}
    return max(ua, key=ua.get)


def nested_choice(sweep: dict[str, list[dict]], condition: str = "L_w") -> tuple[dict[str, str], list[dict]]:
    """A setting per session, chosen on the other sessions' validation speakers, and the jobs it picks.

    Returns ``({session: setting}, jobs)``: for each session the jobs of its
    folds under the setting chosen without it, so their test scores (and
    label fixes) measure the choice on speakers it never read. The choice
    reads the seeds every setting ran; the jobs are every seed the chosen
    setting ran (a setting can be run over more seeds once chosen).
    """
    sessions = sorted({session_of(r["fold"]) for results in sweep.values() for r in results})
    chosen = {session: choose(sweep, condition, leave_out=session) for session in sessions}
    jobs = [r for session, name in chosen.items() for r in sweep[name]
            if r["condition"] == condition and session_of(r["fold"]) == session]
    return chosen, jobs


def _scores(jobs: list[dict], condition: str) -> dict:
    """Test WA and UA against gold and the truth, and how right the training labels end (``report.label_fixes``)."""
    row = {}
    for against in ("gold", "truth"):
        test = report.table2(jobs, against=against).iloc[0]
        row[f"test {against} WA"], row[f"test {against} UA"] = test[("", "WA")], test[("", "UA")]
    fixes = report.label_fixes(jobs, conditions=[condition]).iloc[0]  # one row: its counts read as floats
    return {**row, "fixed": int(fixes["fixed"]), "broken": int(fixes["broken"]),
            **{k: fixes[k] for k in ("gold right %", "learned right %")}, "jobs": len(jobs),
            "seeds": len({r["seed"] for r in jobs})}


def scale_table(by_scale: dict[float, list[dict]], conditions=SCALE_CONDITIONS) -> pd.DataFrame:
    """Per condition and label scale (``{scale: job results}``): test scores and how right the labels end.

    ``s on gold`` is where the targets start, softmax(scale * one-hot) at the
    gold class; for conditions that do not learn labels ``learned right %``
    equals ``gold right %``.
    """
    if not report.has_truth([r for results in by_scale.values() for r in results]):
        raise ValueError("scale_table needs results of a corpus with true labels (SynthEmo)")
    names = report.titles([r for results in by_scale.values() for r in results])
    rows = {}
    for condition in conditions:
        for scale, results in sorted(by_scale.items()):
            jobs = [r for r in results if r["condition"] == condition]
            if jobs:
                start = np.exp(scale) / (np.exp(scale) + len(report.class_names(jobs)) - 1)
                rows[(names[condition], scale)] = {"s on gold": start, **_scores(jobs, condition)}
    if not rows:
        raise ValueError(f"no results of {', '.join(conditions)} at any scale")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["condition", "label scale"]
    return table


def sweep_table(sweep: dict[str, list[dict]], condition: str = "L_w") -> pd.DataFrame:
    """Per setting: validation scores (what the choice reads), test scores and label fixes (what it must not).

    A row per setting on the seeds every setting ran (:func:`shared_seeds`);
    a last row, "nested choice", scores each session's folds under the setting
    :func:`nested_choice` picked for it, over every seed that setting ran: the
    choice's held-out result.
    """
    if not report.has_truth([r for results in sweep.values() for r in results]):
        raise ValueError("sweep_table needs results of a corpus with true labels (SynthEmo)")
    chosen, seeds = choose(sweep, condition), shared_seeds(sweep, condition)
    rows = {}
    for name, results in sweep.items():
        jobs = [r for r in results if r["condition"] == condition and r["seed"] in seeds]
        if jobs:
            rows[name] = {**{f"valid {k}": v for k, v in validation_scores(jobs).items()}, **_scores(jobs, condition),
                          "chosen": name == chosen}
    _, nested = nested_choice(sweep, condition)
    rows["nested choice"] = {**_scores(nested, condition), "chosen": False}
    return pd.DataFrame.from_dict(rows, orient="index")


def rerun_table(runs: dict[str, list[dict]], condition: str = "L_w") -> pd.DataFrame:
    """Two runs of the same ``condition`` jobs (``{name: job results}``) side by side, on the (fold, seed) jobs
    both hold: how far apart the arithmetic alone puts them.

    A CPU sums in an order that its thread count sets (each job records its
    ``threads``), so a seeded job rerun at another count differs in about the
    ninth digit of its first loss, and early stopping can grow that into
    another kept epoch. A row per run: test scores and label fixes as in
    :func:`sweep_table`, its jobs' thread counts, and, against the first run,
    how many jobs kept another epoch or predict some test utterance otherwise.
    Jobs that ran with other settings, another method or on another device
    are an error (that is not a rerun), and so is a (fold, seed) twice in a run.
    """
    if len(runs) != 2:
        raise ValueError(f"rerun_table compares two runs, not {len(runs)}")
    keyed = []
    for name, results in runs.items():
        jobs = {}
        for r in results:
            if r["condition"] == condition:
                if (r["fold"], r["seed"]) in jobs:
                    raise ValueError(f"run {name!r} holds {condition} on {r['fold']}, seed {r['seed']}, twice")
                jobs[r["fold"], r["seed"]] = r
        keyed.append(jobs)
    first, second = keyed
    shared = sorted(first.keys() & second.keys())
    if not shared:
        raise ValueError(f"the two runs share no {condition} job (fold, seed)")
    for fold, seed in shared:
        a, b = ({**job["settings"], "method": job.get("method"), "device": job.get("device")}
                for job in (first[fold, seed], second[fold, seed]))
        if a != b:
            changed = ", ".join(sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)))
            raise ValueError(f"not a rerun: {condition} on {fold}, seed {seed}, ran with another {changed} in "
                             f"{' and '.join(map(repr, runs))}")
    rows = {}
    for name, jobs in zip(runs, keyed):
        picked = [jobs[key] for key in shared]
        counts = sorted({r.get("threads") for r in picked}, key=lambda n: (n is None, n))
        rows[name] = {**_scores(picked, condition),
                      "threads": ", ".join("not recorded" if n is None else str(n) for n in counts),
                      "kept another epoch": sum(report.kept_epoch(jobs[k]) != report.kept_epoch(first[k])
                                                for k in shared),
                      "jobs predicting otherwise": sum(jobs[k]["test"]["pred"] != first[k]["test"]["pred"]
                                                       for k in shared)}
    return pd.DataFrame.from_dict(rows, orient="index")


def sweep_cleaning(sweep: dict[str, list[dict]], condition: str = "L_w", confidence: float = 0.95) -> pd.DataFrame:
    """Per setting of ``sweep``, on the seeds every setting ran: do its learned labels end more right than gold?

    ``report.label_cleaning`` of each setting's jobs (the session of a job's
    test speaker as the unit), Holm's correction over the settings, a verdict
    each as in :func:`noise_cleaning`. The truth measures each setting; no
    choice reads it (:func:`choose` reads validation only).
    """
    seeds = shared_seeds(sweep, condition)
    rows = {name: report.label_cleaning([r for r in results if r["seed"] in seeds], condition, confidence)
            for name, results in sweep.items() if any(r["condition"] == condition for r in results)}
    if not rows:
        raise ValueError(f"no setting of the sweep ran {condition}")
    return _cleaning_verdicts(rows, "setting", confidence)


def noise_contrasts(sweeps: dict[float, dict[str, list[dict]]], pairs=(("L_w", "blstm_att"),), chosen: str = "L_w",
                    confidence: float = 0.95) -> pd.DataFrame:
    """At each annotator noise (``{noise: sweep}``): each (condition, baseline) of ``pairs``, paired by session.

    ``chosen``'s jobs are those its nested choice picks (:func:`nested_choice`);
    any other condition's are its jobs anywhere in the sweep (the baseline and w
    learn no labels: the l/w setting does not change them). Each pair is read
    on the folds and seeds both ran (``report.contrasts``), against gold and
    against the truth where there is one; Holm's correction over the whole
    table, verdicts as in :func:`verdict`. Rows are (noise, contrast, against).
    """
    rows = []
    for noise, sweep in sorted(sweeps.items()):
        every = [r for results in sweep.values() for r in results]
        picked = [r for r in every if r["condition"] != chosen]
        if len(picked) < len(every):
            picked += nested_choice(sweep, chosen)[1]
        for against in [t for t in ("gold", "truth") if t != "truth" or report.has_truth(picked)]:
            table = report.contrasts(picked, pairs, against, "pooled", confidence)
            rows += [{"annotator noise": noise, "contrast": name, "against": against, **row.to_dict()}
                     for name, row in table.iterrows()]
    if not rows:
        raise ValueError(f"no annotator noise has jobs of both conditions of any of {list(pairs)}")
    return _verdicts(report.with_holm(pd.DataFrame(rows)), confidence).set_index(
        ["annotator noise", "contrast", "against"])


def chosen_contrasts(sweep: dict[str, list[dict]], controls: list[dict], against=("blstm_att", "smoothed", "w"),
                     chosen: str = "L_w", confidence: float = 0.95) -> pd.DataFrame:
    """The nested choice of ``sweep`` minus each condition of ``against``, paired by session (:func:`noise_contrasts`
    at one noise): does the setting validation chooses beat the baseline, the targets it starts from, w alone?

    ``controls``: job results holding ``against`` (the study's run, on the
    sweep's corpus and preset), joined to the sweep by :func:`with_controls`.
    Holm's correction over the table; rows are (contrast, against).
    """
    missing = [c for c in against if not any(r["condition"] == c for r in controls)]
    if missing:
        raise ValueError(f"the controls hold no job of {', '.join(missing)}")
    return noise_contrasts({1.0: with_controls(sweep, controls, against)}, [(chosen, c) for c in against], chosen,
                           confidence).droplevel("annotator noise")


def with_controls(sweep: dict[str, list[dict]], jobs: list[dict], conditions) -> dict[str, list[dict]]:
    """``sweep`` with the jobs of ``conditions`` from ``jobs`` added to its first setting's.

    The controls learn no labels, so no l/w setting changes them: they are
    run once, beside the first setting, and compared with every setting's
    choice from there (:func:`noise_contrasts` pairs by session).
    """
    first = next(iter(sweep))
    return {**sweep, first: sweep[first] + [r for r in jobs if r["condition"] in conditions]}


def noise_cleaning(sweeps: dict[float, dict[str, list[dict]]], condition: str = "L_w",
                   confidence: float = 0.95) -> pd.DataFrame:
    """At each annotator noise (``{noise: sweep}``): do the nested choice's learned labels end more right than gold?

    ``report.label_cleaning`` of the jobs :func:`nested_choice` picks, the
    session of a job's test speaker as the unit; Holm's correction over
    the noise levels. ``verdict``: "cleaner" when the difference is positive
    and its Holm p below 1 - ``confidence``, "less clean" when negative and
    below, else "not shown".
    """
    rows = {noise: report.label_cleaning(nested_choice(sweep, condition)[1], condition, confidence)
            for noise, sweep in sorted(sweeps.items())}
    return _cleaning_verdicts(rows, "annotator noise", confidence)


def learned_cleaning(results: list[dict], conditions=None, confidence: float = 0.95) -> pd.DataFrame:
    """Per condition that learns labels (default: every one in ``results``, ``report.label_learners``): do its
    learned labels end more right than gold?

    ``report.label_cleaning`` of each (the session of a job's test speaker as
    the unit), Holm's correction over the conditions, verdicts as in
    :func:`noise_cleaning`. Conditions without jobs are left out.
    """
    rows = _cleaning_rows(results, report.label_learners(results) if conditions is None else conditions, confidence)
    if not rows:
        raise ValueError(f"no job of {', '.join(conditions) if conditions else 'a condition that learns labels'}: "
                         "nothing to ask about cleaning")
    return _cleaning_verdicts(rows, "condition", confidence)


def _cleaning_rows(results: list[dict], conditions, confidence: float) -> dict[str, dict]:
    """``report.label_cleaning`` of each of ``conditions`` that has jobs in ``results``, by its title."""
    names = report.titles(results)
    present = {r["condition"] for r in results}
    return {names[c]: report.label_cleaning(results, c, confidence) for c in conditions if c in present}


def _cleaning_verdicts(rows: dict, index: str | list[str], confidence: float) -> pd.DataFrame:
    """``report.label_cleaning`` rows as a table with Holm's correction over them and a verdict each."""
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = [index] if isinstance(index, str) else index
    table.insert(table.columns.get_loc("p") + 1, "p (Holm)", stats.holm(table["p"]))
    table["verdict"] = stats.verdicts(table["diff"], table["p (Holm)"], confidence, ("cleaner", "less clean"))
    return table


def scale_contrasts(by_scale: dict[float, list[dict]], conditions=("L", "w", "L_w"), control: str = "smoothed",
                    confidence: float = 0.95) -> pd.DataFrame:
    """At each label scale (``{scale: job results}``): each learned condition minus ``control`` at the same scale.

    The control trains on the targets the learned conditions start from, so
    the difference is what learning l and w adds at that scale. Paired by
    session (``report.contrasts``) on the folds and seeds both ran, against
    gold and the truth where there is one; Holm's correction over the whole
    table, verdicts as in :func:`verdict`. Rows are (label scale, condition, against).
    """
    names = report.titles([r for results in by_scale.values() for r in results])
    rows = []
    for scale, results in sorted(by_scale.items()):
        for condition in conditions:
            for against in [t for t in ("gold", "truth") if t != "truth" or report.has_truth(results)]:
                table = report.contrasts(results, [(condition, control)], against, "pooled", confidence)
                if len(table):
                    rows.append({"label scale": scale, "condition": names[condition], "against": against,
                                 **table.iloc[0].to_dict()})
    if not rows:
        raise ValueError(f"no label scale has jobs of {control} and of one of {', '.join(conditions)}")
    return _verdicts(report.with_holm(pd.DataFrame(rows)), confidence).set_index(
        ["label scale", "condition", "against"])


def scale_cleaning(by_scale: dict[float, list[dict]], conditions=("L", "L_w"),
                   confidence: float = 0.95) -> pd.DataFrame:
    """At each label scale (``{scale: job results}``): do the learned labels of each condition end more right than gold?

    ``report.label_cleaning`` (the session of a job's test speaker as the
    unit), Holm's correction over the table, verdicts as in :func:`noise_cleaning`.
    Rows are (label scale, condition).
    """
    rows = {(scale, title): row for scale, results in sorted(by_scale.items())
            for title, row in _cleaning_rows(results, conditions, confidence).items()}
    if not rows:
        raise ValueError(f"no label scale has jobs of {', '.join(conditions)}")
    return _cleaning_verdicts(rows, ["label scale", "condition"], confidence)


def noise_table(sweeps: dict[float, dict[str, list[dict]]], condition: str = "L_w",
                baseline: str = "blstm_att") -> pd.DataFrame:
    """:func:`sweep_table` at each annotator noise (``{noise: sweep}``), each led by the baseline's row.

    The baseline's jobs are those of ``baseline`` anywhere in the sweep (its
    setting does not matter: it learns nothing). Rows are (noise, setting).
    """
    parts = {}
    for noise, sweep in sorted(sweeps.items()):
        base = [r for results in sweep.values() for r in results if r["condition"] == baseline]
        table = sweep_table(sweep, condition)
        if base:
            table = pd.concat([pd.DataFrame.from_dict({"baseline": {**_scores(base, baseline), "chosen": False}},
                                                      orient="index"), table])
        parts[noise] = table
    return pd.concat(parts, names=["annotator noise", "setting"])
