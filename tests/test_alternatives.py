"""The methods the book compares the paper's with: each is the baseline with one change, behind the same interface."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import tiny_settings, without_timing

from minisermeta import estimate, report
from minisermeta.batched import BatchedTrainer
from minisermeta.folds import loso_folds
from minisermeta.grid import load_jobs, run_grid
from minisermeta.methods import (ALTERNATIVES, CONDITIONS, Batch, CoTeaching, ConfidentLearning,
                                 GeneralizedCrossEntropy, MetaWeightNet)
from minisermeta import held_out
from minisermeta.methods.confident_learning import held_out_groups
from minisermeta.train import make_trainer, train_job


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test its own cache folder, so confident learning's held-out predictions are computed where a test
    expects them to be."""
    monkeypatch.setenv("MINISERMETA_HOME", str(tmp_path / "home"))


def trainer_of(dataset, fold, method, **settings):
    trainer, _ = make_trainer(dataset, method, fold, 0, tiny_settings(**settings))
    return trainer


def first_batch(trainer, size=8):
    from minisermeta.dataset import collate

    batch = trainer.train[:size]
    x, lengths = collate(trainer.data, batch, trainer.device)
    return Batch(x, lengths, torch.arange(size))


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_every_method_trains_records_what_it_trusts_and_repeats_with_its_seed(dataset, fold, name):
    first = train_job(dataset, name, fold, seed=0, settings=tiny_settings())
    again = train_job(dataset, name, fold, seed=0, settings=tiny_settings())
    assert without_timing(first) == without_timing(again)
    train = first["train"]
    assert len(train["trust"]) == len(train["gold"]) and all(np.isfinite(train["trust"]))
    if "flagged" in train:
        assert set(train["flagged"]) <= {0, 1} and len(train["flagged"]) == len(train["gold"])
    assert first["method"]["type"] == type(ALTERNATIVES[name]).__name__
    assert first["setup_seconds"] >= 0 and first["seconds"] >= first["setup_seconds"]


def test_each_method_is_the_baseline_with_one_change():
    baseline = CONDITIONS["blstm_att"]
    for name, method in ALTERNATIVES.items():
        assert (method.targets, method.class_weighted, method.sampling, method.pretrain) == \
               (baseline.targets, baseline.class_weighted, baseline.sampling, baseline.pretrain), name


def test_gce_is_its_formula_and_tends_to_cross_entropy_as_q_shrinks(dataset, fold):
    trainer = trainer_of(dataset, fold, GeneralizedCrossEntropy(q=0.7))
    batch = first_batch(trainer)
    logits = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    gold = torch.as_tensor(dataset.gold[trainer.train[:8]])
    p = logits.softmax(-1)[torch.arange(8), gold]
    w = trainer.method.labels_.weights(batch.rows)
    assert torch.allclose(trainer.method.loss(logits, batch), ((1 - p ** 0.7) / 0.7 / w).mean())
    tiny_q = trainer_of(dataset, fold, GeneralizedCrossEntropy(q=1e-4)).method.loss(logits, batch)
    ce = (F.cross_entropy(logits, gold, reduction="none") / w).mean()
    assert torch.allclose(tiny_q, ce, rtol=1e-3)
    with pytest.raises(ValueError, match="q must be in"):
        GeneralizedCrossEntropy(q=0)


def test_co_teaching_trains_each_network_on_the_others_easiest_utterances(dataset, fold):
    trainer = trainer_of(dataset, fold, CoTeaching(forget_rate=0.5, ramp_epochs=2))
    method = trainer.method
    assert method.forget() == 0  # every utterance at first
    method.epochs_ = 1
    assert method.forget() == 0.25
    method.epochs_ = 5
    assert method.forget() == 0.5  # the ramp ends at the forget rate
    batch = first_batch(trainer)
    logits = torch.randn(8, 4, generator=torch.Generator().manual_seed(1), requires_grad=True)
    before = [p.detach().clone() for p in method.peer_.parameters()]
    torch.manual_seed(3)
    loss = method.loss(logits, batch)
    assert any(not torch.equal(a, b) for a, b in zip(before, method.peer_.parameters()))  # the peer took its step
    kept = np.flatnonzero(method.kept_[:8])
    assert len(kept) == 4  # half the batch forgotten
    assert torch.allclose(loss, method.labels_.loss(logits[kept], batch.rows[kept]))
    # the kept ones are the peer's easiest: recompute the peer's losses with the same dropout draw
    method.peer_.load_state_dict({n: b for n, b in zip(dict(method.peer_.named_parameters()), before)},
                                 strict=False)
    torch.manual_seed(3)
    peer = method.peer_(batch.x, batch.lengths).float()
    gold = torch.as_tensor(dataset.gold[trainer.train[:8]])
    easiest = F.cross_entropy(peer, gold, reduction="none").argsort()[:4]
    assert sorted(easiest.tolist()) == kept.tolist()


def test_co_teaching_keeps_its_peer_with_the_best_network_and_flags_what_it_left_out(dataset, fold):
    result = train_job(dataset, CoTeaching(forget_rate=0.4, ramp_epochs=1), fold, seed=0,
                       settings=tiny_settings(max_epochs=3, patience=3))
    flagged = np.array(result["train"]["flagged"])
    assert flagged.mean() == pytest.approx(0.4 if report.kept_epoch(result) > 1 else 0.0, abs=0.1)
    with pytest.raises(ValueError, match="forget_rate"):
        CoTeaching(forget_rate=1.0)


def test_meta_weight_net_learns_its_weights_from_the_held_out_speaker(dataset, fold):
    trainer = trainer_of(dataset, fold, MetaWeightNet())
    method = trainer.method
    before = [p.detach().clone() for p in method.net_.parameters()]
    model_before = [p.detach().clone() for p in trainer.model.parameters()]
    batch = first_batch(trainer)
    logits = trainer.model(batch.x, batch.lengths)
    loss = method.loss(logits, batch)
    assert any(not torch.equal(a, b) for a, b in zip(before, method.net_.parameters()))  # V took a step
    assert all(torch.equal(a, b) for a, b in zip(model_before, trainer.model.parameters()))  # the look-ahead is virtual
    ce = F.cross_entropy(logits, torch.as_tensor(dataset.gold[trainer.train[:8]]), reduction="none")
    v = method.net_(ce.detach())
    w = method.labels_.weights(batch.rows)
    assert torch.allclose(loss, (v * ce / w).sum() / v.sum())
    assert loss.requires_grad and ((v > 0) & (v < 1)).all()


def test_meta_weight_nets_held_out_batch_is_drawn_from_the_validation_speaker_only(dataset, fold, monkeypatch):
    from minisermeta.methods import meta_weight_net

    trainer = trainer_of(dataset, fold, MetaWeightNet(), batch_size=4)
    drawn = []
    real = meta_weight_net.collate

    def collate(data, rows, device):
        drawn.append(np.asarray(rows))
        return real(data, rows, device)

    monkeypatch.setattr(meta_weight_net, "collate", collate)
    batch = first_batch(trainer)
    for _ in range(3):
        trainer.method.loss(trainer.model(batch.x, batch.lengths), batch)
    assert len(drawn) == 3 and all(len(rows) == 4 and len(set(rows.tolist())) == 4 for rows in drawn)
    held_out = np.concatenate(drawn)
    assert set(held_out.tolist()) <= set(trainer.valid.tolist())  # the fold's validation speaker...
    assert set(dataset.speakers[held_out]) == {fold.valid}  # ...and never a training or the test speaker
    assert len({tuple(rows.tolist()) for rows in drawn}) > 1  # a new draw at each meta step


def test_meta_weight_nets_look_ahead_is_the_step_the_networks_adam_takes(dataset, fold):
    trainer = trainer_of(dataset, fold, MetaWeightNet())
    method, optimizer = trainer.method, trainer.optimizer
    params = dict(trainer.model.named_parameters())
    grads = [torch.randn_like(p, requires_grad=True) for p in params.values()]
    lr = optimizer.param_groups[0]["lr"]
    ahead = method._look_ahead(params, grads)
    for (name, p), g in zip(params.items(), grads):  # before any step: Adam moves each parameter by about lr
        torch.testing.assert_close(ahead[name], p - lr * g / (g.abs() + 1e-8))
    (sum(t.sum() for t in ahead.values())).backward()  # differentiable in the gradients it was given
    assert all(g.grad is not None for g in grads)
    for p, g in zip(params.values(), grads):  # after a real step, its running second moment scales the step
        p.grad = g.detach().clone()
    optimizer.step()
    second = optimizer.state[params["fc.weight"]]["exp_avg_sq"]
    g = grads[list(params).index("fc.weight")].detach()
    expected = params["fc.weight"] - lr * g / ((0.999 * second + 0.001 * g ** 2) / (1 - 0.999 ** 2)).sqrt().add(1e-8)
    torch.testing.assert_close(method._look_ahead(params, grads)["fc.weight"], expected)


def test_a_method_that_differentiates_through_its_network_is_never_batched(dataset, tmp_path):
    folds = loso_folds(dataset.speakers)
    trainers = [trainer_of(dataset, f, m) for f, m in ((folds[0], CONDITIONS["blstm_att"]), (folds[1], MetaWeightNet()))]
    with pytest.raises(ValueError, match="MetaWeightNet differentiates through its own network"):
        BatchedTrainer(trainers)
    run_grid(dataset, tmp_path, {"mwn": MetaWeightNet(), "gce": GeneralizedCrossEntropy()}, folds[:2], [0],
             tiny_settings(max_epochs=1), progress=False, batch=4)
    assert sorted((j["condition"], j["fold"]) for j in load_jobs(tmp_path)) == \
           sorted((c, f.name) for c in ("mwn", "gce") for f in folds[:2])


def test_held_out_groups_keep_sessions_together_and_deal_them_round_robin():
    speakers = np.array(["Ses01F", "Ses01M", "Ses02F", "Ses03M", "Ses04F", "Ses05M", "Ses05F"])
    assert held_out_groups(speakers, 4).tolist() == [0, 0, 1, 2, 3, 0, 0]
    assert held_out_groups(speakers, 2).tolist() == [0, 0, 1, 0, 1, 0, 0]


def test_confident_learning_predicts_every_utterance_from_a_network_that_never_saw_it(dataset, fold, monkeypatch):
    from minisermeta import train

    trained_on = []
    real = train.Trainer.fit

    def fit(self):
        trained_on.append(set(self.train.tolist()))
        return real(self)

    monkeypatch.setattr(train.Trainer, "fit", fit)
    trainer = trainer_of(dataset, fold, ConfidentLearning(folds=2))
    groups = held_out_groups(dataset.speakers[trainer.train], 2)
    assert len(trained_on) == 2
    for group, seen in zip(sorted(set(groups)), trained_on):
        assert seen == set(trainer.train[groups != group].tolist())
    probs = trainer.method.probs_
    assert probs.shape == (len(trainer.train), 4) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_confident_learning_drops_or_relabels_what_cleanlab_flags(dataset, fold):
    drop = trainer_of(dataset, fold, ConfidentLearning(action="drop", folds=2))
    relabel = trainer_of(dataset, fold, ConfidentLearning(action="relabel", folds=2))
    flagged = drop.method.flagged_
    assert flagged.any() and np.array_equal(flagged, relabel.method.flagged_)  # the same held-out networks
    assert set(drop.method.epoch_utterances(None)) == set(drop.train[~flagged])
    w = drop.method.labels_.weights().detach().numpy()
    assert w.mean() == pytest.approx(1) and w[~flagged].mean() == pytest.approx(1)
    targets = relabel.method.labels_.targets().detach().numpy().argmax(axis=1)
    gold = dataset.gold[relabel.train]
    assert np.array_equal(targets[~flagged], gold[~flagged])
    assert np.array_equal(targets[flagged], relabel.method.probs_[flagged].argmax(axis=1))
    assert (targets[flagged] != gold[flagged]).all()
    with pytest.raises(ValueError, match="choose drop or relabel"):
        ConfidentLearning(action="ignore")
    with pytest.raises(ValueError, match="leave class_weighted and sampling at their defaults"):
        ConfidentLearning(sampling="over")


def test_confident_learning_reads_held_out_predictions_its_other_action_computed_as_if_it_had_computed_them(
        dataset, fold, monkeypatch):
    from minisermeta import train

    settings = tiny_settings()
    relabel_alone = train_job(dataset, "cl_relabel", fold, seed=1, settings=settings)
    assert not relabel_alone["setup_cached"]
    for entry in held_out.cache().iterdir():
        entry.unlink()
    drop = train_job(dataset, "cl_drop", fold, seed=1, settings=settings)  # computes them
    fits, real = [], train.Trainer.fit
    monkeypatch.setattr(train.Trainer, "fit", lambda self: fits.append(1) or real(self))
    relabel = train_job(dataset, "cl_relabel", fold, seed=1, settings=settings)
    assert relabel["setup_cached"] and not drop["setup_cached"] and len(fits) == 1  # the job's network alone
    # the same numbers, down to the network's per-epoch losses (its dropout draws follow the cached ones)
    assert without_timing(relabel) == without_timing(relabel_alone)
    assert relabel["setup_seconds"] == pytest.approx(drop["setup_seconds"], rel=0.5)  # what computing them cost
    # another seed, settings or fold is another key: computed, not read
    other = train_job(dataset, "cl_relabel", fold, seed=2, settings=settings)
    assert not other["setup_cached"] and len(list(held_out.cache().iterdir())) == 2


def test_a_damaged_held_out_cache_entry_is_computed_again_with_a_warning(dataset, fold):
    settings = tiny_settings()
    first = train_job(dataset, "cl_drop", fold, seed=0, settings=settings)
    (entry,) = held_out.cache().iterdir()
    entry.write_bytes(entry.read_bytes()[:100])
    with pytest.warns(UserWarning, match=f"{entry.name} are unreadable"):
        again = train_job(dataset, "cl_drop", fold, seed=0, settings=settings)
    assert not again["setup_cached"] and without_timing(again) == without_timing(first)
    assert train_job(dataset, "cl_drop", fold, seed=0, settings=settings)["setup_cached"]  # rewritten whole


def test_confident_learning_needs_two_sessions_to_hold_out(dataset, fold):
    trainer = trainer_of(dataset, fold, CONDITIONS["blstm_att"])
    trainer.train = trainer.train[np.isin(dataset.speakers[trainer.train], ["Ses03F", "Ses03M"])]  # one session
    with pytest.raises(ValueError, match="two sessions at least; this fold's are all of Ses03"):
        ConfidentLearning().out_of_fold_probs(trainer)


def test_estimates_read_each_methods_cost_and_train_nothing(dataset, fold, monkeypatch):
    monkeypatch.setattr(ConfidentLearning, "setup", lambda *args: pytest.fail("the estimate ran a setup"))
    settings = tiny_settings(patience=2, max_epochs=40)
    base = estimate.job_seconds(dataset, CONDITIONS["blstm_att"], fold, settings, 1.0)
    assert estimate.job_seconds(dataset, ALTERNATIVES["cl_drop"], fold, settings, 1.0) == pytest.approx(4 * base)
    assert estimate.job_seconds(dataset, ALTERNATIVES["co_teaching"], fold, settings, 1.0) == pytest.approx(2 * base)
