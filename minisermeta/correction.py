"""Which labels each method distrusts, measured against SynthEmo's truth: precision, recall, weights, agreement.

Every method that drops, reweights or relabels utterances says, per training
utterance of a job, how much it trusts the gold label (``trust``) and, where
it acts on a set, which it dropped or relabelled (``flagged``;
``methods.base.Method.record``). The paper's methods record l and w, read
here the same way: the learned w against its eq. (4) start (the l/w epoch
raises w_n, which divides the loss, for the labels it distrusts) and the
learned label against gold.

The interval's unit is the session of a job's test speakers, as for the
scores (``report.contrasts``): the jobs of one session's two folds, every
seed, are pooled, and the jobs of different sessions are separate trainings.
Their training utterances overlap (every job trains on the other sessions),
as the scores' training sets do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from .corpora import session_of
from .report import _by_condition, _ordered, _require, learned_labels, titles


def distrust(job: dict) -> dict | None:
    """What ``job``'s method distrusts, per training utterance; None for a method that trusts every gold label
    alike (the baseline).

    ``trust`` (higher is more), ``flagged`` (dropped or relabelled; None where
    the method acts on no set), ``label`` (what it trained
    on), ``gold`` and ``truth`` (None off SynthEmo).
    """
    train, method = job["train"], job.get("method", {})
    gold = np.asarray(train["gold"])
    label = learned_labels(train)
    trust = flagged = None
    if "trust" in train:
        trust = np.asarray(train["trust"], dtype=float)
        flagged = np.asarray(train["flagged"], dtype=bool) if "flagged" in train else None
    elif method.get("learn_weights"):  # the l/w epoch raised w_n (less weight) where it distrusts the label
        trust = np.asarray(train["initial_w"]) / np.asarray(train["w"])
        flagged = label != gold if method.get("learn_labels") else None
    elif method.get("learn_labels"):  # L alone: the learned target's probability of the gold label
        if "s" not in train:
            raise ValueError(f"the {job['condition']} job of {job['fold']}, seed {job['seed']}, was slimmed to its "
                             "learned labels (grid.slim_jobs): its trust needs the targets s_n")
        trust = np.asarray(train["s"])[np.arange(len(gold)), gold]
        flagged = label != gold
    if trust is None:
        return None
    truth = train.get("truth")
    return dict(trust=trust, flagged=flagged, label=label, gold=gold,
                    truth=None if truth is None or truth[0] is None else np.asarray(truth))


def auroc(wrong: np.ndarray, trust: np.ndarray) -> float:
    """The chance that a wrong label gets less trust than a right one (ties count half): 0.5 is blind, 1 perfect."""
    from scipy.stats import rankdata

    wrong = np.asarray(wrong, dtype=bool)
    if wrong.all() or not wrong.any():
        return float("nan")
    ranks = rankdata(-np.asarray(trust))  # the most trusted ranks 1: a wrong label ranked late is trusted less
    n_wrong, n_right = wrong.sum(), (~wrong).sum()
    return float((ranks[wrong].sum() - n_wrong * (n_wrong + 1) / 2) / (n_wrong * n_right))


def within_classes(wrong: np.ndarray, trust: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """:func:`auroc` and the weight ratio (mean trust of wrong over right labels) within each gold class, averaged
    over the classes that hold wrong and right labels (NaN where none does).

    How a method orders the utterances that were given one label, whatever it
    does to the classes' levels: a trust that moves whole classes apart (the
    paper's w, whose class means move towards 1) can look blind pooled over
    classes while ranking within each.
    """
    aurocs, ratios = [], []
    for k in np.unique(gold):
        here = gold == k
        if wrong[here].any() and not wrong[here].all():
            aurocs.append(auroc(wrong[here], trust[here]))
            ratios.append(trust[here & wrong].mean() / trust[here & ~wrong].mean())
    return (float(np.mean(aurocs)), float(np.mean(ratios))) if aurocs else (np.nan, np.nan)


def _interval(values, name: str, confidence: float) -> dict:
    values = np.asarray(values, dtype=float)
    mean, low, high = stats.t_interval(values[~np.isnan(values)], confidence)
    return {name: mean, f"{name} low": low, f"{name} high": high}


def label_correction(results: list[dict], conditions=None, confidence: float = 0.95) -> pd.DataFrame:
    """Per condition that distrusts labels, against the truth, with t intervals over sessions.

    ``wrong gold %``: share of training utterances whose gold label is wrong
    (a method that flags at random has it as precision; at none, recall,
    fixed %, AUROC and the ratio are undefined, NaN, and every flag is a
    right label hit). ``flagged %``: share of training utterances dropped or relabelled.
    ``precision``: share of the flagged whose gold label is wrong; ``recall``:
    share of the wrong gold labels that are flagged; ``fixed %``: share of
    the wrong labels the method's label sets right (relabelling methods).
    ``caught``, ``hit``: wrong labels flagged and right labels flagged (false
    alarms), summed over jobs. ``AUROC``: the chance a wrong label gets less
    trust than a right one; ``weight wrong/right``: mean trust of wrong over
    right labels (below 1, wrong labels count less; for co-teaching and
    confident learning trust is a probability, not a weight); ``... within
    class``: both within each gold class (:func:`within_classes`). Precision,
    recall and fixed % pool a session's jobs; AUROC and the ratios average them.
    A session where a measure is undefined (precision where it flagged nothing,
    AUROC where none of its labels is wrong) is left out of that measure's
    interval, which then rests on fewer sessions than ``sessions`` counts.
    """
    _require(results, "label_correction")
    by_condition = _by_condition(results)
    names = titles(results)
    rows = {}
    for condition in _ordered(conditions or by_condition):
        jobs = [(job, view) for job in by_condition.get(condition, []) if (view := distrust(job))]
        if not jobs:
            continue
        if any(view["truth"] is None for _, view in jobs):
            raise ValueError("label_correction needs results of a corpus with true labels (SynthEmo)")
        per: dict[str, dict] = {}  # the session of the jobs' test speakers: what its jobs add up to
        for job, view in jobs:
            p = per.setdefault(session_of(job["fold"]), dict(flagged=0, caught=0, wrong=0, fixed=0, utterances=0,
                                                              auroc=[], ratio=[], within=[]))
            wrong = view["gold"] != view["truth"]
            p["utterances"] += len(wrong)
            p["wrong"] += wrong.sum()
            p["fixed"] += (wrong & (view["label"] == view["truth"])).sum()
            if view["flagged"] is not None:
                p["flagged"] += view["flagged"].sum()
                p["caught"] += (view["flagged"] & wrong).sum()
            p["auroc"].append(auroc(wrong, view["trust"]))
            p["within"].append(within_classes(wrong, view["trust"], view["gold"]))
            if wrong.any() and not wrong.all():
                p["ratio"].append(view["trust"][wrong].mean() / view["trust"][~wrong].mean())
        units = [per[s] for s in sorted(per)]
        acts = jobs[0][1]["flagged"] is not None
        relabels = acts and any((view["label"] != view["gold"]).any() for _, view in jobs)
        utterances = sum(p["utterances"] for p in units)
        row = {"wrong gold %": 100 * sum(p["wrong"] for p in units) / utterances,
               "flagged %": 100 * sum(p["flagged"] for p in units) / utterances if acts else np.nan}
        for name, values in (("precision", [_percent(p["caught"], p["flagged"]) for p in units] if acts else [np.nan]),
                             ("recall", [_percent(p["caught"], p["wrong"]) for p in units] if acts else [np.nan]),
                             ("fixed %", [_percent(p["fixed"], p["wrong"]) for p in units] if relabels else [np.nan]),
                             ("AUROC", [_mean(p["auroc"]) for p in units]),
                             ("weight wrong/right", [np.mean(p["ratio"]) if p["ratio"] else np.nan for p in units]),
                             ("AUROC within class", [_mean([a for a, _ in p["within"]]) for p in units]),
                             ("weight wrong/right within class", [_mean([r for _, r in p["within"]]) for p in units])):
            row.update(_interval(values, name, confidence))
        caught = sum(p["caught"] for p in units)
        row.update({"caught": caught if acts else np.nan,
                    "hit": sum(p["flagged"] for p in units) - caught if acts else np.nan,
                    "sessions": len(units), "seeds": len({job["seed"] for job, _ in jobs})})
        rows[names[condition]] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _percent(part, whole) -> float:
    return 100 * part / whole if whole else np.nan


def _mean(values) -> float:
    """The mean of the values that are not NaN (an AUROC is NaN for a job with no wrong label); NaN for none."""
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else np.nan


def by_noise(sweeps: dict[float, list[dict]], conditions=None, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`label_correction` at each annotator noise (``{noise: job results}``); rows (noise, method)."""
    parts = {noise: label_correction(jobs, conditions, confidence) for noise, jobs in sorted(sweeps.items())}
    if not any(len(part) for part in parts.values()):
        raise ValueError("no job at any annotator noise distrusts a label")
    return pd.concat(parts, names=["annotator noise", "method"])


def distrusted(view: dict, share: float) -> np.ndarray:
    """The utterances a job's method distrusts: its flagged set, else the ``share`` it trusts least."""
    if view["flagged"] is not None:
        return view["flagged"]
    order = np.argsort(view["trust"], kind="stable")
    chosen = np.zeros(len(order), dtype=bool)
    chosen[order[:round(share * len(order))]] = True
    return chosen


def job_views(results: list[dict], conditions=None, fold: str | None = None, seed: int = 0) -> dict[str, dict]:
    """``{title: distrust view}`` of one job per condition that distrusts labels: seed ``seed`` on ``fold``
    (default: the first fold they share)."""
    by_condition = _by_condition(results)
    conditions = [c for c in _ordered(conditions or by_condition) if c in by_condition]
    if fold is None:
        shared = set.intersection(*({j["fold"] for j in by_condition[c] if j["seed"] == seed} for c in conditions)) \
            if conditions else set()
        if not shared:
            raise ValueError(f"the conditions share no fold of seed {seed}; run it or name one with fold=")
        fold = sorted(shared)[0]
    names = titles(results)
    views = {}
    for condition in conditions:
        job = next((j for j in by_condition[condition] if j["seed"] == seed and j["fold"] == fold), None)
        view = distrust(job) if job is not None else None
        if view is not None:
            views[names[condition]] = view
    if not views:
        raise ValueError(f"no job of seed {seed} on fold {fold} distrusts any label")
    return views


def overlap(views: dict[str, dict]) -> pd.DataFrame:
    """Jaccard overlap of what each pair of methods distrusts on one job (:func:`job_views`), with the truly
    wrong labels as a row of its own.

    A method without a flagged set distrusts the share of utterances whose
    gold label is wrong, least trusted first: a measurement (the share comes
    from the truth), not a choice any method could make.
    """
    first = next(iter(views.values()))
    wrong = first["gold"] != first["truth"]
    sets = {"wrong gold labels": wrong, **{name: distrusted(v, wrong.mean()) for name, v in views.items()}}
    table = pd.DataFrame(index=list(sets), columns=list(sets), dtype=float)
    for a, x in sets.items():
        for b, y in sets.items():
            table.loc[a, b] = (x & y).sum() / max((x | y).sum(), 1)
    return table
