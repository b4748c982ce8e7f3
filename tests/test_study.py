"""The study's parts: per-fold seeds, the SGD l/w update, the verdict over claims, the choice on validation."""

import numpy as np
import pytest
import torch

from helpers import tiny_settings
from minisermeta import stats, study
from minisermeta.folds import job_seed, loso_folds
from minisermeta.meta import LabelWeights
from minisermeta.settings import Settings, preset
from minisermeta.train import make_trainer, train_job


def test_job_seeds_differ_per_fold_and_seed_and_repeat():
    folds = loso_folds([f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"])
    seeds = {(seed, fold.name): job_seed(seed, fold) for seed in range(5) for fold in folds}
    assert len(set(seeds.values())) == 50
    assert job_seed(3, folds[4]) == seeds[(3, folds[4].name)]


def test_folds_of_a_session_train_alike_only_with_one_seed_for_both(dataset):
    # the two folds of Ses01 train on the same four speakers; their first epochs differ only in the seed
    first, second = loso_folds(dataset.speakers)[:2]
    assert set(first.split(dataset)[0]) == set(second.split(dataset)[0])
    for fold_seeds, alike in ((False, True), (True, False)):
        settings = tiny_settings(fold_seeds=fold_seeds)
        losses = [make_trainer(dataset, study_method(), fold, 0, settings)[0].network_epoch() for fold in (first, second)]
        assert (losses[0] == pytest.approx(losses[1], abs=1e-6)) == alike


def study_method():
    from minisermeta.methods import CONDITIONS

    return CONDITIONS["blstm_att"]


def test_a_job_records_its_validation_speaker_s_predictions(dataset, fold):
    result = train_job(dataset, "L_w", fold, 0, tiny_settings(max_epochs=1))
    valid = set(np.flatnonzero(dataset.speakers == fold.valid))
    assert len(result["valid"]["pred"]) == len(result["valid"]["gold"]) == len(valid)
    assert set(result["valid"]["utterances"]) == set(dataset.utterances[sorted(valid)])
    assert "truth" not in result["valid"]  # a choice on validation cannot read it


def test_sgd_moves_labels_by_how_sure_the_network_is_adam_by_its_rate():
    gold = np.array([0, 1])
    # utterance 0: the network is unsure (nearly uniform); utterance 1: it is sure of another class than gold
    log_probs = torch.log_softmax(torch.tensor([[0.1, 0.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0]]), dim=1)
    moved = {}
    for kind in ("sgd", "adam"):
        labels = LabelWeights(gold, 4, learn_weights=False, class_weighted=False)
        before = labels.logits.detach().clone()
        labels.update(log_probs, labels.configure_optimizer(lr_labels=2.0, kind=kind))
        moved[kind] = labels.logits.detach() - before
    s, ce = LabelWeights(gold, 4).targets().detach(), -log_probs
    expected = -2.0 * s * (ce - (s * ce).sum(dim=1, keepdim=True))  # lr * s_k (CE_n - CE_nk) / w_n, w_n = 1
    assert moved["sgd"].numpy() == pytest.approx(expected.numpy(), abs=1e-5)
    assert moved["sgd"][0].abs().sum() < 0.1 < 2.0 < moved["sgd"][1].abs().sum()  # far only where the network is sure
    assert moved["sgd"][1].argmax().item() == 2  # towards the class the network finds likely
    assert moved["adam"].abs().sum(dim=1).numpy() == pytest.approx([8.0, 8.0], rel=1e-3)  # every logit by its rate
    kinds = [type(o).__name__ for o in labels.configure_optimizer(kind="sgd")]
    assert kinds == ["SGD", "Adam"]  # the choice changes the label update alone: w keeps Adam
    with pytest.raises(ValueError, match="lw_optimizer"):
        Settings(lw_optimizer="rmsprop")
    with pytest.raises(ValueError, match="l/w optimiser"):
        labels.configure_optimizer(kind="rmsprop")


def test_an_sgd_job_trains(dataset, fold):
    result = train_job(dataset, "L_w", fold, 0, tiny_settings(lw_optimizer="sgd", lr_labels=3.0, lr_weights=0.5))
    assert result["settings"]["lw_optimizer"] == "sgd" and np.isfinite(result["epochs"][-1]["valid_loss"])


def _job(condition, fold, seed, hits, valid_hits=2, total=8, learned=(0, 1, 2, 3)):
    """A job whose test speaker has ``hits`` of ``total`` right; truth differs from gold on one test utterance.

    Its four training utterances have gold (0, 1, 2, 3), truth (1, 1, 2, 3) and learned labels ``learned``.
    """
    true = [k % 4 for k in range(total)]
    pred = [t if k < hits else (t + 1) % 4 for k, t in enumerate(true)]
    valid_pred = [t if k < valid_hits else (t + 1) % 4 for k, t in enumerate(true)]
    truth = [(true[0] + 1) % 4, *true[1:]]
    other = f"Ses0{int(fold[4]) % 5 + 1}F"  # the training utterances come from another session
    train = dict(gold=np.arange(4), truth=np.array([1, 1, 2, 3]), s=np.eye(4)[list(learned)],
                 utterances=[f"{other}_impro01_F{k:03d}" for k in range(4)])
    return dict(condition=condition, fold=fold, seed=seed, test=dict(gold=true, truth=truth, pred=pred),
                valid=dict(gold=true, pred=valid_pred), train=train)


SPEAKERS = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]


def test_verdict_corrects_over_every_claim_target_and_measure():
    gains = {"blstm_att": 2, "smoothed": 2, "w": 5, "L": 3, "L_w": 2}
    jobs = [_job(c, speaker, seed, hits + (k + seed) % 2) for c, hits in gains.items()
            for k, speaker in enumerate(SPEAKERS) for seed in (0, 1)]
    table = study.verdict(jobs)
    claims = [c.text for c in study.CLAIMS if c.condition in gains and c.baseline in gains]
    assert [claim for claim, _ in table.index[::2]] == claims  # pretraining: not run, left out
    assert table.loc[("w alone beats the baseline", "gold"), "UA verdict"] == "holds"
    assert table.loc[("w has more influence than L", "gold"), "UA diff"] > 0
    assert table.loc[("L + w beats the baseline", "truth"), "UA verdict"] == "not shown"
    raw = np.concatenate([table["WA p"], table["UA p"]])  # one family: every claim, target and measure
    smallest = np.nanargmin(raw)
    assert np.concatenate([table["WA p (Holm)"], table["UA p (Holm)"]])[smallest] == \
        pytest.approx(min(1.0, np.isfinite(raw).sum() * raw[smallest]))
    assert table.loc[("w alone beats the baseline", "gold"), "paper's claim"] == "supported"
    assert table.loc[("L + w beats the baseline", "gold"), "paper's claim"] == "not supported"
    assert table.loc[("w beats its label smoothing alone", "gold"), "paper's claim"] == ""  # our control
    assert table.loc[("w alone beats the baseline", "gold"), "paper UA diff"] == pytest.approx(60.8 - 59.5)
    with pytest.raises(ValueError, match="no claim"):
        study.verdict([j for j in jobs if j["condition"] == "L"])


def test_the_choice_reads_validation_only():
    # "a": better on the test speakers and the truth, worse on validation; "b" the other way round
    sweep = {"a": [_job("L_w", s, 0, hits=7, valid_hits=3) for s in SPEAKERS],
             "b": [_job("L_w", s, 0, hits=2, valid_hits=6) for s in SPEAKERS]}
    assert study.choose(sweep) == "b"
    assert study.validation_scores(sweep["b"])["WA"] == pytest.approx(100 * 6 / 8)
    with pytest.raises(ValueError, match="validation predictions"):
        study.validation_scores([{k: v for k, v in sweep["a"][0].items() if k != "valid"}])
    with pytest.raises(ValueError, match="no sweep"):
        study.choose({})


def test_sweep_settings_and_their_directories(tmp_path):
    assert study.SWEEP["sgd 3, scale 1"] == dict(lw_optimizer="sgd", lr_labels=3.0, label_scale=1.0)
    for fields in study.SWEEP.values():  # each a valid setting that differs from the preset in the l/w update only
        changed = {k for k, v in vars(preset("small", **fields)).items() if getattr(preset("small"), k) != v}
        assert changed <= {"lw_optimizer", "lr_labels", "label_scale", "lr_weights", "lw_steps"}
    for name in ("adam 0.03, scale 1, w 0.2", "adam 0.03, scale 1, 3 steps"):  # one rate more, from the chosen update
        extra = {k: v for k, v in study.SWEEP[name].items() if study.SWEEP["adam 0.03, scale 1"].get(k) != v}
        assert list(extra) == [{"w": "lr_weights", "3": "lw_steps"}[name.split(", ")[-1][0]]]
    assert study.sweep_dir(tmp_path, "sgd 3, scale 1") == tmp_path / "sgd-3_scale-1"
    assert len({study.sweep_dir(tmp_path, name) for name in study.SWEEP}) == len(study.SWEEP)
    assert study.load_sweep(tmp_path, "small") == {}


def test_agreement_compares_verdicts_on_the_same_family():
    checked = ("blstm_att", "smoothed", "L_w", "w", "L", "oversampling", "undersampling", "smoothed_pretrained")
    sure = [_job(c, s, seed, h + (k + seed) % 2)
            for c, h in {"blstm_att": 2, "smoothed": 2, "L_w": 5, "w": 6, "L": 6, "oversampling": 3,
                         "undersampling": 3, "smoothed_pretrained": 3}.items()
            for k, s in enumerate(SPEAKERS) for seed in (0, 1)]
    unsure = [_job(c, s, 0, h + k % 3)
              for c, h in {"blstm_att": 2, "smoothed": 2, "L_w": 2, "w": 2, "L": 2, "oversampling": 2,
                           "undersampling": 2, "smoothed_pretrained": 2}.items()
              for k, s in enumerate(SPEAKERS)]
    with pytest.raises(ValueError, match="L_w_pretrained, L_w_pretrained_gold"):  # by default, every condition
        study.agreement({"sure": sure, "unsure": unsure})
    table = study.agreement({"sure": sure, "unsure": unsure}, conditions=checked)
    assert table["same sign"].all() or not table["agree"].all()
    with pytest.raises(ValueError, match="smoothed"):
        study.agreement({"sure": sure, "none": [j for j in unsure if j["condition"] != "smoothed"]}, checked)
    assert table.loc[("L + w beats the baseline", "gold"), "sure UA verdict"] == "holds"
    assert table.loc[("L + w beats the baseline", "gold"), "unsure UA verdict"] == "not shown"
    assert not table.loc[("L + w beats the baseline", "gold"), "agree"]
    assert table.loc[("label smoothing alone beats the baseline", "gold"), "agree"]
    # each run's differences and intervals are its own verdict's on the shared jobs (seed 0)
    for name, alone in (("sure", [j for j in sure if j["seed"] == 0]), ("unsure", unsure)):
        columns = [f"{measure} {column}" for measure in ("WA", "UA") for column in ("diff", "low", "high")]
        assert table.loc[("L + w beats the baseline", "gold"), [f"{name} {c}" for c in columns]].tolist() == \
            pytest.approx(study.verdict(alone).loc[("L + w beats the baseline", "gold"), columns].tolist())
    claims = {c.text for c in study.CLAIMS if {c.condition, c.baseline} <= set(checked)}  # both runs cut to these
    assert set(table.index.get_level_values(0)) == claims
    assert {"L + w beats oversampling", "w alone beats the baseline"} <= claims
    assert "pretraining L + w helps" not in table.index.get_level_values(0)  # its conditions are not in the check


def test_the_gap_between_two_runs_is_paired_by_session_and_corrected():
    def run(lw_hits, seeds=(0,)):  # every condition of the check (3 hits unless set), only L + w's differ
        hits = dict.fromkeys(study.CONDITIONS, 3) | {"blstm_att": 2, "L_w": lw_hits, "w": 4}
        return [_job(c, s, seed, h + k % 2) for c, h in hits.items() for k, s in enumerate(SPEAKERS) for seed in seeds]

    wide, narrow = run(6, seeds=(0, 1)), run(2)
    gap = study.run_gap({"wide": wide, "narrow": narrow})
    check = study.agreement({"wide": wide, "narrow": narrow})
    assert list(gap.index) == list(check.index)  # the same claims, on the same (here seed 0's) jobs
    for measure in ("WA", "UA"):  # the mean of the sessions' gaps is the gap of their means
        assert np.allclose(gap[f"{measure} gap"], check[f"wide {measure} diff"] - check[f"narrow {measure} diff"])
    assert gap.loc[("L + w beats the baseline", "gold"), "UA verdict"] == "larger"
    assert gap.loc[("L + w beats its label smoothing alone", "truth"), "WA verdict"] == "larger"
    assert (gap.loc["label smoothing alone beats the baseline", "UA gap"] == 0).all()  # the same in both runs
    assert (gap.loc["label smoothing alone beats the baseline", "UA verdict"] == "not shown").all()
    raw = np.concatenate([gap["WA p"], gap["UA p"]])  # one family: every claim, target and measure
    assert np.allclose(np.concatenate([gap["WA p (Holm)"], gap["UA p (Holm)"]]), stats.holm(raw))
    reversed_gap = study.run_gap({"narrow": narrow, "wide": wide})
    assert np.allclose(reversed_gap["UA gap"], -gap["UA gap"])
    assert reversed_gap.loc[("L + w beats the baseline", "gold"), "UA verdict"] == "smaller"
    with pytest.raises(ValueError, match="two runs"):
        study.run_gap({"wide": wide})



def test_a_rerun_is_compared_job_by_job_on_the_jobs_both_runs_hold():
    def job(speaker, seed, hits, stop, threads=None):  # kept epoch: ``stop`` (lowest validation loss there)
        epochs = [dict(phase="train", epoch=e, valid_loss=abs(e - stop) + 1.0) for e in range(1, 6)]
        recorded = {} if threads is None else {"threads": threads}
        return {**_job("L_w", speaker, seed, hits), "settings": {"lr": 0.001}, "epochs": epochs, **recorded}

    first = [job(s, seed, 5, 3) for s in SPEAKERS for seed in (0, 1)]
    # the rerun moved one job's kept epoch (and its predictions), and never ran seed 1 of the last speaker
    second = [job(s, seed, 4 if (s, seed) == ("Ses01F", 0) else 5, 4 if (s, seed) == ("Ses01F", 0) else 3, threads=1)
              for s in SPEAKERS for seed in (0, 1) if (s, seed) != ("Ses05M", 1)]
    table = study.rerun_table({"two threads": first, "one thread": second})
    assert list(table.index) == ["two threads", "one thread"]
    assert table["jobs"].tolist() == [19, 19]  # the jobs both hold
    assert table["kept another epoch"].tolist() == [0, 1] and table["jobs predicting otherwise"].tolist() == [0, 1]
    assert table["threads"].tolist() == ["not recorded", "1"]
    assert table.loc["two threads", "test gold UA"] > table.loc["one thread", "test gold UA"]
    other = [dict(r, settings={"lr": 0.01}) if r["fold"] == "Ses02M" else r for r in second]
    with pytest.raises(ValueError, match=r"not a rerun: L_w on Ses02M, seed 0, ran with another lr in"):
        study.rerun_table({"two threads": first, "one thread": other})
    on_gpu = [dict(r, device="cuda:0") if r["fold"] == "Ses03F" else r for r in second]
    with pytest.raises(ValueError, match=r"L_w on Ses03F, seed 0, ran with another device"):
        study.rerun_table({"two threads": first, "one thread": on_gpu})
    with pytest.raises(ValueError, match="holds L_w on Ses01F, seed 0, twice"):
        study.rerun_table({"two threads": first + first[:1], "one thread": second})
    with pytest.raises(ValueError, match="share no L_w job"):
        study.rerun_table({"a": first, "b": [dict(r, condition="L") for r in second]})

def test_a_nested_choice_never_reads_the_session_it_scores():
    # "a" is perfect on Ses01's validation speakers and poor elsewhere; "b" middling everywhere
    sweep = {"a": [_job("L_w", s, 0, hits=5, valid_hits=8 if s.startswith("Ses01") else 2) for s in SPEAKERS],
             "b": [_job("L_w", s, 0, hits=4, valid_hits=3) for s in SPEAKERS]}
    chosen, jobs = study.nested_choice(sweep)
    assert chosen == {"Ses01": "b", "Ses02": "a", "Ses03": "a", "Ses04": "a", "Ses05": "a"}
    assert sorted(r["fold"] for r in jobs) == sorted(SPEAKERS)
    assert all((r in sweep["b"]) == r["fold"].startswith("Ses01") for r in jobs)
    assert study.choose(sweep, leave_out="Ses01") == "b" and study.choose(sweep) == "a"


def test_verdict_leaves_the_truth_out_where_there_is_none():
    jobs = [_job(c, s, 0, 3 + k % 2) for c in ("blstm_att", "L_w") for k, s in enumerate(SPEAKERS)]
    for job in jobs:
        job["test"]["truth"] = None
    table = study.verdict(jobs)
    assert set(table.index.get_level_values("against")) == {"gold"}


@pytest.mark.parametrize("verdicts, expects, outcome", [
    (("holds", "holds"), "better", "supported"), (("holds", "not shown"), "better", "partly supported"),
    (("holds", "reversed"), "better", "contradicted"), (("not shown", "not shown"), "better", "not supported"),
    (("not shown", "reversed"), "not better", "consistent"), (("holds", "not shown"), "not better", "contradicted"),
    (("holds", "holds"), "", "")])
def test_what_the_two_verdicts_say_of_the_paper_s_claim(verdicts, expects, outcome):
    assert study._outcome(verdicts, expects) == outcome


def test_the_scale_table_shows_where_targets_start_and_how_right_labels_end():
    by_scale = {scale: [_job(c, s, 0, hits=4, learned=(1, 1, 2, 3) if c == "L" and scale == 10 else (0, 1, 2, 3))
                        for c in ("smoothed", "L") for s in SPEAKERS] for scale in (1.0, 10.0)}
    table = study.scale_table(by_scale)
    assert list(table.index) == [("BLSTM + ATT + smoothed targets", 1.0), ("BLSTM + ATT + smoothed targets", 10.0),
                                 ("BLSTM + ATT + L", 1.0), ("BLSTM + ATT + L", 10.0)]
    assert table["s on gold"].iloc[0] == pytest.approx(np.e / (np.e + 3))  # 0.475: the smoothing of scale 1
    assert table["s on gold"].iloc[1] > 0.99
    assert table.loc[("BLSTM + ATT + L", 10.0), "fixed"] == 10  # one per job
    assert table.loc[("BLSTM + ATT + L", 10.0), "learned right %"] == 100
    assert table.loc[("BLSTM + ATT + L", 1.0), "learned right %"] == table.loc[("BLSTM + ATT + L", 1.0), "gold right %"]
    with pytest.raises(ValueError, match="no results"):
        study.scale_table(by_scale, conditions=("w",))


def test_the_noise_table_leads_each_level_with_the_baseline():
    def level(valid_a, valid_b):
        return {"a": [_job(c, s, 0, hits=4, valid_hits=valid_a) for c in ("blstm_att", "L_w") for s in SPEAKERS],
                "b": [_job("L_w", s, 0, hits=5, valid_hits=valid_b) for s in SPEAKERS]}

    table = study.noise_table({2.0: level(6, 3), 0.0: level(3, 6)})
    assert list(table.index) == [(noise, name) for noise in (0.0, 2.0) for name in ("baseline", "a", "b", "nested choice")]
    assert table.loc[(0.0, "b"), "chosen"] and table.loc[(2.0, "a"), "chosen"]  # chosen per level, on validation
    assert table.loc[(2.0, "baseline"), "jobs"] == 10 and not table.loc[(2.0, "baseline"), "chosen"]
    assert table.loc[(0.0, "b"), "test gold WA"] == pytest.approx(100 * 5 / 8)


def test_noise_contrasts_pair_the_nested_choice_with_the_baseline_by_session():
    def level(gain):
        base = [_job("blstm_att", s, 0, hits=3 + k % 2) for k, s in enumerate(SPEAKERS)]
        return {"a": base + [_job("L_w", s, 0, hits=3 + k % 2 + gain, valid_hits=5) for k, s in enumerate(SPEAKERS)],
                "b": [_job("L_w", s, 0, hits=3 + k % 2, valid_hits=1) for k, s in enumerate(SPEAKERS)]}

    table = study.noise_contrasts({0.0: level(0), 2.0: level(3)})
    (contrast,) = table.index.unique("contrast")
    assert list(table.index) == [(noise, contrast, t) for noise in (0.0, 2.0) for t in ("gold", "truth")]
    table = table.droplevel("contrast")
    assert table.loc[(2.0, "gold"), "WA diff"] == pytest.approx(100 * 3 / 8)  # "a" chosen in every session
    assert table.loc[(2.0, "gold"), "WA verdict"] == "holds" and table.loc[(0.0, "gold"), "WA verdict"] == "not shown"
    raw = np.concatenate([table["WA p"], table["UA p"]])
    assert np.nanmax(np.concatenate([table["WA p (Holm)"], table["UA p (Holm)"]])) >= np.nanmax(raw)
    with pytest.raises(ValueError, match="no annotator noise"):
        study.noise_contrasts({0.0: {"b": level(0)["b"]}})


def test_noise_contrasts_read_a_control_anywhere_in_the_sweep_and_the_chosen_condition_as_its_nested_choice():
    # w ran beside the baseline at setting "a"; validation picks "b" for L + w in every session
    sweep = {"a": [job for k, s in enumerate(SPEAKERS) for job in (
                 _job("blstm_att", s, 0, hits=3 + k % 2), _job("w", s, 0, hits=4 + k % 2),
                 _job("L_w", s, 0, hits=1, valid_hits=1))],
             "b": [_job("L_w", s, 0, hits=6 + k % 2, valid_hits=5) for k, s in enumerate(SPEAKERS)]}
    table = study.noise_contrasts({2.0: sweep}, pairs=(("w", "blstm_att"), ("L_w", "w")))
    gold = table.xs((2.0, "gold"), level=("annotator noise", "against"))
    assert len(gold) == 2 and set(table.index.unique("against")) == {"gold", "truth"}
    assert sorted(gold["WA diff"]) == pytest.approx([100 / 8, 200 / 8])  # L + w at "b" (6 hits), not "a" (1)
    assert (table["WA p (Holm)"] >= table["WA p"]).all()  # one family: both contrasts, both targets


def test_the_chosen_setting_is_compared_with_each_control_of_the_run():
    # validation picks "b" in every session; the run holds the baseline and smoothed (and a condition not asked for)
    sweep = {"a": [_job("L_w", s, 0, hits=1, valid_hits=1) for s in SPEAKERS],
             "b": [_job("L_w", s, 0, hits=6, valid_hits=5) for s in SPEAKERS]}
    run = [job for k, s in enumerate(SPEAKERS) for job in (
        _job("blstm_att", s, 0, hits=3 + k % 2), _job("smoothed", s, 0, hits=5), _job("L", s, 0, hits=8))]
    table = study.chosen_contrasts(sweep, run, against=("blstm_att", "smoothed"))
    gold = table.xs("gold", level="against")
    assert len(gold) == 2 and set(table.index.unique("against")) == {"gold", "truth"}
    assert sorted(gold["WA diff"]) == pytest.approx([100 / 8, 100 * 2.5 / 8])  # "b" (6 hits), not "a" (1)
    assert (table["WA p (Holm)"] >= table["WA p"]).all()
    with pytest.raises(ValueError, match="no job of w"):
        study.chosen_contrasts(sweep, run)


def test_controls_join_the_first_setting_and_leave_the_sweep_as_it_was():
    sweep = {"a": [_job("L_w", "Ses01F", 0, hits=4)], "b": [_job("L_w", "Ses01M", 0, hits=4)]}
    run = [_job("blstm_att", "Ses01F", 0, hits=4), _job("L", "Ses01F", 0, hits=4)]
    joined = study.with_controls(sweep, run, ("blstm_att",))
    assert [r["condition"] for r in joined["a"]] == ["L_w", "blstm_att"] and joined["b"] == sweep["b"]
    assert len(sweep["a"]) == 1  # the caller's sweep is not changed


def test_settings_are_chosen_on_the_seeds_they_all_ran_and_the_choice_keeps_its_other_seeds():
    # "a" ran seeds 0 and 1 (seed 1 excellent on validation), "b" seed 0 only: only seed 0 may decide
    sweep = {"a": [_job("L_w", s, seed, hits=4, valid_hits=2 if seed == 0 else 8) for s in SPEAKERS for seed in (0, 1)],
             "b": [_job("L_w", s, 0, hits=4, valid_hits=5) for s in SPEAKERS]}
    assert study.shared_seeds(sweep) == {0} and study.choose(sweep) == "b"
    sweep["b"] += [_job("L_w", s, 1, hits=6, valid_hits=1) for s in SPEAKERS]  # "b" repeated over seed 1
    assert study.shared_seeds(sweep) == {0, 1} and study.choose(sweep) == "a"
    del sweep["a"][1::2]  # back to seed 0 for "a": "b" is chosen, and its held-out jobs are both seeds
    chosen, jobs = study.nested_choice(sweep)
    assert set(chosen.values()) == {"b"} and len(jobs) == 20 and {r["seed"] for r in jobs} == {0, 1}
    table = study.sweep_table(sweep)
    assert table.loc["a", "seeds"] == table.loc["b", "seeds"] == 1  # settings compared like with like
    assert table.loc["nested choice", "seeds"] == 2 and table.loc["nested choice", "jobs"] == 20
    assert table.loc["b", "test gold WA"] == pytest.approx(100 * 4 / 8)
    assert table.loc["nested choice", "test gold WA"] == pytest.approx(100 * 5 / 8)
    with pytest.raises(ValueError, match="share no seed"):
        study.choose({"a": sweep["a"], "c": [_job("L_w", s, 2, hits=4) for s in SPEAKERS]})


def test_label_cleaning_takes_the_session_of_a_jobs_test_speaker_as_the_unit():
    from minisermeta import report

    # gold is right on 3 of 4 training utterances; the learned labels fix the wrong one in the jobs of Ses01-Ses03
    jobs = [_job("L_w", s, 0, hits=4, learned=(1, 1, 2, 3) if s[:5] in ("Ses01", "Ses02", "Ses03") else (0, 1, 2, 3))
            for s in SPEAKERS]
    jobs.append(_job("L_w", "Ses04F", 1, hits=4, learned=(1, 1, 2, 3)))  # a second seed of Ses04F's fold
    found = report.label_cleaning(jobs)
    # sessions 1-3 end 100 % right; session 4 pools three jobs, 12 utterances, 10 right; session 5 stays at 75 %
    assert found["sessions"] == 5 and found["seeds"] == 2
    assert found["gold right %"] == 75
    diffs = np.array([25, 25, 25, 100 * 10 / 12 - 75, 0])
    assert found["learned right %"] == pytest.approx(75 + diffs.mean())
    assert found["diff"] == pytest.approx(diffs.mean())
    half = 2.776445105 * diffs.std(ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert (found["low"], found["high"]) == pytest.approx((diffs.mean() - half, diffs.mean() + half))
    with pytest.raises(ValueError, match="true labels"):
        report.label_cleaning([{**jobs[0], "train": {**jobs[0]["train"], "truth": None}}])


def test_noise_cleaning_says_where_the_chosen_labels_end_cleaner_than_gold():
    def level(fixes):
        learned = (1, 1, 2, 3) if fixes else (0, 1, 2, 3)
        return {"a": [_job("L_w", s, seed, hits=4, learned=learned if k % 5 else (0, 1, 2, 3))
                      for k, s in enumerate(SPEAKERS) for seed in (0, 1)]}

    table = study.noise_cleaning({0.0: level(False), 2.0: level(True)})
    assert list(table.index) == [0.0, 2.0] and table.index.name == "annotator noise"
    assert table.loc[2.0, "diff"] > 0 and table.loc[0.0, "diff"] == 0
    assert table.loc[2.0, "p (Holm)"] == pytest.approx(min(1.0, 2 * table.loc[2.0, "p"]))
    assert table.loc[2.0, "verdict"] == "cleaner" and table.loc[0.0, "verdict"] == "not shown"
    assert (table["seeds"] == 2).all()


def test_sweep_cleaning_measures_each_setting_on_the_seeds_every_setting_ran():
    # "a" fixes a label in four sessions of five on seed 0 and breaks every label on seed 1, which "b" never ran
    a = [_job("L_w", s, 0, hits=4, learned=(1, 1, 2, 3) if k % 5 else (0, 1, 2, 3)) for k, s in enumerate(SPEAKERS)]
    a += [_job("L_w", s, 1, hits=4, learned=(3, 0, 1, 2)) for s in SPEAKERS]
    b = [_job("L_w", s, 0, hits=4, learned=(0, 2, 2, 3)) for s in SPEAKERS]  # breaks one right label everywhere
    table = study.sweep_cleaning({"a": a + [_job("blstm_att", s, 0, 4) for s in SPEAKERS], "b": b})
    assert list(table.index) == ["a", "b"] and table.index.name == "setting"
    assert (table["seeds"] == 1).all() and table.loc["a", "diff"] > 0  # seed 1 of "a" is not read
    assert table.loc["b", "diff"] == pytest.approx(-25) and table.loc["b", "verdict"] == "less clean"
    # Holm over the two settings: "b"'s p (zero: every session loses the same) first, "a"'s times one
    assert table.loc["a", "p (Holm)"] == pytest.approx(table.loc["a", "p"]) and table.loc["a", "verdict"] == "cleaner"
    with pytest.raises(ValueError, match="ran L_w"):
        study.sweep_cleaning({"c": [_job("blstm_att", s, 0, 4) for s in SPEAKERS]})


def test_scale_contrasts_set_each_learned_condition_against_smoothing_at_its_own_scale():
    # at scale 10, L gains 2 of 8 test utterances over smoothed in sessions 1-4 and 3 in session 5; at scale 1
    # it gains nothing
    def gain(condition, scale, k):
        return 0 if condition != "L" or scale != 10 else 2 + (k >= 8)

    by_scale = {scale: [_job(c, s, seed, hits=3 + k % 2 + gain(c, scale, k))
                        for c in ("smoothed", "L") for k, s in enumerate(SPEAKERS) for seed in (0, 1)]
                for scale in (10.0, 1.0)}
    table = study.scale_contrasts(by_scale)
    assert list(table.index) == [(scale, "BLSTM + ATT + L", against) for scale in (1.0, 10.0)
                                 for against in ("gold", "truth")]  # w and L + w not run: left out
    assert table.loc[(10.0, "BLSTM + ATT + L", "gold"), "WA diff"] == pytest.approx(100 * 2.2 / 8)
    assert table.loc[(10.0, "BLSTM + ATT + L", "gold"), "WA verdict"] == "holds"
    assert table.loc[(1.0, "BLSTM + ATT + L", "gold"), "WA diff"] == 0
    assert table.loc[(1.0, "BLSTM + ATT + L", "gold"), "WA verdict"] == "not shown"
    raw = np.concatenate([table["WA p"], table["UA p"]])  # one family: every scale, condition, target and measure
    assert 0 < np.nanmin(raw) < 0.01
    assert np.nanmin(np.concatenate([table["WA p (Holm)"], table["UA p (Holm)"]])) == \
        pytest.approx(min(1.0, np.sum(~np.isnan(raw)) * np.nanmin(raw)))
    with pytest.raises(ValueError, match="no label scale"):
        study.scale_contrasts({1.0: [r for r in by_scale[1.0] if r["condition"] == "L"]})


def test_scale_cleaning_asks_of_each_scale_and_condition_whether_labels_end_cleaner_than_gold():
    by_scale = {scale: [_job(c, s, 0, hits=4, learned=(1, 1, 2, 3) if c == "L_w" and scale == 3 and k % 5 else
                             (0, 1, 2, 3)) for c in ("smoothed", "L_w") for k, s in enumerate(SPEAKERS)]
                for scale in (1.0, 3.0)}
    table = study.scale_cleaning(by_scale)
    assert list(table.index) == [(1.0, "BLSTM + ATT + L + w"), (3.0, "BLSTM + ATT + L + w")]  # L not run
    assert table.index.names == ["label scale", "condition"]
    assert table.loc[(3.0, "BLSTM + ATT + L + w"), "diff"] > 0 and table.loc[(1.0, "BLSTM + ATT + L + w"), "diff"] == 0
    assert table.loc[(3.0, "BLSTM + ATT + L + w"), "p (Holm)"] == \
        pytest.approx(min(1.0, 2 * table.loc[(3.0, "BLSTM + ATT + L + w"), "p"]))
    assert table.loc[(1.0, "BLSTM + ATT + L + w"), "verdict"] == "not shown"
    with pytest.raises(ValueError, match="no label scale"):
        study.scale_cleaning({1.0: by_scale[1.0]}, conditions=("L",))



def test_learned_cleaning_asks_it_of_every_condition_that_learns_labels_with_one_holm_family():
    # L + w fixes the wrong label in eight folds of ten; L breaks a right one everywhere; smoothed learns nothing
    jobs = [_job("L_w", s, 0, hits=4, learned=(1, 1, 2, 3) if k % 5 else (0, 1, 2, 3)) for k, s in enumerate(SPEAKERS)]
    jobs += [_job("L", s, 0, hits=4, learned=(0, 2, 2, 3)) for s in SPEAKERS]
    jobs += [_job("smoothed", s, 0, hits=4) for s in SPEAKERS]
    table = study.learned_cleaning(jobs)
    assert list(table.index) == ["BLSTM + ATT + L", "BLSTM + ATT + L + w"] and table.index.name == "condition"
    assert table.loc["BLSTM + ATT + L", "diff"] == pytest.approx(-25)
    assert table.loc["BLSTM + ATT + L", "verdict"] == "less clean"
    assert table.loc["BLSTM + ATT + L + w", "diff"] > 0
    np.testing.assert_allclose(table["p (Holm)"], stats.holm(table["p"]))
    alone = study.learned_cleaning(jobs, conditions=["L_w"])  # a family of one: no correction
    assert alone.loc["BLSTM + ATT + L + w", "p (Holm)"] == pytest.approx(alone.loc["BLSTM + ATT + L + w", "p"])
    assert list(study.learned_cleaning(jobs, conditions=["L_w_pretrained", "L"]).index) == ["BLSTM + ATT + L"]
    with pytest.raises(ValueError, match="no job of a condition that learns labels"):
        study.learned_cleaning([r for r in jobs if r["condition"] == "smoothed"])
    with pytest.raises(ValueError, match="no job of L_w_pretrained"):
        study.learned_cleaning(jobs, conditions=["L_w_pretrained"])

def test_whole_seeds_are_those_every_condition_ran_on_every_fold():
    results = [_job(c, s, seed, hits=4) for c in ("smoothed", "L") for s in SPEAKERS for seed in (0, 1, 2)]
    results = [r for r in results if not (r["seed"] == 1 and r["condition"] == "L" and r["fold"] == "Ses05M")]
    results += [_job("L", s, 3, hits=4) for s in SPEAKERS]  # seed 3 of L alone
    assert study.whole_seeds(results, ("smoothed", "L"), 10) == {0, 2}  # seed 1 lacks a fold of L
    assert study.whole_seeds(results, ("L",), 10) == {0, 2, 3}
    assert study.whole_seeds(results + results[:1], ("smoothed",), 10) == {0, 1, 2}  # a job read twice: one fold
