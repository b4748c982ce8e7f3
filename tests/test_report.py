from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minisermeta import correction, grid, metrics, paper, report
from minisermeta.corpora import read_iemocap


def test_scores_by_hand():
    true = np.array([0, 0, 1, 1, 2, 3])
    pred = np.array([0, 1, 1, 1, 2, 2])
    s = metrics.scores(true, pred, 4)
    assert s["wa"] == pytest.approx(4 / 6)
    assert s["ua"] == pytest.approx((0.5 + 1 + 1 + 0) / 4)
    np.testing.assert_allclose(s["precision"], [1, 2 / 3, 0.5, 0])
    np.testing.assert_allclose(s["f1"], [2 / 3, 0.8, 2 / 3, 0])
    assert s["confusion"][3, 2] == 1


def test_a_class_absent_from_the_truth_has_no_recall_or_f1():
    s = metrics.scores(np.array([0, 1, 1, 2]), np.array([0, 1, 3, 2]), 4)  # anger never true, once predicted
    assert np.isnan(s["recall"][3]) and np.isnan(s["f1"][3]) and s["precision"][3] == 0
    assert s["ua"] == pytest.approx((1 + 0.5 + 1) / 3)
    never = metrics.scores(np.array([0, 1, 2]), np.array([0, 1, 2]), 4)  # neither true nor predicted
    assert np.isnan(never["precision"][3]) and np.isnan(never["recall"][3])
    row = report._score_row([0, 1, 2], [0, 1, 2], 4)
    assert "N/A" in report.to_markdown(pd.DataFrame([row]))


def test_table1_layout(iemocap_tree):
    table = report.table1(read_iemocap(iemocap_tree))
    assert list(table.columns) == ["Happiness", "Sadness", "Neutral", "Anger"]
    assert list(table.index) == ["Ses01F", "Ses01M", "Ses03F", "Ses03M", "Ses05F", "Total"]
    assert table.loc["Ses01M", "Happiness"] == 1 and table.loc["Total"].sum() == 5
    assert "| Ses03M" in report.to_markdown(table)


def test_paper_tables_are_the_published_ones():
    assert report.paper_table1().loc["Total"].tolist() == [595, 1084, 1708, 1103]
    t2 = report.paper_table2()
    assert t2.loc["BLSTM + ATT + L + w", ("", "WA")] == 65.9
    assert np.isnan(t2.loc["Cycle-GAN *", ("", "WA")])
    assert report.paper_table3().loc["Learned w", "Happiness"] == 1.32


def _result(condition, fold, true, pred, gold_train, s, w, initial_w, truth_train=None):
    return dict(condition=condition, fold=fold, seed=0,
                test=dict(gold=true, truth=true, pred=pred),
                train=dict(gold=gold_train, truth=truth_train, s=s, w=w, initial_w=initial_w))


@pytest.fixture
def results():
    onehot = np.eye(4).tolist()
    return [
        _result("L_w", "Ses01F", [0, 1, 2, 3], [0, 1, 2, 2], [0, 0, 1, 2], [onehot[2], onehot[0], onehot[1], onehot[2]],
                [2.0, 1.0, 0.5, 0.5], [0.5, 0.5, 1.5, 1.5], truth_train=[2, 0, 1, 2]),
        _result("L_w", "Ses01M", [3, 3], [3, 0], [3, 3], [onehot[3], onehot[2]], [1.0, 1.0], [1.0, 1.0],
                truth_train=[3, 3]),
        _result("blstm_att", "Ses01F", [0, 1, 2, 3], [0, 0, 0, 0], [0], [onehot[0]], [1.0], [1.0]),
    ]


def test_table2_pools_folds(results):
    table = report.table2(results)
    assert list(table.index) == ["BLSTM + ATT", "BLSTM + ATT + L + w"]  # the paper's order
    # L_w pooled: true [0,1,2,3,3,3], pred [0,1,2,2,3,0]
    assert table.loc["BLSTM + ATT + L + w", ("", "WA")] == pytest.approx(100 * 4 / 6)
    assert table.loc["BLSTM + ATT + L + w", ("", "UA")] == pytest.approx(100 * (1 + 1 + 1 + 1 / 3) / 4)
    assert table.loc["BLSTM + ATT", ("Happiness", "P")] == pytest.approx(25)
    spread = report.fold_spread(results)
    assert spread.loc["BLSTM + ATT + L + w", "folds"] == 2
    assert spread.loc["BLSTM + ATT + L + w", "WA mean"] == pytest.approx(100 * (3 / 4 + 1 / 2) / 2)
    beside = report.table2_beside_paper(results)
    assert ("Cycle-GAN *", "paper") in beside.index and ("BLSTM + ATT", "ours") in beside.index
    assert "N/A" in report.to_markdown(beside)


def test_jobs_name_their_classes_and_jobs_that_do_not_are_of_the_paper_s_four(results):
    committed = grid.read_json(sorted(Path(__file__).parents[1].glob("results/book-paper/jobs/*/*.json.gz"))[0])
    assert "classes" not in committed and report.class_names([committed]) == paper.EMOTIONS  # written before
    assert report.class_names(results) == paper.EMOTIONS
    five = [dict(r, classes=[*paper.EMOTIONS, "fear"]) for r in results]
    table = report.table2(five)
    assert [c for c, measure in table.columns if measure == "P"] == ["Happiness", "Sadness", "Neutral", "Anger", "Fear"]
    assert table[("", "UA")].equals(report.table2(results)[("", "UA")])  # fear never true: UA of the classes present
    assert list(report.table3(five).columns)[-1] == "Fear" and report.label_moves(five).shape == (5, 5)
    with pytest.raises(ValueError, match="name different classes"):
        report.table2(results + five)


def test_paired_by_session_needs_its_baseline(results):
    with pytest.raises(ValueError, match="baseline"):
        report.paired_by_session([r for r in results if r["condition"] != "blstm_att"])
    paired = report.paired_by_session(results)
    assert list(paired.index) == ["BLSTM + ATT + L + w"] and paired.loc["BLSTM + ATT + L + w", "sessions"] == 1


def test_contrasts_isolate_one_ingredient_each_and_share_one_holm_family():
    speakers = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
    hits = {"blstm_att": 2, "smoothed": 3, "L_w": 3, "smoothed_pretrained": 4, "L_w_pretrained": 6}
    from minisermeta.methods import CONDITIONS  # jobs record their method's title, as train_job writes them

    jobs = [{**_scored(c, speaker, 0, h + (k % 2), total=8), "method": CONDITIONS[c].describe()}
            for c, h in hits.items() for k, speaker in enumerate(speakers)]
    table = report.contrasts(jobs, report.CONTROL_PAIRS)
    assert list(table.index) == [
        "BLSTM + ATT + smoothed targets − BLSTM + ATT",
        "BLSTM + ATT + L + w − BLSTM + ATT + smoothed targets",
        "BLSTM + ATT + smoothed targets, pretrained − BLSTM + ATT + smoothed targets",
        "BLSTM + ATT + L + w pretrained − BLSTM + ATT + smoothed targets, pretrained"]  # pairs without jobs left out
    assert table["WA diff"].tolist() == pytest.approx([100 / 8, 0, 100 / 8, 200 / 8])
    assert table.loc["BLSTM + ATT + L + w − BLSTM + ATT + smoothed targets", "WA p"] == 1.0
    from minisermeta import stats

    family = np.concatenate([table["WA p"], table["UA p"]])
    np.testing.assert_allclose(np.concatenate([table["WA p (Holm)"], table["UA p (Holm)"]]), stats.holm(family))


def test_kept_epochs_reads_the_last_phase():
    def job(condition, phases):
        return dict(condition=condition, epochs=[dict(phase=phase, epoch=i + 1, valid_loss=loss)
                                                 for phase, losses in phases for i, loss in enumerate(losses)])

    jobs = [job("L_w_pretrained", [("pretrain", [0.9, 0.5, 0.6]), ("train", [0.8, 0.7, 0.75, 0.9])]),
            job("L_w_pretrained", [("pretrain", [0.9]), ("train", [0.4, 0.7])]),
            job("blstm_att", [("train", [1.0, 0.9, 0.95])])]
    table = report.kept_epochs(jobs)
    assert list(table.index) == ["BLSTM + ATT", "BLSTM + ATT + L + w pretrained"]
    row = table.loc["BLSTM + ATT + L + w pretrained"]
    assert (row["kept epoch (median)"], row["min"], row["max"], row["epochs run (median)"]) == (1.5, 1, 2, 5)
    assert table.loc["BLSTM + ATT", "kept epoch (median)"] == 2


def test_table3_and_label_moves(results):
    t3 = report.table3(results)
    # gold of L_w training utterances: [0, 0, 1, 2, 3, 3]
    assert t3.loc["Initial w"].tolist() == pytest.approx([0.5, 1.5, 1.5, 1.0])
    assert t3.loc["Learned w"].tolist() == pytest.approx([1.5, 0.5, 0.5, 1.0])
    moves = report.label_moves(results)
    assert moves.loc["Happiness"].tolist() == pytest.approx([50, 0, 50, 0])
    assert moves.loc["Anger"].tolist() == pytest.approx([0, 0, 50, 50])
    beside = report.fig3_beside_paper(moves)
    assert list(beside.index) == ["happiness → happiness", "anger → neutral", "neutral → sadness"]
    assert beside["ours (%)"].tolist() == pytest.approx([50, 50, moves.loc["Neutral", "Sadness"]])
    assert beside["paper, about (%)"].tolist() == [50, 10, 10]
    assert "around half" in beside.loc["happiness → happiness", "the paper's words"]
    fixes = report.label_fixes(results)
    # one wrong gold label (gold 0, truth 2) set right; one right one (anger) moved to neutral
    row = fixes.loc["BLSTM + ATT + L + w"]
    assert (row["wrong gold"], row["fixed"], row["broken"], row["changed"]) == (1, 1, 1, 2)
    # one wrong of the gold labels, one wrong of the learned ones: no cleaner, no worse
    assert row["gold right %"] == row["learned right %"] == pytest.approx(100 * (1 - 1 / row["utterances"]))
    with pytest.raises(ValueError, match="no results of condition"):
        report.table3(results, condition="L")



def test_label_fixes_rows_are_every_condition_that_learns_labels(results):
    from minisermeta.methods import CONDITIONS

    l_w = [r for r in results if r["condition"] == "L_w"]
    gold_pretrained = [{**r, "condition": "L_w_pretrained_gold", "method": CONDITIONS["L_w_pretrained_gold"].describe()}
                       for r in l_w]
    mine = [{**r, "condition": "mine", "method": {"type": "Mine", "learn_labels": True, "title": "mine"}} for r in l_w]
    w_alone = [{**r, "condition": "w", "method": CONDITIONS["w"].describe()} for r in l_w]
    jobs = results + gold_pretrained + mine + w_alone
    # recorded methods are read first (a method of the user's), else the condition's method; w keeps gold labels
    assert report.label_learners(jobs) == ["L_w", "L_w_pretrained_gold", "mine"]
    fixes = report.label_fixes(jobs)
    assert list(fixes.index) == ["BLSTM + ATT + L + w", CONDITIONS["L_w_pretrained_gold"].title, "mine"]
    assert (fixes.iloc[1] == fixes.iloc[0]).all()  # the same jobs under another name: the same counts
    # no job that learns labels is an error, not an empty table that reads as "nothing relabelled"
    unlearned = [r for r in jobs if r["condition"] in ("blstm_att", "w")]
    with pytest.raises(ValueError, match="no job is of a condition that learns labels; the jobs are of blstm_att, w"):
        report.label_fixes(unlearned)
    with pytest.raises(ValueError, match="no job is of L; the jobs are of"):
        report.label_fixes(unlearned, conditions=["L"])
    # a requested condition without jobs is named, even beside one that has them
    with pytest.raises(ValueError, match="no job is of L, smoothed; the jobs are of"):
        report.label_fixes(jobs, conditions=["L_w", "L", "smoothed"])

def test_by_session_takes_each_sessions_jobs_apart_and_gives_a_t_interval_over_sessions():
    from scipy import stats as scipy_stats

    # learned w of one happiness utterance per job; session 1 has two folds and two seeds, pooled into one value
    w = {("Ses01F", 0): 0.4, ("Ses01M", 0): 0.6, ("Ses01F", 1): 0.8, ("Ses01M", 1): 0.2, ("Ses02F", 0): 1.0,
         ("Ses03M", 0): 0.7}
    results = [dict(condition="L_w", fold=fold, seed=seed, train=dict(gold=[0], w=[value], initial_w=[1.0]))
               for (fold, seed), value in w.items()]
    table = report.by_session(results, lambda jobs: report.table3(jobs).loc["Learned w"])
    per_session = [0.5, 1.0, 0.7]  # Ses01's four jobs pooled, Ses02, Ses03
    low, high = scipy_stats.t.interval(0.95, 2, loc=np.mean(per_session), scale=scipy_stats.sem(per_session))
    assert table.loc["Happiness", ["mean", "low", "high"]].tolist() == pytest.approx([np.mean(per_session), low, high])
    assert table.loc["Happiness", "sessions"] == 3
    assert table.loc["Sadness", "sessions"] == 0 and np.isnan(table.loc["Sadness", "mean"])  # no sadness utterance
    with pytest.raises(ValueError, match="needs job results"):
        report.by_session([], len)


def _happiness_fixed_jobs():
    """One test utterance per class and session; L + w gets happiness right where the baseline does not, in
    sessions 1-4 (session 5: both wrong); every other utterance right in both (the baseline's wrong happiness,
    predicted as sadness, costs sadness precision: its F1 changes too)."""
    jobs = []
    for k, session in enumerate(["Ses01", "Ses02", "Ses03", "Ses04", "Ses05"]):
        for condition in ("blstm_att", "L_w"):
            happy = 0 if condition == "L_w" and k < 4 else 1
            jobs.append(_scored(condition, f"{session}F", 0, hits=4) | {
                "test": dict(gold=[0, 1, 2, 3], truth=[0, 1, 2, 3], pred=[happy, 1, 2, 3])})
    return jobs


def test_per_class_contrasts_pair_each_class_s_f1_with_the_baseline_s_by_session():
    from scipy import stats as scipy_stats

    jobs = _happiness_fixed_jobs()
    table = report.per_class_contrasts(jobs)
    assert list(table.index) == [("BLSTM + ATT + L + w", e) for e in ("Happiness", "Sadness", "Neutral", "Anger")]
    # happiness F1: 100 in a session L + w gets it right, 0 where not; the baseline 0 everywhere
    per_session = [100, 100, 100, 100, 0]
    assert table.loc[("BLSTM + ATT + L + w", "Happiness"), "mean"] == pytest.approx(80)
    low, high = scipy_stats.t.interval(0.95, 4, loc=80, scale=scipy_stats.sem(per_session))
    assert table.loc[("BLSTM + ATT + L + w", "Happiness"), ["low", "high"]].tolist() == pytest.approx([low, high])
    assert table.loc[("BLSTM + ATT + L + w", "Happiness"), "p"] == \
        pytest.approx(scipy_stats.ttest_1samp(per_session, 0).pvalue)
    p = table["p"].to_numpy()  # Holm over the cells: the smallest p times the number of cells tested
    assert np.nanmin(table["p (Holm)"]) == pytest.approx(min(1.0, np.sum(~np.isnan(p)) * np.nanmin(p)))
    # four cells in the family: happiness's p of about 0.07, times four, is not shown
    assert table.loc[("BLSTM + ATT + L + w", "Happiness"), "p (Holm)"] == pytest.approx(
        min(1, 4 * table.loc[("BLSTM + ATT + L + w", "Happiness"), "p"]))
    assert table.loc[("BLSTM + ATT + L + w", "Happiness"), "verdict"] == "not shown"
    with pytest.raises(ValueError, match="baseline"):
        report.per_class_contrasts([r for r in jobs if r["condition"] == "L_w"])


def test_per_class_contrasts_read_only_the_jobs_both_conditions_ran():
    # L + w ran seed 0 only, as the baseline's seed 0 did, hit for hit; the baseline's seed 1 does worse and must
    # not count, or L + w would look better in every class while the two did the same on the jobs they share
    sessions = ("Ses01", "Ses02", "Ses03")
    jobs = [_scored(c, f"{s}F", 0, hits=4) for c in ("blstm_att", "L_w") for s in sessions]
    jobs += [_scored("blstm_att", f"{s}F", 1, hits=k) for s, k in zip(sessions, (0, 1, 2))]
    for measure in ("R", "P", "F1"):
        table = report.per_class_contrasts(jobs, measure=measure)
        assert table["mean"].tolist() == pytest.approx([0] * 4) and table["verdict"].eq("not shown").all()
    assert report.contrasts(jobs, [("L_w", "blstm_att")])["UA diff"].tolist() == pytest.approx([0])


def test_table3_and_fig3_by_session_beside_the_paper(results):
    onehot = np.eye(4).tolist()
    other = _result("L_w", "Ses02F", [0, 1], [0, 1], [0, 0, 3, 3], [onehot[0], onehot[0], onehot[3], onehot[2]],
                    [0.5, 0.5, 1.0, 2.0], [1.0] * 4, truth_train=[0, 1, 3, 3])
    table = report.table3_fig3_by_session(results + [other])
    # Ses01's two L + w jobs pool: happiness w 2.0 and 1.0; Ses02's: 0.5 and 0.5
    assert table.loc["learned w, Happiness", ["mean", "sessions"]].tolist() == [1.0, 2]
    assert table.loc["learned w, Happiness", "paper"] == 1.32 and table.loc["learned w, Happiness", "paper inside"]
    assert table.loc["happiness → happiness (%)", "mean"] == pytest.approx(75)  # 50 % kept in Ses01, 100 % in Ses02
    # wrong minus right gold labels' mean w: Ses01 2.0 - 0.8, Ses02 0.5 - 3.5 / 3
    assert table.loc["w of wrong gold − right gold", "mean"] == pytest.approx((1.2 + 0.5 - 3.5 / 3) / 2)
    assert np.isnan(table.loc["w of wrong gold − right gold", "paper"])
    assert table.loc["anger → neutral (%)", "paper"] == 10


def test_the_paper_s_per_class_claims_are_their_own_family():
    jobs = _happiness_fixed_jobs()
    claims = (("L_w", "Happiness", "R", "L + w recalls happiness"), ("L_w", "Sadness", "P", "L + w is precise on sadness"))
    table = report.paper_per_class_claims(jobs, claims=claims)
    assert list(table.index) == ["L + w recalls happiness", "L + w is precise on sadness"]
    for words, measure, emotion in (("L + w recalls happiness", "R", "Happiness"),
                                    ("L + w is precise on sadness", "P", "Sadness")):
        cell = report.per_class_contrasts(jobs, measure=measure).loc[("BLSTM + ATT + L + w", emotion)]
        assert table.loc[words, ["mean", "low", "high", "p"]].tolist() == pytest.approx(
            cell[["mean", "low", "high", "p"]].tolist())
    # happiness recall: 100 in sessions 1-4, 0 in session 5 (mean 80); sadness precision: 100 where the baseline
    # had 50 (its wrong happiness predicted as sadness) in sessions 1-4, no change in session 5 (mean 40)
    assert table["mean"].tolist() == pytest.approx([80, 40])
    # Holm over these two claims, not over the table's eight cells of two measures
    low_p, high_p = sorted(table["p"])
    assert sorted(table["p (Holm)"]) == pytest.approx([min(1, 2 * low_p), min(1, max(2 * low_p, high_p))])
    with pytest.raises(ValueError, match="'w'"):
        report.paper_per_class_claims(jobs)  # the paper's own claims need w and L


def _scored(condition, fold, seed, hits, total=4):
    """A job whose test speaker has ``hits`` of ``total`` utterances right, one per class in turn."""
    true = [k % 4 for k in range(total)]
    pred = [t if k < hits else (t + 1) % 4 for k, t in enumerate(true)]
    return dict(condition=condition, fold=fold, seed=seed, test=dict(gold=true, truth=true, pred=pred))


def test_sessions_are_the_unit_of_the_paired_intervals():
    from scipy import stats as scipy_stats

    speakers = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
    base_hits = dict(zip(speakers, [2, 2, 3, 2, 1, 2, 2, 3, 2, 2]))
    gain = dict(zip(speakers, [2, 1, 1, 0, 2, 2, 1, 1, 0, 1]))  # extra hits of the condition, per fold
    jobs = []
    for seed in (0, 1):
        for speaker in speakers:
            jobs.append(_scored("blstm_att", speaker, seed, base_hits[speaker], total=8))
            jobs.append(_scored("L_w", speaker, seed, base_hits[speaker] + gain[speaker] + seed, total=8))
    table = report.paired_by_session(jobs)
    row = table.loc["BLSTM + ATT + L + w"]
    assert row["sessions"] == 5
    # pooled per session: a session's 16 utterances; seeds averaged; WA diff in points = 100 * extra hits / 16
    per_session = [100 * (gain[f"Ses0{s}F"] + gain[f"Ses0{s}M"] + 2 * 0.5) / 16 for s in range(1, 6)]
    low, high = scipy_stats.t.interval(0.95, 4, loc=np.mean(per_session), scale=scipy_stats.sem(per_session))
    assert row["WA diff"] == pytest.approx(np.mean(per_session))
    assert (row["WA low"], row["WA high"]) == pytest.approx((low, high))
    assert row["WA p"] == pytest.approx(scipy_stats.ttest_1samp(per_session, 0).pvalue)
    from minisermeta import stats

    np.testing.assert_allclose(row[["WA p (Holm)", "UA p (Holm)"]].astype(float),
                               stats.holm([row["WA p"], row["UA p"]]))  # the family: one condition, WA and UA
    fold_mean = report.paired_by_session(jobs, estimator="fold_mean").loc["BLSTM + ATT + L + w"]
    assert fold_mean["WA diff"] == pytest.approx(row["WA diff"])  # equal-sized folds: the estimators agree on WA
    intervals = report.session_intervals(jobs)
    assert intervals.loc["BLSTM + ATT", "sessions"] == 5 and intervals.loc["BLSTM + ATT", "seeds"] == 2
    with pytest.raises(ValueError, match="unknown estimator"):
        report.paired_by_session(jobs, estimator="median")


def test_table2_per_fold_mean_estimator(results):
    pooled, mean = report.table2(results), report.table2(results, estimator="fold_mean")
    # L_w folds: WA 3/4 and 1/2 -> mean 62.5, pooled 4/6
    assert mean.loc["BLSTM + ATT + L + w", ("", "WA")] == pytest.approx(62.5)
    assert pooled.loc["BLSTM + ATT + L + w", ("", "WA")] == pytest.approx(100 * 4 / 6)


def test_contrasts_compare_only_the_jobs_both_conditions_ran():
    from minisermeta.methods import CONDITIONS

    speakers = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
    jobs = [{**_scored("blstm_att", sp, seed, 2, total=8), "method": CONDITIONS["blstm_att"].describe()}
            for sp in speakers for seed in (0, 1)]
    # the condition ran seed 0 only, and seed 1 of the baseline is much better: it must not enter the pair
    jobs = [j if j["seed"] == 0 else {**j, **_scored("blstm_att", j["fold"], 1, 8, total=8)} for j in jobs]
    jobs += [{**_scored("smoothed", sp, 0, 3, total=8), "method": CONDITIONS["smoothed"].describe()} for sp in speakers]
    row = report.contrasts(jobs, [("smoothed", "blstm_att")]).iloc[0]
    assert row["WA diff"] == pytest.approx(100 / 8) and row["seeds"] == 1
    assert report.contrasts(jobs, [("L_w", "blstm_att")]).empty


def test_weight_moves_per_class(results):
    moves = report.weight_moves(results)
    # L_w training utterances: gold [0, 0, 1, 2, 3, 3], initial w [.5, .5, 1.5, 1.5, 1, 1], learned [2, 1, .5, .5, 1, 1]
    assert moves.loc["Happiness", "initial w"] == pytest.approx(0.5)
    assert moves.loc["Happiness", "learned w"] == pytest.approx(1.5)
    assert moves.loc["Happiness", "median factor moved"] == pytest.approx(np.median([4, 2]))
    assert moves.loc["Sadness", "median factor moved"] == pytest.approx(3)
    assert moves.loc["Anger", "median factor moved"] == pytest.approx(1)


def test_by_agreement_relates_w_and_relabelling_to_the_raters_disagreement():
    from minisermeta.corpora import Corpus

    votes = [("anger",) * 3, ("anger", "anger", "neutral"), ("anger", "neutral", "sadness", "neutral"),
             ("happiness",) * 4, ("happiness", "neutral", "neutral"), ()]
    gold = ["anger", "anger", "anger", "happiness", "happiness", "sadness"]
    corpus = Corpus(pd.DataFrame({"utterance": [f"u{k}" for k in range(6)], "path": "", "speaker": "Ses01F",
                                  "session": "Ses01", "gold": gold, "votes": votes, "self_votes": [()] * 6}))
    index = [3, 3, 3, 0, 0, 1]  # gold as class indices (happiness, sadness, neutral, anger)
    learned = [3, 3, 2, 0, 2, 1]  # u2 and u4, the least agreed on, relabelled to neutral
    entry = {"utterances": [f"u{k}" for k in range(6)], "gold": index, "w": [0.8, 1.0, 1.3, 0.9, 1.4, 2.0],
             "s": np.eye(4)[learned].tolist()}
    table, rank = report.by_agreement([{"condition": "L_w", "train": entry}], corpus)
    # agreements: 1, 2/3, 1/4, 1, 1/3; u5 has no votes and is left out
    assert table["utterances"].tolist() == [2, 1, 0, 2]
    assert table.loc["all agree", "mean w"] == pytest.approx(0.85)
    assert table.loc["below 1/2", "mean w"] == pytest.approx(1.35)
    assert table.loc["below 1/2", "relabelled %"] == 100 and table.loc["all agree", "relabelled %"] == 0
    assert rank["utterances"] == 5 and rank["spearman rho"] < -0.8  # the less agreement, the higher w
    with pytest.raises(ValueError, match="votes"):
        report.by_agreement([{"condition": "L_w", "train": entry}], corpus.subset([5]))


def test_by_agreement_reads_a_corpus_s_own_agreement_before_its_votes():
    """EmoDB's recognition rates: an ``agreement`` column, read before the votes where a row has both; a vote
    for an emotion outside the classes (fear) is a rater who did not choose gold."""
    from minisermeta.corpora import Corpus

    corpus = Corpus(pd.DataFrame({"utterance": ["u0", "u1", "u2", "u3"], "path": "", "speaker": "03M",
                                  "session": "03M", "gold": ["anger"] * 4,
                                  "votes": [("neutral",), (), (), ("anger", "fear")], "self_votes": [()] * 4,
                                  "agreement": [1.0, 0.6, np.nan, np.nan]}))
    assert corpus.agreement()[[0, 1, 3]].tolist() == [1.0, 0.6, 0.5] and np.isnan(corpus.agreement()[2])
    entry = {"utterances": ["u0", "u1", "u2", "u3"], "gold": [3] * 4, "w": [0.8, 1.2, 1.0, 1.4],
             "s": np.eye(4)[[3, 3, 3, 2]].tolist()}
    table, rank = report.by_agreement([{"condition": "L_w", "train": entry}], corpus)
    assert table["utterances"].tolist() == [0, 2, 0, 1] and rank["utterances"] == 3  # u2 has neither: left out


def test_scoring_against_the_truth_off_a_simulated_corpus_names_the_job_that_has_none():
    jobs = [_scored(c, "Ses01F", 0, hits=3) for c in ("blstm_att", "L_w")]
    jobs[1]["test"]["truth"] = None  # as train.job_result records a real corpus
    for score in (lambda: report.table2(jobs, against="truth"),
                  lambda: report.table2(jobs, against="truth", estimator="fold_mean"),
                  lambda: report.session_intervals(jobs, against="truth"),
                  lambda: report.contrasts(jobs, [("L_w", "blstm_att")], against="truth"),
                  lambda: report.fold_spread(jobs, against="truth")):
        with pytest.raises(ValueError, match="job L_w Ses01F seed 0 has no 'truth' labels.*score against gold"):
            score()
    assert report.table2(jobs).shape[0] == 2  # gold is there


def test_two_conditions_of_one_title_are_an_error_naming_both():
    jobs = [_scored(c, "Ses01F", 0, hits=3) | {"method": {"title": "BLSTM + ATT + co-teaching"}}
            for c in ("co_teaching", "co_teaching_forget0.3")]
    with pytest.raises(ValueError, match="'co_teaching' and 'co_teaching_forget0.3' share the title"):
        report.table2(jobs)
    jobs[1]["method"]["title"] = "BLSTM + ATT + co-teaching (forget rate 0.3)"
    assert len(report.table2(jobs)) == 2


@pytest.mark.parametrize("table", [report.table2, report.fold_spread, report.session_intervals, report.kept_epochs,
                                   report.label_fixes, correction.label_correction])
def test_a_table_of_no_jobs_is_an_error_not_an_empty_table(table):
    # an empty table reads as "nothing differs" or "nothing was relabelled"; a selection of no job should say so
    with pytest.raises(ValueError, match=f"{table.__name__} needs job results, and none were given"):
        table([])
