"""Which labels a method distrusts, against the truth; and the methods side by side."""

import numpy as np
import pandas as pd
import pytest
from helpers import tiny_settings

from minisermeta import comparison, correction
from minisermeta.folds import loso_folds
from minisermeta.grid import load_jobs, run_grid
from minisermeta.methods import CONDITIONS, FORGET_RATES, CoTeaching
from minisermeta.report import paired_by_session, session_intervals


def job(condition, trust=None, flagged=None, s=None, w=None, method=None, seed=0, fold="Ses01F", seconds=10.0):
    """A job result with the training part a method records: utterances of Ses02 and Ses03, gold and truth."""
    gold = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    truth = np.array([0, 1, 2, 0, 1, 1, 2, 3])  # utterances 3 and 4 have wrong gold labels
    train = dict(utterances=[f"Ses0{2 + (i >= 4)}F_x_F{i:03d}" for i in range(8)], gold=gold.tolist(),
                 truth=truth.tolist(), s=(np.eye(4)[gold] if s is None else np.asarray(s)).tolist(),
                 initial_w=[1.0] * 8, w=[1.0] * 8 if w is None else list(w))
    if trust is not None:
        train["trust"] = list(trust)
    if flagged is not None:
        train["flagged"] = list(flagged)
    return dict(condition=condition, seed=seed, fold=fold, seconds=seconds, setup_seconds=0.0, epochs=[{}] * 4,
                method=method or {"type": "X", "title": condition}, train=train)


def test_auroc_is_the_chance_a_wrong_label_is_trusted_less():
    wrong = np.array([True, True, False, False])
    assert correction.auroc(wrong, [0.1, 0.2, 0.8, 0.9]) == 1
    assert correction.auroc(wrong, [0.9, 0.8, 0.1, 0.2]) == 0
    assert correction.auroc(wrong, [0.5, 0.5, 0.5, 0.5]) == 0.5  # ties count half
    assert correction.auroc(wrong, [0.1, 0.9, 0.5, 0.95]) == 0.75
    assert np.isnan(correction.auroc(np.zeros(4, bool), [1, 2, 3, 4]))


def test_the_papers_methods_are_read_from_their_l_and_w():
    learned = np.eye(4)[[0, 1, 2, 0, 1, 1, 2, 3]]  # L relabels utterances 3 and 4, to the truth
    w = [1, 1, 1, 2, 2, 1, 1, 1]
    view = correction.distrust(job("L_w", s=learned, w=w, method={"learn_labels": True, "learn_weights": True}))
    np.testing.assert_allclose(view["trust"], 1 / np.array(w, float))  # initial w / learned w
    assert view["flagged"].tolist() == [False] * 3 + [True] * 2 + [False] * 3
    only_l = correction.distrust(job("L", s=0.7 * learned + 0.3 * np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3]],
                                     method={"learn_labels": True, "learn_weights": False}))
    np.testing.assert_allclose(only_l["trust"], [1, 1, 1, 0.3, 0.3, 1, 1, 1])
    only_w = correction.distrust(job("w", w=w, method={"learn_labels": False, "learn_weights": True}))
    assert only_w["flagged"] is None
    assert correction.distrust(job("blstm_att", method={"targets": "gold"})) is None


def test_precision_recall_and_weights_against_the_truth():
    # the session of the jobs' test speakers is the unit: Ses01's job catches wrong utterance 3 and hits right
    # utterance 5; Ses04's catches both wrong ones (3, 4), and both jobs of Ses04 (two seeds) pool
    results = [job("co", [1, 1, 1, 0.5, 0.5, 1, 1, 1], [0, 0, 0, 1, 0, 1, 0, 0], fold="Ses01F"),
               *(job("co", [1, 1, 1, 0.2, 0.2, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0], fold="Ses04M", seed=seed)
                 for seed in (0, 1))]
    row = correction.label_correction(results).loc["co"]
    assert row["precision"] == 75 and row["precision low"] < 75  # 50 % for Ses01, 100 % for Ses04
    assert row["recall"] == 75 and row["flagged %"] == 25  # 50 % and 100 %; 6 of 24 flagged
    assert row["caught"] == 5 and row["hit"] == 1 and row["sessions"] == 2 and row["seeds"] == 2
    assert row["AUROC"] == 1 and row["weight wrong/right"] == pytest.approx((0.5 + 0.2) / 2)
    assert row["AUROC within class"] == 1 and row["weight wrong/right within class"] == pytest.approx(
        (0.5 + 0.2) / 2)  # gold classes 0 and 3 each hold one wrong label (4 and 3), trusted below their right one
    assert np.isnan(row["fixed %"])  # drops, relabels nothing


def test_within_classes_reads_the_order_inside_each_gold_class_whatever_the_classes_levels():
    # class 1's labels are all trusted more than class 0's: pooled, wrong label 4 outranks class 0's right ones;
    # within each class the wrong label is the least trusted
    gold = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    wrong = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)  # class 2 has no wrong label: left out
    trust = np.array([1, 2, 2, 2, 5, 6, 6, 6, 9, 0.1])
    assert correction.auroc(wrong, trust) < 0.8
    assert correction.within_classes(wrong, trust, gold) == pytest.approx((1.0, (1 / 2 + 5 / 6) / 2))
    assert np.isnan(correction.within_classes(np.zeros(10, dtype=bool), trust, gold)).all()


def test_without_wrong_labels_every_flag_is_a_right_label_hit():
    """Annotator noise 0: gold is the truth, so recall, fixed %, AUROC and the weight ratio are undefined."""
    relabelled = np.eye(4)[[0, 1, 2, 0, 0, 1, 2, 3]]  # utterance 3 flagged and relabelled: a right label broken
    clean = job("co", [1, 1, 1, 0.5, 0.5, 1, 1, 1], [0, 0, 0, 1, 0, 0, 0, 0], s=relabelled)
    clean["train"]["truth"] = clean["train"]["gold"]
    row = correction.label_correction([clean]).loc["co"]
    assert row["wrong gold %"] == 0 and row["precision"] == 0 and row["hit"] == 1 and row["flagged %"] == 12.5
    assert row[["recall", "AUROC", "weight wrong/right", "fixed %"]].isna().all()


def test_by_noise_stacks_a_table_per_annotator_noise():
    noisy = [job("co", [1, 1, 1, 0.5, 0.5, 1, 1, 1], [0, 0, 0, 1, 0, 1, 0, 0])]
    clean = job("co", [1] * 8, [0] * 8)
    clean["train"]["truth"] = clean["train"]["gold"]
    table = correction.by_noise({1.0: noisy, 0.0: [clean]})
    assert table.index.names == ["annotator noise", "method"] and list(table.index) == [(0.0, "co"), (1.0, "co")]
    assert table.loc[(1.0, "co"), "wrong gold %"] == 25 and table.loc[(1.0, "co"), "precision"] == 50
    with pytest.raises(ValueError, match="no job at any annotator noise"):
        correction.by_noise({0.0: [job("blstm_att", method={"targets": "gold"})]})


def test_a_corpus_without_truth_is_refused():
    result = job("co", [1] * 8, [0] * 8)
    result["train"]["truth"] = [None] * 8
    with pytest.raises(ValueError, match="true labels"):
        correction.label_correction([result])


def test_overlap_is_jaccard_with_the_wrong_labels_as_a_row():
    results = [job("a", [1, 1, 1, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0]),
               job("b", [0, 1, 1, 1, 0.5, 1, 1, 1])]  # b flags nothing: its two least trusted, 0 and 4
    views = correction.job_views(results)
    table = correction.overlap(views)
    assert table.loc["wrong gold labels", "a"] == 1 and table.loc["a", "a"] == 1
    assert table.loc["a", "b"] == pytest.approx(1 / 3) and table.loc["b", "wrong gold labels"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="share no fold of seed 1"):
        correction.job_views(results, seed=1)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    from helpers import toy_dataset

    dataset, out = toy_dataset(), tmp_path_factory.mktemp("compared")
    folds = loso_folds(dataset.speakers)
    methods = {**{c: CONDITIONS[c] for c in ("blstm_att", "smoothed", "gce")},
               "co_teaching": CoTeaching(forget_rate=0.3, ramp_epochs=1)}  # it leaves utterances out at epoch 2
    run_grid(dataset, out, methods, folds, [0], tiny_settings(max_epochs=2), n_jobs=2, progress=False)
    return load_jobs(out)


def test_the_methods_side_by_side(compared):
    table = comparison.side_by_side(compared)
    assert list(table.index) == ["BLSTM + ATT", "BLSTM + ATT + smoothed targets",
                                 "BLSTM + ATT + generalized cross-entropy", "BLSTM + ATT + co-teaching"]
    assert np.isnan(table.loc["BLSTM + ATT", "UA − baseline (gold)"])
    assert np.isfinite(table.loc["BLSTM + ATT + co-teaching", ["UA − baseline (truth)", "precision", "AUROC"]]).all()
    assert np.isnan(table.loc["BLSTM + ATT + generalized cross-entropy", "precision"])  # reweights, flags nothing
    assert table["seeds"].eq(1).all()
    # methods asked for without the baseline are still compared with it, and its row left out
    gce = "BLSTM + ATT + generalized cross-entropy"
    alone = comparison.side_by_side(compared, conditions=("gce",))
    assert list(alone.index) == [gce]
    assert alone.loc[gce, ["UA − baseline (gold)", "low (gold)", "high (gold)"]].tolist() == pytest.approx(
        table.loc[gce, ["UA − baseline (gold)", "low (gold)", "high (gold)"]].tolist())
    for against in ("gold", "truth"):  # each method's own UA beside its difference, with the interval over sessions
        levels = session_intervals(compared, against=against)
        assert table[f"UA ({against})"].to_numpy() == pytest.approx(levels.loc[table.index, "UA"].to_numpy())
        assert (table[f"UA low ({against})"] < table[f"UA ({against})"]).all()
        assert (table[f"UA ({against})"] < table[f"UA high ({against})"]).all()
    # Holm over both targets' rows at once: every corrected p at least its own raw p, at most 1, and the smallest
    # of all the raw ones multiplied by the size of the family (6: three methods, two targets)
    raw = {a: paired_by_session(compared, against=a)["UA p"].dropna() for a in ("gold", "truth")}
    assert sum(map(len, raw.values())) == 6
    for against, p in raw.items():
        holm = table.loc[p.index, f"p Holm ({against})"]
        assert (holm >= p - 1e-12).all() and (holm <= 1).all()
    smallest = min(raw, key=lambda a: raw[a].min())
    assert table[f"p Holm ({smallest})"].min() == pytest.approx(min(1, 6 * raw[smallest].min()))
    assert table.loc["BLSTM + ATT", "× baseline time"] == 1


def test_real_differences_name_only_the_targets_whose_holm_p_is_below_alpha():
    table = pd.DataFrame({"UA − baseline (gold)": [np.nan, -4.4, -5.8, 1.0], "p Holm (gold)": [np.nan, 0.04, 0.001, 0.6],
                          "UA − baseline (truth)": [np.nan, -4.2, -6.1, 1.3],
                          "p Holm (truth)": [np.nan, 0.19, 0.01, 0.4]}, index=["base", "relabel", "gce", "smoothed"])
    assert comparison.real_differences(table) == {"relabel": {"gold": -4.4}, "gce": {"gold": -5.8, "truth": -6.1}}
    assert comparison.real_differences(table, alpha=0.001) == {}
    assert comparison.real_differences(table.filter(like="gold")) == {"relabel": {"gold": -4.4}, "gce": {"gold": -5.8}}


def test_differences_real_before_the_correction_only_are_those_whose_interval_excludes_zero_but_holm_does_not():
    table = pd.DataFrame({"UA − baseline (gold)": [np.nan, -4.4, -5.8, 1.0], "low (gold)": [np.nan, -6.4, -6.5, -2.0],
                          "high (gold)": [np.nan, -2.4, -5.1, 3.0], "p Holm (gold)": [np.nan, 0.06, 0.001, 0.6],
                          "UA − baseline (truth)": [np.nan, -4.2, -6.1, 1.3],
                          "low (truth)": [np.nan, -7.4, -7.0, 0.2],
                          "high (truth)": [np.nan, -0.9, -5.2, 2.4], "p Holm (truth)": [np.nan, 0.04, 0.01, 0.3]},
                         index=["base", "relabel", "gce", "smoothed"])
    assert comparison.real_before_correction_only(table) == {"relabel": {"gold": -4.4}, "smoothed": {"truth": 1.3}}
    assert comparison.real_before_correction_only(table, alpha=0.001) == {
        "relabel": {"gold": -4.4, "truth": -4.2}, "gce": {"gold": -5.8, "truth": -6.1}, "smoothed": {"truth": 1.3}}


def test_without_truth_the_methods_are_compared_on_gold_alone(compared):
    blind = [dict(r, test=dict(r["test"], truth=None), train=dict(r["train"], truth=None)) for r in compared]
    table = comparison.side_by_side(blind)
    assert "UA − baseline (gold)" in table and "UA − baseline (truth)" not in table and "precision" not in table


def test_job_cost_pairs_each_job_with_the_baselines():
    results = [job("blstm_att", seconds=10, fold=f) for f in ("A", "B")] + \
              [job("slow", seconds=s, fold=f) for f, s in (("A", 30), ("B", 50))]
    cost = comparison.job_cost(results)
    assert cost.loc["slow", "× baseline"] == 4 and cost.loc["slow", "seconds per job"] == 40
    assert cost.loc["slow", "× baseline per epoch"] == 4
    with pytest.raises(ValueError, match="no results of the baseline"):
        comparison.job_cost(results[2:])


def test_co_teaching_s_forget_rate_is_chosen_per_session_on_other_sessions_validation_speakers():
    speakers = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
    true = [0, 1, 2, 3] * 2

    def rate_job(condition, fold, seed, valid_hits):
        pred = [t if k < valid_hits else (t + 1) % 4 for k, t in enumerate(true)]
        return dict(condition=condition, fold=fold, seed=seed, valid=dict(gold=true, pred=pred),
                    method={"type": "CoTeaching", "title": CONDITIONS[condition].title})  # no truth: none to read

    # on validation (UA = WA here), rate 0.1 is best except on Ses01's speakers, where it gets nothing right; 0.4
    # is second everywhere. Ses01's choice never reads Ses01: it picks 0.1; every other session's reads Ses01: 0.4
    hits = {"co_teaching_forget0.1": lambda fold: 0 if fold.startswith("Ses01") else 7,
            "co_teaching": lambda fold: 4, "co_teaching_forget0.4": lambda fold: 6}
    results = [rate_job(c, f, 0, hit(f)) for c, hit in hits.items() for f in speakers]
    results += [rate_job("co_teaching_forget0.4", f, 1, 8) for f in speakers]  # a second seed of one rate only
    table, chosen, jobs = comparison.forget_rates(results + [job("gce")])
    assert list(table.index) == [0.1, 0.2, 0.4] and table.index.name == "forget rate"
    assert table["seeds"].eq(1).all()  # compared on seed 0, the seed every rate ran
    assert table.loc[0.1, "validation UA"] == pytest.approx(100 * 8 * 7 / 8 / 10)
    assert table.loc[0.4, "validation UA"] == pytest.approx(75)
    assert chosen == {"Ses01": 0.1, **{f"Ses0{s}": 0.4 for s in range(2, 6)}}
    assert {r["condition"] for r in jobs} == {"co_teaching"}  # the method's row, whichever rate each session took
    assert {r["method"]["title"] for r in jobs} == {CONDITIONS["co_teaching"].title}
    picked = {(r["fold"], r["seed"]): r["valid"]["pred"] for r in jobs}
    assert sorted(picked) == sorted([(f, 0) for f in speakers] + [(f, 1) for f in speakers[2:]])  # 0.4: both seeds
    assert picked["Ses01F", 0] == rate_job("co_teaching_forget0.1", "Ses01F", 0, 0)["valid"]["pred"]
    # a rate of the reader's own joins the choice by its condition name; its jobs are ignored unless asked for
    results += [rate_job("co_teaching_forget0.1", f, 0, 8) | dict(condition="co_teaching_forget0.3") for f in speakers]
    assert list(comparison.forget_rates(results)[0].index) == [0.1, 0.2, 0.4]
    own = {**FORGET_RATES, "co_teaching_forget0.3": CoTeaching(forget_rate=0.3)}
    table, chosen, _ = comparison.forget_rates(results, rates=own)
    assert list(table.index) == [0.1, 0.2, 0.3, 0.4] and table.loc[0.3, "validation UA"] == pytest.approx(100)
    assert set(chosen.values()) == {0.3}
    with pytest.raises(ValueError, match="no jobs of the forget rates to choose among"):
        comparison.forget_rates([job("gce")])
