import numpy as np
import pytest
import torch
from helpers import tiny_settings, toy_dataset, without_timing

from minisermeta import settings, train
from minisermeta.features import Normaliser
from minisermeta.folds import loso_folds
from minisermeta.methods import CONDITIONS, resample
from minisermeta.train import Trainer, prepare_fold
from minisermeta.train import train_job as run


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_every_condition_runs_and_reports(dataset, fold, condition):
    result = run(dataset, condition, fold, seed=0, settings=tiny_settings())
    train_idx, _, test_idx = fold.split(dataset)
    assert result["condition"] == condition and result["fold"] == fold.test
    assert len(result["test"]["pred"]) == len(test_idx)
    assert np.allclose(np.sum(result["test"]["probs"], axis=1), 1, atol=1e-3)
    s, w = np.array(result["train"]["s"]), np.array(result["train"]["w"])
    assert s.shape == (len(train_idx), 4) and np.allclose(s.sum(1), 1, atol=1e-3)
    assert np.all(w > 0) and abs(w.mean() - 1) < 1e-3  # eq. (8)
    spec = CONDITIONS[condition]
    assert result["method"] == spec.describe()
    initial_w = np.array(result["train"]["initial_w"])
    if not spec.learns_weights:
        np.testing.assert_allclose(w, initial_w, rtol=1e-4)
    else:
        assert not np.allclose(w, initial_w)
    gold = np.array(result["train"]["gold"])
    if spec.targets == "gold":  # exact one-hot targets: gold, but where confident learning relabelled
        relabelled = np.array(result["train"]["flagged"]) == 1 if getattr(spec, "action", "") == "relabel" else False
        np.testing.assert_allclose(s, np.eye(4)[np.where(relabelled, s.argmax(1), gold)], atol=1e-6)
    if spec.targets == "smoothed" and not spec.learns_labels:  # softmax of the scale-1 one-hot logits, unchanged
        np.testing.assert_allclose(s.max(1), np.e / (np.e + 3), atol=1e-4)
    if spec.learns_labels:
        assert not np.allclose(s.max(1), np.e / (np.e + 3), atol=1e-4)
    phases = {e["phase"] for e in result["epochs"]}
    assert phases == ({"pretrain", "train"} if spec.pretrain else {"train"})


def test_class_weights_follow_eq4(dataset, fold):
    result = run(dataset, "blstm_att", fold, seed=0, settings=tiny_settings())
    gold = np.array(result["train"]["gold"])
    counts = np.bincount(gold, minlength=4)[gold]
    np.testing.assert_allclose(result["train"]["initial_w"], counts / counts.mean(), rtol=1e-4)
    uniform = run(dataset, "oversampling", fold, seed=0, settings=tiny_settings())
    np.testing.assert_allclose(uniform["train"]["initial_w"], 1, rtol=1e-5)


def test_same_seed_same_numbers_other_seed_differs(dataset, fold):
    a = run(dataset, "L_w", fold, seed=3, settings=tiny_settings())
    b = run(dataset, "L_w", fold, seed=3, settings=tiny_settings())
    c = run(dataset, "L_w", fold, seed=4, settings=tiny_settings())
    assert without_timing(a) == without_timing(b)
    assert a["test"]["probs"] != c["test"]["probs"]
    # the numbers are the same at the same thread count: each job records its count
    assert a["threads"] == torch.get_num_threads()
    assert run(dataset, "L_w", fold, seed=3, settings=tiny_settings(), threads=1)["threads"] == 1


def test_early_stopping_keeps_the_best_network(dataset, fold):
    settings = tiny_settings(max_epochs=6, patience=1, lr=0.05)
    result = run(dataset, "blstm_att", fold, seed=0, settings=settings)
    losses = [e["valid_loss"] for e in result["epochs"]]
    best = int(np.argmin(losses))
    assert len(losses) == 6 or (len(losses) == best + 2 and losses[-1] >= losses[best])
    # the kept network is the best one: its validation loss is the minimum of the curve
    rng = train.set_seed(0)
    data, trainer_train, valid, _ = prepare_fold(dataset, fold)
    trainer = Trainer(data, CONDITIONS["blstm_att"], trainer_train, valid, settings, rng)
    trainer.fit()
    assert trainer.validation_loss() == pytest.approx(min(e["valid_loss"] for e in trainer.history), rel=1e-5)


def test_normalisation_is_fitted_on_training_speakers_only(dataset, fold, monkeypatch):
    seen = []
    original = Normaliser.fit.__func__
    monkeypatch.setattr(Normaliser, "fit", classmethod(lambda cls, f: seen.append(len(f)) or original(cls, f)))
    run(dataset, "blstm_att", fold, seed=0, settings=tiny_settings(max_epochs=1))
    assert seen == [len(fold.split(dataset)[0])]


def test_resampling_balances_classes():
    rng = np.random.default_rng(0)
    gold = np.array([0] * 10 + [1] * 30 + [2] * 5 + [3] * 20)
    indices = np.arange(len(gold))
    over = resample(indices, gold, "over", rng)
    assert np.all(np.bincount(gold[over]) == 30) and set(indices) <= set(over)
    under = resample(indices, gold, "under", rng)
    assert np.all(np.bincount(gold[under]) == 5) and len(set(under)) == 20
    assert resample(indices, gold, None, rng) is indices


def test_label_weight_epoch_costs_an_inference_pass(dataset, fold, monkeypatch):
    """The l/w epoch runs the network forward once over the training set, without gradients."""
    rng = train.set_seed(0)
    train_idx, valid, _ = fold.split(dataset)
    trainer = Trainer(dataset, CONDITIONS["L_w"], train_idx, valid, tiny_settings(), rng)
    calls = []
    forward = trainer.model.forward
    monkeypatch.setattr(trainer.model, "forward",
                        lambda x, lengths, **k: calls.append((len(x), torch.is_grad_enabled())) or forward(x, lengths, **k))
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.method.end_epoch("train")
    assert sum(n for n, _ in calls) == len(train_idx) and not any(g for _, g in calls)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))


def test_unknown_condition_and_preset():
    with pytest.raises(ValueError, match="unknown condition"):
        run(toy_dataset(per_speaker=4), "nope", loso_folds(["Ses01F", "Ses01M", "Ses02F"])[0])
    with pytest.raises(ValueError, match="unknown preset"):
        settings.preset("huge")
    with pytest.raises(ValueError, match="unknown setting"):
        settings.preset("quick", epochs=3)


def test_preset_follows_quick_mode(monkeypatch):
    monkeypatch.setenv("MINISERMETA_QUICK", "1")
    assert settings.preset() == settings.PRESETS["quick"] and settings.preset_name() == "quick"
    monkeypatch.setenv("MINISERMETA_QUICK", "0")
    monkeypatch.setenv("CI", "true")
    import torch

    for gpu, name in ((True, "paper"), (False, "small")):  # a CPU gets the preset whose grid fits it
        monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
        assert settings.preset() == settings.PRESETS[name] and settings.preset_name() == name
    monkeypatch.delenv("MINISERMETA_QUICK")
    assert settings.preset() == settings.PRESETS["quick"]


def test_a_diverged_network_is_reported(dataset, fold, monkeypatch):
    train_idx, valid, _ = fold.split(dataset)
    trainer = Trainer(dataset, CONDITIONS["blstm_att"], train_idx, valid, tiny_settings(), train.set_seed(0))
    monkeypatch.setattr(trainer, "validation_loss", lambda: float("nan"))
    with pytest.raises(FloatingPointError, match="validation loss is nan after epoch 1"):
        trainer.fit()


def test_a_job_beside_busy_cores_takes_one_thread_and_gives_them_back(monkeypatch):
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 3.0, 2.0))
    assert train.free_cores() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    assert train.free_cores() == 4
    before = torch.get_num_threads()
    with train.cpu_threads(1) as threads:
        assert threads == 1 and torch.get_num_threads() == 1
    with train.cpu_threads() as threads:
        assert threads == before
    assert torch.get_num_threads() == before
