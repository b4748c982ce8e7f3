"""The method interface: the trainer runs any Method, and a new method is one class."""

import inspect
import pickle
from dataclasses import dataclass

import numpy as np
import pytest
import torch.nn.functional as F
from helpers import tiny_settings, without_timing

from minisermeta import methods, train
from minisermeta.folds import loso_folds
from minisermeta.grid import load_jobs, run_grid
from minisermeta.methods import CONDITIONS, PAPER_CONDITIONS, FixedTargets, LearnedLabelsWeights, Method, resolve
from minisermeta.train import train_job


@dataclass
class HardestDropped(Method):
    """A method a reader might write: cross-entropy on gold, ignoring the batch's highest-loss fraction."""

    drop: float = 0.25
    title: str = "drop the hardest"

    def setup(self, trainer):
        super().setup(trainer)
        self.gold_ = trainer.data.gold
        self.device_ = trainer.device

    def loss(self, logits, batch):
        import torch

        gold = torch.as_tensor(self.gold_[self.train_], device=self.device_)[batch.rows]
        per_utterance = F.cross_entropy(logits, gold, reduction="none")
        keep = max(1, int(round(len(per_utterance) * (1 - self.drop))))
        return per_utterance.sort().values[:keep].mean()


def test_a_method_of_ones_own_trains_through_the_same_loop(dataset, fold):
    result = train_job(dataset, HardestDropped(), fold, seed=0, settings=tiny_settings())
    assert result["condition"] == "HardestDropped"
    assert result["method"] == {"type": "HardestDropped", "drop": 0.25, "title": "drop the hardest"}
    assert len(result["test"]["pred"]) == len(fold.split(dataset)[2]) and result["epochs"]


def test_a_method_of_ones_own_runs_in_a_grid_by_name(dataset, tmp_path):
    folds = loso_folds(dataset.speakers)[:2]
    run_grid(dataset, tmp_path, {"hardest": HardestDropped(drop=0.5)}, folds, [0], tiny_settings(max_epochs=1),
             n_jobs=2, progress=False)
    jobs = load_jobs(tmp_path)
    assert sorted(j["fold"] for j in jobs) == sorted(f.name for f in folds)
    assert {j["condition"] for j in jobs} == {"hardest"} and jobs[0]["method"]["drop"] == 0.5


def test_the_loop_knows_no_condition_by_name():
    source = inspect.getsource(train)
    for name in CONDITIONS:
        assert f'"{name}"' not in source, name


def test_smoothed_is_l_and_w_without_the_learning(dataset, fold):
    """The `smoothed` control trains exactly as L + w would with both updates switched off."""
    smoothed = train_job(dataset, "smoothed", fold, seed=1, settings=tiny_settings())
    frozen = train_job(dataset, LearnedLabelsWeights(learn_labels=False, learn_weights=False), fold, seed=1,
                       settings=tiny_settings())
    for key in ("test", "epochs"):
        assert without_timing(smoothed)[key] == without_timing(frozen)[key]
    assert smoothed["train"]["s"] == frozen["train"]["s"] and smoothed["train"]["w"] == frozen["train"]["initial_w"]
    s = np.array(smoothed["train"]["s"])
    np.testing.assert_allclose(s.max(1), np.e / (np.e + 3), atol=1e-4)  # softmax(1 * one-hot), eq. (7)


def test_label_scale_sets_the_smoothing(dataset, fold):
    result = train_job(dataset, "smoothed", fold, seed=0, settings=tiny_settings(label_scale=3.0, max_epochs=1))
    np.testing.assert_allclose(np.array(result["train"]["s"]).max(1), np.exp(3) / (np.exp(3) + 3), atol=1e-4)


def test_a_fixed_target_method_can_pretrain_like_the_pretrained_variant(dataset, fold):
    control = FixedTargets(targets="smoothed", pretrain=True)
    assert control.phases == ("pretrain", "train")
    result = train_job(dataset, control, fold, seed=0, settings=tiny_settings(max_epochs=2))
    assert [e["phase"] for e in result["epochs"]][0] == "pretrain" and result["epochs"][-1]["phase"] == "train"


def test_methods_pickle_and_a_job_never_changes_the_shared_instance(dataset, fold):
    prototype = CONDITIONS["L_w"]
    assert pickle.loads(pickle.dumps(prototype)) == prototype
    train_job(dataset, "L_w", fold, seed=0, settings=tiny_settings(max_epochs=1))
    assert not [k for k in vars(prototype) if k.endswith("_")]


def test_resolve_names_and_refuses_bad_ones():
    assert list(resolve()) == list(PAPER_CONDITIONS)
    assert list(resolve(["L_w", "smoothed"])) == ["L_w", "smoothed"]
    with pytest.raises(ValueError, match="unknown condition"):
        resolve(["L_w", "nope"])
    with pytest.raises(ValueError, match="more than once"):
        resolve(["L_w", "L_w"])
    with pytest.raises(ValueError, match="no condition"):
        resolve([])
    with pytest.raises(ValueError, match="not minisermeta.methods.Method"):
        resolve({"x": "L_w"})


def test_bad_hyper_parameters_are_refused_when_the_method_is_made():
    with pytest.raises(ValueError, match="unknown targets"):
        FixedTargets(targets="one-hot")
    with pytest.raises(ValueError, match="unknown sampling"):
        FixedTargets(sampling="both")


def test_every_paper_row_has_its_paper_name():
    from minisermeta import paper

    for name, method in PAPER_CONDITIONS.items():
        if name == "soft_target":  # not Ando et al.'s method as published (no no-majority utterances): its own name
            assert method.title != paper.METHOD_NAMES[name] and method.targets == "votes"
        else:
            assert method.title == paper.METHOD_NAMES[name]
    assert methods.CONDITIONS["smoothed"].title and "smoothed" not in paper.METHOD_NAMES


def test_pretraining_on_gold_trains_first_exactly_as_the_baseline(dataset, fold):
    """The paper's pretrained variant: its first phase is BLSTM + ATT (one-hot gold, eq. 4 weights), epoch by epoch."""
    settings = tiny_settings(max_epochs=2)
    baseline = train_job(dataset, "blstm_att", fold, seed=2, settings=settings)
    variant = train_job(dataset, "L_w_pretrained_gold", fold, seed=2, settings=settings)
    pretrain = [e for e in variant["epochs"] if e["phase"] == "pretrain"]
    assert [(e["train_loss"], e["valid_loss"]) for e in pretrain] == \
        [(e["train_loss"], e["valid_loss"]) for e in baseline["epochs"]]
    s = np.array(variant["train"]["s"])  # then l starts from softmax(label_scale * one-hot) and learns
    assert not np.allclose(s, np.eye(4)[variant["train"]["gold"]], atol=1e-3)


def test_the_pretrained_control_has_the_variants_schedule_and_nothing_learned(dataset, fold):
    settings = tiny_settings(max_epochs=2)
    control = train_job(dataset, "smoothed_pretrained", fold, seed=2, settings=settings)
    smoothed = train_job(dataset, "smoothed", fold, seed=2, settings=settings)
    assert {e["phase"] for e in control["epochs"]} == {"pretrain", "train"}
    assert [e["train_loss"] for e in control["epochs"] if e["phase"] == "pretrain"] == \
        [e["train_loss"] for e in smoothed["epochs"]]
    assert control["train"]["s"] == smoothed["train"]["s"] and control["train"]["w"] == control["train"]["initial_w"]


def test_one_name_is_one_condition_and_bad_settings_are_refused_early():
    from minisermeta.settings import preset

    assert list(resolve("L_w")) == ["L_w"]  # not the letters of the name
    with pytest.raises(ValueError, match="unknown pretrain_targets"):
        LearnedLabelsWeights(pretrain_targets="votes")
    with pytest.raises(ValueError, match="Settings.patience must be an integer >= 1"):
        preset("quick", patience=0)


def test_vote_targets_on_a_corpus_without_votes_are_refused_not_trained_as_the_baseline():
    from dataclasses import replace

    from helpers import toy_dataset

    dataset = toy_dataset(per_speaker=8)
    voteless = replace(dataset, votes=np.eye(4, dtype=np.float32)[dataset.gold])  # what a corpus without votes packs
    fold = loso_folds(dataset.speakers)[0]
    with pytest.raises(ValueError, match="vote proportions are its gold label .* is the baseline"):
        train_job(voteless, "soft_target", fold, 0, tiny_settings(max_epochs=1))
    assert train_job(dataset, "soft_target", fold, 0, tiny_settings(max_epochs=1))["epochs"]


def test_recorded_floats_are_rounded_and_print_short():
    import json

    import torch

    from minisermeta.methods import rounded

    values = np.float32([[0.02663, 1 / 3]])
    assert json.dumps(rounded(values)) == json.dumps(rounded(torch.from_numpy(values))) == "[[0.02663, 0.33333]]"
