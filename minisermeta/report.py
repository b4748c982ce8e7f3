"""The paper's tables as DataFrames (and Markdown), from a corpus or a run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics, paper, stats
from .corpora import Corpus, session_of
from .methods import CONDITIONS


def _titled(emotions) -> list[str]:
    return [e.capitalize() for e in emotions]


def table1(corpus: Corpus, column: str = "gold") -> pd.DataFrame:
    """Table 1: utterances per speaker (rows, paper's names) and emotion, with a Total row.

    ``column='truth'`` counts a simulated corpus's true emotions instead.
    """
    counts = pd.crosstab(corpus.table["speaker"], corpus.table[column])
    counts = counts.reindex(columns=list(corpus.classes), fill_value=0)
    counts.columns = _titled(corpus.classes)
    counts.index.name = "Speaker"
    counts.columns.name = None
    counts.loc["Total"] = counts.sum()
    return counts


def paper_table1() -> pd.DataFrame:
    """The paper's Table 1 (IEMOCAP), in the layout of :func:`table1`."""
    table = pd.DataFrame.from_dict(paper.TABLE1, orient="index", columns=_titled(paper.EMOTIONS))
    table.index.name = "Speaker"
    table.loc["Total"] = table.sum()
    return table


def to_markdown(table: pd.DataFrame, floatfmt: str = ".1f") -> str:
    """A table as GitHub Markdown (what the CLI prints and the runs write); NaN prints as N/A."""
    flat = table.copy()
    for axis in ("index", "columns"):
        labels = getattr(flat, axis)
        if isinstance(labels, pd.MultiIndex):
            setattr(flat, axis, [" ".join(str(part) for part in label if part) for label in labels])
    flat = flat.astype(object).where(flat.notna(), None)
    return flat.to_markdown(floatfmt=floatfmt, missingval="N/A")


def _require(results: list[dict], what: str) -> None:
    """A table of no jobs would be an empty table, easy to read as a result: an error instead."""
    if not results:
        raise ValueError(f"{what} needs job results, and none were given: run the grid first, or check what "
                         "selected them (conditions, seeds)")


def _by_condition(results: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for result in results:
        grouped.setdefault(result["condition"], []).append(result)
    return grouped


def titles(results: list[dict]) -> dict[str, str]:
    """Each condition's row name: the title its jobs recorded, else (jobs from before methods recorded
    themselves) its title in ``methods.CONDITIONS``, else the condition. Two conditions of one title are an
    error: their rows could not be told apart."""
    found: dict[str, str] = {}
    for r in results:
        recorded = (r.get("method") or {}).get("title")
        known = CONDITIONS[r["condition"]].title if r["condition"] in CONDITIONS else r["condition"]
        found.setdefault(r["condition"], recorded or known)
    first: dict[str, str] = {}  # title -> the condition that has it
    for condition, title in found.items():
        if first.setdefault(title, condition) != condition:
            raise ValueError(f"conditions {first[title]!r} and {condition!r} share the title {title!r}; "
                             f"give each method its own title (its `title` field)")
    return found


def class_names(results: list[dict]) -> tuple[str, ...]:
    """The classes that the label indices of ``results`` name, as their jobs recorded them.

    Jobs written before jobs recorded their classes name the paper's four (the
    only ones there were then). Jobs of different class lists cannot share a
    table: ``ValueError``.
    """
    found = {tuple(r.get("classes", paper.EMOTIONS)) for r in results}
    if len(found) > 1:
        raise ValueError(f"these job results name different classes ({' vs '.join(map(str, sorted(found)))}); "
                         "report the jobs of one class set at a time")
    return found.pop() if found else paper.EMOTIONS


def _ordered(conditions) -> list[str]:
    order = list(paper.METHOD_NAMES)
    return sorted(conditions, key=lambda c: order.index(c) if c in order else len(order))


def _table2_columns(emotions) -> pd.MultiIndex:
    columns = [(e.capitalize(), m) for e in emotions for m in ("P", "R", "F1")]
    return pd.MultiIndex.from_tuples(columns + [("", "WA"), ("", "UA")])


def _score_row(true, pred, n_classes) -> list[float]:
    s = metrics.scores(np.asarray(true), np.asarray(pred), n_classes)
    per_class = np.stack([s["precision"], s["recall"], s["f1"]], axis=1).ravel()
    return list(100 * per_class) + [100 * s["wa"], 100 * s["ua"]]


def table2(results: list[dict], against: str = "gold", estimator: str = "pooled") -> pd.DataFrame:
    """Table 2 (percent) of each condition over every fold and seed.

    ``estimator='pooled'`` scores the test predictions of all jobs pooled;
    ``'fold_mean'`` averages each job's own scores (the paper's printed F1 lies
    below the harmonic mean of its P and R in every cell, as a mean of per-fold
    F1s does). ``against='truth'`` scores a simulated corpus against its true labels.
    """
    if estimator not in ("pooled", "fold_mean"):
        raise ValueError(f"unknown estimator {estimator!r}; choose pooled or fold_mean")
    _require(results, "table2")
    names, classes = titles(results), class_names(results)
    rows = {}
    for condition, group in _by_condition(results).items():
        if estimator == "pooled":
            rows[condition] = _score_row([t for r in group for t in _test_labels(r, against)],
                                         [p for r in group for p in r["test"]["pred"]], len(classes))
        else:
            rows[condition] = list(np.nanmean([_score_row(_test_labels(r, against), r["test"]["pred"], len(classes))
                                               for r in group], axis=0))
    ordered = _ordered(rows)
    table = pd.DataFrame([rows[c] for c in ordered], columns=_table2_columns(classes),
                         index=[names[c] for c in ordered])
    table.index.name = "Method"
    return table


def paper_table2() -> pd.DataFrame:
    """The paper's Table 2; quoted rows (numbers the paper took from other papers) marked with *."""
    rows, names = [], []
    for condition, (*per_class, wa, ua) in paper.TABLE2.items():
        rows.append([v for triple in per_class for v in triple] + [wa, ua])
        names.append(paper.METHOD_NAMES[condition] + (" *" if condition in paper.QUOTED else ""))
    table = pd.DataFrame(rows, columns=_table2_columns(paper.EMOTIONS), index=names, dtype=float)
    table.index.name = "Method"
    return table


def table2_beside_paper(results: list[dict]) -> pd.DataFrame:
    """Our Table 2 and the paper's, row by row: (method, 'ours' | 'paper').

    Our row stands beside the paper's when it is the same method (the same
    title); the rest of ours (the controls, our stand-in for a quoted row)
    follow. Rows the paper quotes from other papers keep its ``*``. Classes
    beyond the paper's four (``classes="all"``) are N/A in the paper's rows.
    """
    ours, theirs = table2(results), paper_table2()
    rows = {}
    for condition, name in paper.METHOD_NAMES.items():
        quoted = name + (" *" if condition in paper.QUOTED else "")
        if name in ours.index:
            rows[(name, "ours")] = ours.loc[name]
        rows[(quoted, "paper")] = theirs.loc[quoted]
    for name in ours.index:
        rows.setdefault((name, "ours"), ours.loc[name])
    table = pd.DataFrame(rows).T.reindex(columns=ours.columns.append(theirs.columns.difference(ours.columns)))
    table.index.names = ["Method", "Source"]
    return table


def _test_labels(result: dict, against: str) -> list:
    """A job's test labels of ``against`` (gold, truth), or an error naming the job where it has none."""
    labels = result["test"].get(against)
    if labels is None or None in labels:
        raise ValueError(f"job {result['condition']} {result['fold']} seed {result['seed']} has no {against!r} labels"
                         + (" (only a simulated corpus knows the truth; score against gold)" if against == "truth"
                            else ""))
    return labels


def _per_fold(group: list[dict], against: str) -> dict[str, np.ndarray]:
    """WA and UA (percent) of each fold's test speaker, the fold's seeds pooled."""
    pooled: dict[str, tuple[list, list]] = {}
    for r in group:
        true, pred = pooled.setdefault(r["fold"], ([], []))
        true += _test_labels(r, against)
        pred += r["test"]["pred"]
    n_classes = len(class_names(group))
    return {fold: np.array(_score_row(t, p, n_classes)[-2:]) for fold, (t, p) in pooled.items()}


def fold_spread(results: list[dict], against: str = "gold") -> pd.DataFrame:
    """WA and UA (percent) as mean ± std over folds (each fold's seeds pooled)."""
    _require(results, "fold_spread")
    names = titles(results)
    rows = {}
    for condition, group in _by_condition(results).items():
        wa_ua = np.array(list(_per_fold(group, against).values()))
        rows[names[condition]] = {
            "WA mean": wa_ua[:, 0].mean(), "WA std": wa_ua[:, 0].std(),
            "UA mean": wa_ua[:, 1].mean(), "UA std": wa_ua[:, 1].std(), "folds": len(wa_ua),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table.loc[[names[c] for c in _ordered(_by_condition(results))]]


def _session_scores(group: list[dict], against: str, estimator: str) -> dict[str, np.ndarray]:
    """WA and UA (percent) of each session's test speakers, averaged over seeds.

    ``estimator='pooled'`` scores the predictions of a session's folds pooled;
    ``'fold_mean'`` averages the folds' own scores. Either way a session counts once.
    """
    if estimator not in ("pooled", "fold_mean"):
        raise ValueError(f"unknown estimator {estimator!r}; choose pooled or fold_mean")
    n_classes = len(class_names(group))
    by_seed: dict[tuple[str, int], list[dict]] = {}
    for r in group:
        by_seed.setdefault((session_of(r["fold"]), r["seed"]), []).append(r)
    per_seed: dict[str, list[np.ndarray]] = {}
    for (session, _), jobs in by_seed.items():
        if estimator == "pooled":
            true = [t for r in jobs for t in _test_labels(r, against)]
            score = np.array(_score_row(true, [p for r in jobs for p in r["test"]["pred"]], n_classes)[-2:])
        else:
            score = np.mean([_score_row(_test_labels(r, against), r["test"]["pred"], n_classes)[-2:] for r in jobs],
                            axis=0)
        per_seed.setdefault(session, []).append(score)
    return {session: np.mean(scores, axis=0) for session, scores in per_seed.items()}


def session_intervals(results: list[dict], against: str = "gold", estimator: str = "pooled",
                      confidence: float = 0.95) -> pd.DataFrame:
    """Each condition's WA and UA (percent): mean over sessions and its t interval, sessions as the unit."""
    _require(results, "session_intervals")
    names, grouped = titles(results), _by_condition(results)
    rows = {}
    for condition in _ordered(grouped):
        scores = np.array(list(_session_scores(grouped[condition], against, estimator).values()))
        row = {}
        for k, measure in enumerate(("WA", "UA")):
            row[measure], row[f"{measure} low"], row[f"{measure} high"] = stats.t_interval(scores[:, k], confidence)
        rows[names[condition]] = {**row, "sessions": len(scores),
                                   "seeds": len({r["seed"] for r in grouped[condition]})}
    return pd.DataFrame.from_dict(rows, orient="index")


def contrasts(results: list[dict], pairs, against: str = "gold", estimator: str = "pooled",
              confidence: float = 0.95) -> pd.DataFrame:
    """Differences between conditions with the session as the independent unit: one row per (condition, baseline).

    For each session both ran, the difference of their scores (points; each
    session's seeds averaged first); the mean over sessions, its t interval and
    a two-sided p-value (``stats``), Holm-corrected over the family of this
    table: every pair, WA and UA. A difference is real when its Holm p is
    below 1 - ``confidence``. Rows are "condition − baseline" by title. Only
    the (fold, seed) jobs both conditions ran are compared; pairs without any
    are left out.
    """
    names, grouped = titles(results), _by_condition(results)
    rows = {}
    for condition, baseline in pairs:
        by_session = session_differences(results, condition, baseline, against, estimator)
        if not by_session:  # nothing both ran: no pair to compare
            continue
        diff = np.array(list(by_session.values()))
        rows[f"{names[condition]} − {names[baseline]}"] = {
            **paired_summary(diff, confidence), "sessions better (UA)": int((diff[:, 1] > 0).sum()), "sessions": len(diff),
            "seeds": len({seed for _, seed in _shared_jobs(grouped, condition, baseline)})}
    return with_holm(pd.DataFrame.from_dict(rows, orient="index"))


def paired_summary(values: np.ndarray, confidence: float = 0.95, name: str = "diff") -> dict:
    """The mean of paired per-session [WA, UA] values (one row a session), its t interval and two-sided p-value:
    "WA <name>", "WA low", "WA high", "WA p" and the same for UA."""
    row = {}
    for k, measure in enumerate(("WA", "UA")):
        row[f"{measure} {name}"], row[f"{measure} low"], row[f"{measure} high"] = \
            stats.t_interval(values[:, k], confidence)
        row[f"{measure} p"] = stats.t_test(values[:, k])
    return row


def _shared_jobs(grouped: dict[str, list[dict]], condition: str, baseline: str) -> set[tuple[str, int]]:
    """The (fold, seed) jobs both conditions ran."""
    return {(r["fold"], r["seed"]) for r in grouped.get(condition, [])} & \
        {(r["fold"], r["seed"]) for r in grouped.get(baseline, [])}


def session_differences(results: list[dict], condition: str, baseline: str, against: str = "gold",
                        estimator: str = "pooled") -> dict[str, np.ndarray]:
    """Each session's [WA, UA] of ``condition`` minus ``baseline`` (points), the paired values :func:`contrasts` reads.

    Like with like: only the (fold, seed) jobs both conditions ran count, and
    a session's seeds are averaged first. Empty when they share no job.
    """
    grouped = _by_condition(results)
    shared = _shared_jobs(grouped, condition, baseline)
    if not shared:
        return {}
    scores, base = (_session_scores([r for r in grouped[c] if (r["fold"], r["seed"]) in shared], against, estimator)
                    for c in (condition, baseline))
    return {session: scores[session] - base[session] for session in sorted(scores.keys() & base.keys())}


def with_holm(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with "WA p (Holm)" and "UA p (Holm)" beside its "WA p" and "UA p": one family, every row and measure."""
    table = table.drop(columns=["WA p (Holm)", "UA p (Holm)"], errors="ignore")
    if len(table):
        adjusted = stats.holm(np.concatenate([table["WA p"], table["UA p"]]))
        table.insert(table.columns.get_loc("WA p") + 1, "WA p (Holm)", adjusted[:len(table)])
        table.insert(table.columns.get_loc("UA p") + 1, "UA p (Holm)", adjusted[len(table):])
    return table


def has_truth(results: list[dict]) -> bool:
    """Whether every job's test utterances carry a true label (a simulated corpus: SynthEmo)."""
    return bool(results) and all(r["test"].get("truth") is not None and None not in r["test"]["truth"][:1]
                                 for r in results)


def paired_by_session(results: list[dict], baseline: str = "blstm_att", against: str = "gold",
                      estimator: str = "pooled", confidence: float = 0.95) -> pd.DataFrame:
    """Every condition minus ``baseline`` (:func:`contrasts`), rows named by the condition alone."""
    names, grouped = titles(results), _by_condition(results)
    if baseline not in grouped:
        raise ValueError(f"no results of the baseline {baseline!r}; run it first")
    table = contrasts(results, [(c, baseline) for c in _ordered(grouped) if c != baseline], against, estimator,
                      confidence)
    table.index = [name.rsplit(f" − {names[baseline]}", 1)[0] for name in table.index]
    return table


# The study's controls (``methods.CONDITIONS``): each pair isolates one ingredient of the paper's methods.
CONTROL_PAIRS = (
    ("smoothed", "blstm_att"),  # label smoothing alone: softmax(label_scale * one-hot) targets
    ("L", "smoothed"),  # learning l, beyond the smoothing it starts from
    ("w", "smoothed"),  # learning w, beyond the smoothing
    ("L_w", "smoothed"),  # learning both
    ("smoothed_pretrained", "smoothed"),  # the pretrained schedule's extra epochs alone
    ("L_w_pretrained", "smoothed_pretrained"),  # learning l and w after pretraining, beyond the schedule
    ("L_w_pretrained_gold", "blstm_att"),  # the pretrained variant as the paper describes it
)


def kept_epoch(job: dict) -> int:
    """The epoch whose network a job's early stopping kept: the lowest validation loss of its last phase."""
    last = [e for e in job["epochs"] if e["phase"] == job["epochs"][-1]["phase"]]
    return last[int(np.argmin([e["valid_loss"] for e in last]))]["epoch"]


def kept_epochs(results: list[dict]) -> pd.DataFrame:
    """Per condition, the epoch whose network early stopping kept (lowest validation loss of the last phase).

    For conditions that learn l or w, it is also how many l/w epochs shaped the
    kept l and w. Median, min and max over jobs, and the epochs run in all.
    """
    _require(results, "kept_epochs")
    names = titles(results)
    rows = {}
    for condition, group in _by_condition(results).items():
        kept, ran = [kept_epoch(r) for r in group], [len(r["epochs"]) for r in group]
        rows[names[condition]] = {
            "kept epoch (median)": float(np.median(kept)), "min": min(kept), "max": max(kept),
            "epochs run (median)": float(np.median(ran))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table.loc[[names[c] for c in _ordered(_by_condition(results))]]


def _jobs_of(results: list[dict], condition: str) -> list[dict]:
    group = _by_condition(results).get(condition)
    if not group:
        raise ValueError(f"no results of condition {condition!r}; run it first")
    return group


def _train_entries(results: list[dict], condition: str) -> list[dict]:
    return [r["train"] for r in _jobs_of(results, condition)]


def learned_labels(train: dict) -> np.ndarray:
    """A job's learned labels argmax(s_n): from its targets s_n, or as stored where ``grid.slim_jobs`` dropped them."""
    return np.asarray(train["labels"]) if "labels" in train else np.argmax(np.asarray(train["s"]), axis=1)


def table3(results: list[dict], condition: str = "L_w") -> pd.DataFrame:
    """Table 3: mean w_n per gold class before and after training (training utterances of every fold)."""
    entries, classes = _train_entries(results, condition), class_names(results)
    gold = np.concatenate([e["gold"] for e in entries])
    rows = {}
    for name, key in (("Initial w", "initial_w"), ("Learned w", "w")):
        w = np.concatenate([e[key] for e in entries])
        rows[name] = [w[gold == c].mean() if (gold == c).any() else np.nan for c in range(len(classes))]
    return pd.DataFrame.from_dict(rows, orient="index", columns=_titled(classes))


def weight_moves(results: list[dict], condition: str = "L_w") -> pd.DataFrame:
    """How far learned w_n end from where eq. 4 starts them, per gold class (training utterances of every job).

    Initial and learned mean, the learned 5th and 95th percentiles, and the
    median factor by which an utterance's w moved (exp |log(w / w_initial)|).
    """
    entries = _train_entries(results, condition)
    gold = np.concatenate([e["gold"] for e in entries])
    w0, w = (np.concatenate([e[key] for e in entries]) for key in ("initial_w", "w"))
    factor = np.exp(np.abs(np.log(w / w0)))
    rows = {}
    for c, name in enumerate(_titled(class_names(results))):
        mine = gold == c
        if not mine.any():  # a class without training utterances: nothing moved
            rows[name] = dict.fromkeys(("initial w", "learned w", "learned 5 %", "learned 95 %",
                                        "median factor moved"), np.nan)
            continue
        rows[name] = {"initial w": w0[mine].mean(), "learned w": w[mine].mean(),
                      "learned 5 %": np.percentile(w[mine], 5), "learned 95 %": np.percentile(w[mine], 95),
                      "median factor moved": np.median(factor[mine])}
    return pd.DataFrame.from_dict(rows, orient="index")


def paper_table3() -> pd.DataFrame:
    return pd.DataFrame.from_dict({"Initial w": paper.TABLE3["initial"], "Learned w": paper.TABLE3["learned"]},
                                  orient="index", columns=_titled(paper.EMOTIONS))


def label_moves(results: list[dict], condition: str = "L_w") -> pd.DataFrame:
    """The data of Fig. 3: percent of each gold class whose learned label argmax(s_n) is each class."""
    entries, classes = _train_entries(results, condition), _titled(class_names(results))
    gold = np.concatenate([e["gold"] for e in entries])
    learned = np.concatenate([learned_labels(e) for e in entries])
    counts = metrics.confusion(gold, learned, len(classes)).astype(float)
    percent = 100 * counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    table = pd.DataFrame(percent, index=classes, columns=classes)
    table.index.name, table.columns.name = "Gold label", "Learned label"
    return table


def fig3_beside_paper(moves: pd.DataFrame) -> pd.DataFrame:
    """The moves of Fig. 3 the paper reads in words (``paper.FIG3_READ``) beside the same cells of ``moves``.

    ``moves`` is :func:`label_moves`' table; one row per move the paper names,
    with its words, since its figure prints no numbers.
    """
    rows = {f"{gold} → {learned}": {"ours (%)": moves.loc[gold.capitalize(), learned.capitalize()],
                                     "paper, about (%)": percent, "the paper's words": words}
            for (gold, learned), (percent, words) in paper.FIG3_READ.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "gold → learned"
    return table


def label_learners(results: list[dict]) -> list[str]:
    """The conditions of ``results`` whose method learns labels (the l/w epoch's update of l), in the paper's order.

    A job's recorded method says (``learn_labels``); a job from before methods
    recorded themselves is read by its condition in ``methods.CONDITIONS``.
    """
    def learns(job):
        recorded = job.get("method") or {}
        if "learn_labels" in recorded:
            return bool(recorded["learn_labels"])
        return getattr(CONDITIONS.get(job["condition"]), "learns_labels", False)

    return _ordered(dict.fromkeys(r["condition"] for r in results if learns(r)))  # ties keep the jobs' order


def label_fixes(results: list[dict], conditions=None) -> pd.DataFrame:
    """On a simulated corpus: how the learned labels argmax(s_n) compare with the truth, a row per condition
    (default: every condition of ``results`` that learns labels, :func:`label_learners`).

    ``wrong gold`` counts training utterances whose gold label differs from the
    truth; ``fixed`` how many of those the learned label sets right; ``broken``
    how many right gold labels it sets wrong. ``gold right %`` and ``learned
    right %`` are the shares of right labels before and after: the learned
    labels are cleaner than gold only if the second is higher. A requested
    condition without jobs is an error that names it, not a missing row.
    """
    _require(results, "label_fixes")
    present = _by_condition(results)
    conditions = label_learners(results) if conditions is None else list(conditions)
    missing = [c for c in conditions if c not in present]
    if missing or not conditions:  # a missing row would read as "nothing relabelled"
        wanted = ", ".join(missing) if missing else "a condition that learns labels"
        raise ValueError(f"label_fixes: no job is of {wanted}; the jobs are of {', '.join(_ordered(present))}")
    names = titles(results)
    rows = {}
    for condition in conditions:
        entries = _train_entries(results, condition)
        gold = np.concatenate([e["gold"] for e in entries])
        truth = np.concatenate([e["truth"] for e in entries if e["truth"] is not None])
        if len(truth) != len(gold):
            raise ValueError("label_fixes needs results of a corpus with true labels (SynthEmo)")
        learned = np.concatenate([learned_labels(e) for e in entries])
        wrong = gold != truth
        rows[names[condition]] = {
            "utterances": len(gold), "wrong gold": int(wrong.sum()),
            "fixed": int((wrong & (learned == truth)).sum()),
            "broken": int((~wrong & (learned != truth)).sum()),
            "changed": int((learned != gold).sum()),
            "gold right %": 100 * float((~wrong).mean()),
            "learned right %": 100 * float((learned == truth).mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def label_cleaning(results: list[dict], condition: str = "L_w", confidence: float = 0.95) -> dict:
    """On a simulated corpus: whether ``condition``'s learned labels end more right than gold, with an interval.

    The unit is the session of a job's test speaker, as for the scores and
    ``correction.label_correction``: a session's jobs (its two folds, every
    seed) pool their training utterances, and for each session the share whose
    learned label is the truth minus the share whose gold label is makes one
    value. Returns the means over sessions of ``gold right %`` and
    ``learned right %``, their difference ``diff`` with its t interval
    (``low``, ``high``) and p-value, and the numbers of sessions and seeds.
    """
    group = _jobs_of(results, condition)
    counts: dict[str, np.ndarray] = {}  # test session: [utterances, right in gold, right when learned]
    for job in group:
        entry = job["train"]
        if entry["truth"] is None or None in entry["truth"][:1]:
            raise ValueError("label_cleaning needs results of a corpus with true labels (SynthEmo)")
        truth = np.asarray(entry["truth"])
        learned = learned_labels(entry)
        session = session_of(job["fold"])
        counts[session] = counts.get(session, 0) + np.array(
            [len(truth), (np.asarray(entry["gold"]) == truth).sum(), (learned == truth).sum()])
    table = np.array([counts[session] for session in sorted(counts)], dtype=float)
    gold_right, learned_right = 100 * table[:, 1] / table[:, 0], 100 * table[:, 2] / table[:, 0]
    diff, low, high = stats.t_interval(learned_right - gold_right, confidence)
    return {"gold right %": gold_right.mean(), "learned right %": learned_right.mean(), "diff": diff, "low": low,
            "high": high, "p": stats.t_test(learned_right - gold_right), "sessions": len(table),
            "seeds": len({r["seed"] for r in group})}


def _all_turns(corpus_root) -> pd.DataFrame:
    """The table of :func:`~minisermeta.corpora.synthemo.all_turns`: given, or read from a SynthEmo root."""
    if isinstance(corpus_root, pd.DataFrame):
        return corpus_root
    from .corpora.synthemo import all_turns

    return all_turns(corpus_root)


def truth_vs_gold(corpus_root) -> pd.DataFrame:
    """Counts of true emotion (rows) against gold label (columns) over *every* generated utterance.

    ``corpus_root`` is a SynthEmo root or its ``corpora.synthemo.all_turns``
    table. Columns are the paper's four classes, then the gold labels the
    paper's class set excludes (``excited``, ``frustration``, ``xxx``: no
    majority).
    """
    table = _all_turns(corpus_root)
    columns = list(paper.EMOTIONS) + sorted(set(table["gold"]) - set(paper.EMOTIONS))
    matrix = pd.crosstab(table["truth"], table["gold"]).reindex(index=list(paper.EMOTIONS), columns=columns,
                                                                fill_value=0)
    matrix.index.name, matrix.columns.name = "truth", "gold"
    return matrix


def label_noise(corpus_root) -> pd.DataFrame:
    """How many gold labels differ from the truth, over all utterances and over the paper's class set.

    ``corpus_root`` is a SynthEmo root or its ``corpora.synthemo.all_turns`` table.
    """
    table = _all_turns(corpus_root)
    rows = {}
    for name, subset in (("all utterances", table), ("paper class set", table[table["gold"].isin(paper.EMOTIONS)])):
        wrong = subset[subset["gold"] != subset["truth"]]
        happy = ((wrong["gold"] == "happiness") | (wrong["truth"] == "happiness")).sum()
        rows[name] = {"utterances": len(subset), "gold != truth": len(wrong),
                      "% wrong": 100 * len(wrong) / max(1, len(subset)),
                      "% of wrong involving happiness": 100 * happy / max(1, len(wrong))}
    return pd.DataFrame.from_dict(rows, orient="index")


def per_class_effects(table: pd.DataFrame, baseline: str = "BLSTM + ATT", measure: str = "F1") -> pd.DataFrame:
    """Change of one measure per class (and WA, UA) of every row of a Table 2 against ``baseline`` (points)."""
    columns = [c for c in table.columns if c[1] in (measure, "WA", "UA")]
    delta = table[columns].sub(table.loc[baseline, columns], axis=1).drop(index=baseline)
    delta.columns = [f"{e} {m}".strip() for e, m in delta.columns]
    return delta


def by_session(results: list[dict], statistic, confidence: float = 0.95, test: bool = False) -> pd.DataFrame:
    """A statistic of job results (a function of a list of them, returning a Series: a column of Table 3, the
    cells of Fig. 3), computed on each test session's jobs apart (its folds and seeds pooled) and given per key
    as the mean over sessions with its t interval: sessions are the unit, as for the scores and
    :func:`label_cleaning`. A key a session lacks (NaN) is left out of that key's interval. ``test``: where the
    statistic is a difference, also its two-sided p-value against zero and Holm's over every key."""
    _require(results, "by_session")
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(session_of(r["fold"]), []).append(r)
    values = pd.DataFrame({session: pd.Series(statistic(jobs)) for session, jobs in sorted(groups.items())}).T
    rows = {key: dict(zip(("mean", "low", "high"), stats.t_interval(values[key].dropna(), confidence)),
                      sessions=int(values[key].notna().sum())) for key in values}
    table = pd.DataFrame.from_dict(rows, orient="index")
    if test:
        table["p"] = [stats.t_test(values[key].dropna()) for key in values]
        table["p (Holm)"] = stats.holm(table["p"].to_numpy())
    return table


def per_class_contrasts(results: list[dict], baseline: str = "blstm_att", measure: str = "F1",
                        against: str = "gold", confidence: float = 0.95) -> pd.DataFrame:
    """Table 2's per-class ``measure`` of every condition minus the baseline's, paired by session.

    Each condition against the baseline on the (fold, seed) jobs both ran, as
    :func:`contrasts` pairs them: each session's jobs of the two give a Table 2
    (its folds and seeds pooled) and from it :func:`per_class_effects`; the mean
    over sessions with its t interval and Holm's correction over every
    (condition, class) cell (:func:`by_session`). ``verdict``:
    "higher" or "lower" where the Holm p is below 1 - ``confidence``, else
    "not shown". Rows are (condition, class).
    """
    names = titles(results)
    if baseline not in names:
        raise ValueError(f"per_class_contrasts needs jobs of the baseline {baseline!r}")
    grouped = _by_condition(results)
    shared = {c: _shared_jobs(grouped, c, baseline) for c in _ordered(grouped) if c != baseline}  # Table 2's order

    def statistic(group):
        cells = []
        for condition, both_ran in shared.items():
            pair = [r for r in group if r["condition"] in (condition, baseline) and (r["fold"], r["seed"]) in both_ran]
            if any(r["condition"] == condition for r in pair):
                effects = per_class_effects(table2(pair, against=against), names[baseline], measure)
                cells.append(effects.drop(columns=["WA", "UA"])
                             .rename(columns=lambda c: c.removesuffix(f" {measure}")).stack())
        return pd.concat(cells) if cells else pd.Series(dtype=float)

    table = by_session(results, statistic, confidence, test=True)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["condition", "class"])
    table["verdict"] = stats.verdicts(table["mean"], table["p (Holm)"], confidence, ("higher", "lower"))
    return table


# Section 4's claims of what w and L change class by class: (condition, class, measure, the paper's words).
PAPER_PER_CLASS = (
    ("w", "Happiness", "P", "w had the main effect of improving the precision on happiness"),
    ("w", "Anger", "P", "and of improving the precision in anger"),
    ("L", "Neutral", "R", "the main contribution of L was to improve the recall on neutral samples"),
)


def paper_per_class_claims(results: list[dict], baseline: str = "blstm_att", against: str = "gold",
                           confidence: float = 0.95, claims=PAPER_PER_CLASS) -> pd.DataFrame:
    """The paper's per-class claims (``claims``: condition, class, measure of Table 2, the paper's words),
    each the condition's class measure minus the baseline's, paired by session as in
    :func:`per_class_contrasts`, with Holm's correction over these claims only: the family the paper made,
    not every cell of the table. Rows are the paper's words."""
    names = titles(results)
    missing = sorted({condition for condition, *_ in claims} - set(names))
    if missing:
        raise ValueError(f"paper_per_class_claims needs jobs of {', '.join(map(repr, missing))}")
    contrasts = {measure: per_class_contrasts(results, baseline, measure, against, confidence)
                 for measure in dict.fromkeys(measure for _, _, measure, _ in claims)}
    table = pd.DataFrame([{"claim": words, "condition": names[condition], "class": emotion, "measure": measure,
                           **contrasts[measure].loc[(names[condition], emotion), ["mean", "low", "high", "sessions", "p"]]}
                          for condition, emotion, measure, words in claims]).set_index("claim")
    table["sessions"] = table["sessions"].astype(int)  # a row of mixed columns came out as floats
    table["p (Holm)"] = stats.holm(table["p"].to_numpy(dtype=float))
    table["verdict"] = stats.verdicts(table["mean"], table["p (Holm)"], confidence, ("higher", "lower"))
    return table


def table3_fig3_by_session(results: list[dict], condition: str = "L_w", confidence: float = 0.95) -> pd.DataFrame:
    """Table 3's learned w per gold class and the Fig. 3 moves the paper reads in words, each with a t interval
    over sessions (:func:`by_session`) and the paper's value beside it; on a simulated corpus also the mean w of
    wrong gold labels minus that of right ones (positive: wrong labels get less weight), which the paper could
    not measure. ``paper inside``: whether the paper's value lies in our interval (the corpora differ, so this
    reads where the two part, not whether one is wrong)."""
    jobs = _jobs_of(results, condition)

    def statistic(group):
        values = {f"learned w, {name}": w for name, w in table3(group, condition).loc["Learned w"].items()}
        values.update({f"{move} (%)": percent for move, percent
                       in fig3_beside_paper(label_moves(group, condition))["ours (%)"].items()})
        if has_truth(group):
            w = weights_vs_truth(group, condition)["all"]
            values["w of wrong gold − right gold"] = w["gold wrong"] - w["gold right"]
        return values

    table = by_session(jobs, statistic, confidence)
    paper_values = {f"learned w, {name}": w for name, w in zip(_titled(paper.EMOTIONS), paper.TABLE3["learned"])}
    paper_values.update({f"{gold} → {learned} (%)": percent for (gold, learned), (percent, _) in paper.FIG3_READ.items()})
    table["paper"] = pd.Series(paper_values)
    table["paper inside"] = [None if np.isnan(value) else bool(low <= value <= high)  # None: no paper value
                             for value, low, high in zip(table["paper"], table["low"], table["high"])]
    return table


def weights_vs_truth(results: list[dict], condition: str = "L_w") -> pd.DataFrame:
    """On a simulated corpus: mean learned w_n per gold class, for right and for wrong gold labels.

    A higher w means less weight in eq. (6). If the method finds the
    ambiguous utterances, wrong gold labels end with a higher mean w.
    """
    entries = _train_entries(results, condition)
    gold = np.concatenate([e["gold"] for e in entries])
    if any(e["truth"] is None for e in entries):
        raise ValueError("weights_vs_truth needs results of a corpus with true labels (SynthEmo)")
    truth = np.concatenate([e["truth"] for e in entries])
    w = np.concatenate([e["w"] for e in entries])
    classes = class_names(results)
    rows = {}
    for name, mask in (("gold right", gold == truth), ("gold wrong", gold != truth)):
        rows[name] = [w[mask & (gold == c)].mean() if (mask & (gold == c)).any() else np.nan
                      for c in range(len(classes))] + [w[mask].mean() if mask.any() else np.nan, int(mask.sum())]
    return pd.DataFrame.from_dict(rows, orient="index", columns=_titled(classes) + ["all", "utterances"])


def flagged_utterances(results: list[dict], condition: str = "L_w", corpus: Corpus | None = None) -> pd.DataFrame:
    """Every training utterance's learned w and label, averaged over the folds and seeds it trained in.

    Columns: ``gold``, ``learned`` (the most frequent argmax s_n), ``w`` (mean
    learned w_n), ``relabelled`` (share of jobs whose learned label differs
    from gold), and ``truth``, ``clarity``, ``path`` when ``corpus`` has them.
    Sorted by ``w``, highest (least weight) first.
    """
    rows = []
    for entry in _train_entries(results, condition):
        learned = learned_labels(entry)
        for u, g, w, l in zip(entry["utterances"], entry["gold"], entry["w"], learned):
            rows.append((u, g, w, int(l)))
    table = pd.DataFrame(rows, columns=["utterance", "gold", "w", "learned"])
    table["relabelled"] = table["learned"] != table["gold"]
    grouped = table.groupby("utterance").agg(
        gold=("gold", "first"), learned=("learned", lambda s: s.mode().iloc[0]), w=("w", "mean"),
        relabelled=("relabelled", "mean"))
    classes = class_names(results)
    for column in ("gold", "learned"):
        grouped[column] = grouped[column].map(lambda c: classes[c])
    if corpus is not None:
        extra = [c for c in ("speaker", "truth", "clarity", "path") if c in corpus.table.columns]
        grouped = grouped.join(corpus.table.set_index("utterance")[extra])
    return grouped.sort_values("w", ascending=False)


AGREEMENT_BINS = {"below 1/2": (0.0, 0.5), "1/2 to 3/4": (0.5, 0.75), "3/4 to 1": (0.75, 1.0), "all agree": (1.0, 1.01)}


def by_agreement(results: list[dict], corpus: Corpus, condition: str = "L_w") -> tuple[pd.DataFrame, dict]:
    """How the learned w and label changes follow the raters' disagreement: the real-data counterpart of clarity.

    An utterance's agreement is the share of its raters who chose its gold
    class (``Corpus.agreement``: from its votes, or from a corpus's own
    agreement column, EmoDB's listener recognition rates); utterances with
    neither are left out. Returns a table per agreement bin (:data:`AGREEMENT_BINS`):
    utterances, mean and median learned w (each utterance's w averaged over
    the jobs it trained in; higher w is less weight) and the share relabelled;
    and Spearman's rank correlation of w with agreement over utterances, with
    its p-value. Utterances are its unit, not sessions: the utterances of one
    session share a network, so the p-value is too small for a claim; read it
    as a description of one run. If the method finds the ambiguous utterances, the correlation
    is negative: the less the raters agree, the higher w.
    """
    from scipy import stats as scipy_stats

    agreement = pd.Series(corpus.agreement(), index=corpus.table["utterance"], name="agreement").dropna()
    if agreement.empty:
        raise ValueError("by_agreement needs a corpus with raters' votes (SynthEmo, IEMOCAP, CREMA-D or a manifest "
                         "with a votes column) or EmoDB with its recognition rates (recognition.csv)")
    learned = flagged_utterances(results, condition).join(agreement, how="inner")
    if learned.empty:
        raise ValueError("no training utterance of these results has votes or a recognition rate in this corpus; "
                         "is it the run's corpus?")
    rows = {}
    for name, (low, high) in AGREEMENT_BINS.items():
        inside = learned[(learned["agreement"] >= low) & (learned["agreement"] < high)]
        rows[name] = {"utterances": len(inside), "mean w": inside["w"].mean(), "median w": inside["w"].median(),
                      "relabelled %": 100 * inside["relabelled"].mean()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "raters' agreement with gold"
    rho, p = scipy_stats.spearmanr(learned["w"], learned["agreement"])
    return table, {"spearman rho": float(rho), "p": float(p), "utterances": len(learned)}
