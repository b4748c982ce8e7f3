import numpy as np
import pytest
import torch

from minisermeta.meta import (
    LabelWeights,
    class_frequency_weights,
    closed_form_weights,
    init_label_logits,
)

C = 4
TABLE1_TOTALS = [595, 1084, 1708, 1103]  # happiness, sadness, neutral, anger


def random_gold(n=200, seed=0):
    return np.random.default_rng(seed).integers(0, C, n)


def model_log_probs(gold, confidence, wrong=None):
    """Log-probs of a fake frozen network: ``confidence`` logits on gold (or on ``wrong``)."""
    predicted = torch.as_tensor(gold if wrong is None else wrong)
    logits = torch.nn.functional.one_hot(predicted, C).float() * torch.as_tensor(confidence, dtype=torch.float32)[:, None]
    return logits.log_softmax(-1)


def per_sample_ce(lw, log_probs):
    return -(lw.targets().detach() * log_probs).sum(-1).numpy()


def test_eq4_on_table1_totals():
    gold = np.repeat(np.arange(C), TABLE1_TOTALS)
    w = class_frequency_weights(gold, C)
    per_class = [w[gold == c][0] for c in range(C)]
    np.testing.assert_allclose(per_class, [0.4718, 0.8595, 1.3542, 0.8745], atol=1e-4)
    assert np.round(per_class, 2).tolist() == [0.47, 0.86, 1.35, 0.87]
    assert w.mean() == pytest.approx(1.0)


def test_init_label_logits_scale():
    gold = np.array([2, 0])
    s1 = torch.softmax(torch.as_tensor(init_label_logits(gold, C)), -1)
    assert s1[0, 2].item() == pytest.approx(np.e / (np.e + 3)) == pytest.approx(0.4754, abs=1e-4)
    assert s1.argmax(-1).tolist() == [2, 0]
    s10 = torch.softmax(torch.as_tensor(init_label_logits(gold, C, scale=10.0)), -1)
    assert s10[1, 0].item() > 0.9998


def test_class_weighted_false_starts_all_ones():
    lw = LabelWeights(random_gold(), C, class_weighted=False)
    torch.testing.assert_close(lw.weights(), torch.ones(200))


def test_loss_matches_eq6():
    lw = LabelWeights(random_gold(), C)
    with torch.no_grad():
        lw.logits.normal_()
        lw.log_w.normal_(std=0.5)
        lw.renormalise()
    idx = torch.tensor([5, 17, 3, 199])
    logits = torch.randn(4, C)
    s = torch.softmax(lw.logits[idx], -1)
    w = lw.log_w.exp()[idx]
    manual = -(s * torch.log(torch.softmax(logits, -1))).sum(-1) / w
    torch.testing.assert_close(lw.loss(logits, idx, reduction="none"), manual)
    torch.testing.assert_close(lw.loss(logits, idx), manual.mean())
    torch.testing.assert_close(lw.loss(logits, idx, reduction="sum"), manual.sum())


def test_renormalise_keeps_mean_one_and_positive():
    lw = LabelWeights(random_gold(), C)
    with torch.no_grad():
        lw.log_w.normal_(mean=3.0, std=2.0)
    lw.renormalise()
    w = lw.log_w.exp()
    assert w.mean().item() == pytest.approx(1.0, rel=1e-5)
    assert (w > 0).all()
    torch.testing.assert_close(lw.weights(), w)


def test_weight_update_raises_w_of_high_loss_samples():
    gold = random_gold()
    wrong = np.where(np.arange(200) < 100, (gold + 1) % C, gold)  # first half: network contradicts gold
    log_probs = model_log_probs(gold, np.full(200, 4.0), wrong=wrong)
    lw = LabelWeights(gold, C, learn_labels=False, class_weighted=False)
    ce = per_sample_ce(lw, log_probs)
    assert ce[:100].min() > ce[100:].max()
    lw.update(log_probs, lw.configure_optimizer())
    w = lw.weights().detach()
    assert (w[:100] > 1).all() and (w[100:] < 1).all()  # high loss -> higher w -> less weight
    assert w.mean().item() == pytest.approx(1.0, rel=1e-5)


def test_with_one_hot_targets_a_sure_right_network_has_higher_loss_than_an_unsure_one():
    # softmax of a scale-1 one-hot is only 0.475 on gold: confidence is penalised
    gold = random_gold()
    lw = LabelWeights(gold, C)
    sure, unsure = (per_sample_ce(lw, model_log_probs(gold, np.full(200, k))) for k in (4.0, 0.0))
    assert (sure > unsure).all()
    lw10 = LabelWeights(gold, C, label_scale=10.0)
    sure, unsure = (per_sample_ce(lw10, model_log_probs(gold, np.full(200, k))) for k in (4.0, 0.0))
    assert (sure < unsure).all()


def test_repeated_weight_updates_converge_to_sqrt_ce():
    gold = random_gold()
    log_probs = torch.randn(200, C).mul(2).log_softmax(-1)
    lw = LabelWeights(gold, C, learn_labels=False)
    optimizer = lw.configure_optimizer()
    for _ in range(300):
        lw.update(log_probs, optimizer)
    expected = closed_form_weights(per_sample_ce(lw, log_probs))
    np.testing.assert_allclose(lw.weights().detach().numpy(), expected, rtol=1e-2)


def test_closed_form_weights_minimise_weighted_loss():
    ce = np.random.default_rng(1).uniform(0.1, 3.0, 50)
    w = closed_form_weights(ce)
    assert w.mean() == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    for _ in range(20):  # any other positive w with mean 1 does worse
        other = w * np.exp(rng.normal(scale=0.1, size=50))
        other /= other.mean()
        assert (ce / w).sum() < (ce / other).sum()


def test_learn_labels_false_keeps_labels():
    gold = random_gold()
    lw = LabelWeights(gold, C, learn_labels=False)
    before = lw.logits.detach().clone()
    lw.update(torch.randn(200, C).log_softmax(-1), lw.configure_optimizer())
    assert torch.equal(lw.logits, before)
    assert not torch.allclose(lw.weights(), torch.as_tensor(class_frequency_weights(gold, C), dtype=torch.float32))


def test_learn_weights_false_keeps_weights():
    lw = LabelWeights(random_gold(), C, learn_weights=False)
    before_w, before_l = lw.log_w.detach().clone(), lw.logits.detach().clone()
    lw.update(torch.randn(200, C).log_softmax(-1), lw.configure_optimizer())
    assert torch.equal(lw.log_w, before_w)
    assert not torch.equal(lw.logits, before_l)


def test_nothing_learned_is_a_no_op():
    lw = LabelWeights(random_gold(), C, learn_labels=False, learn_weights=False)
    before = {k: v.clone() for k, v in lw.state_dict().items()}
    lw.update(torch.randn(200, C).log_softmax(-1), lw.configure_optimizer())
    assert all(torch.equal(before[k], v) for k, v in lw.state_dict().items())


def test_label_update_moves_targets_toward_the_network():
    gold = np.zeros(10, dtype=int)
    wrong = np.full(10, 2)  # the frozen network is sure these are class 2
    lw = LabelWeights(gold, C, learn_weights=False)
    log_probs = model_log_probs(gold, np.full(10, 3.0), wrong=wrong)
    optimizer = lw.configure_optimizer()
    s0 = lw.targets().detach()
    lw.update(log_probs, optimizer)
    s1 = lw.targets().detach()
    assert (s1[:, 2] > s0[:, 2]).all() and (s1[:, 0] < s0[:, 0]).all()
    for _ in range(20):
        lw.update(log_probs, optimizer)
    assert (lw.targets().argmax(-1) == 2).all()


def test_update_on_a_subset_touches_only_its_labels():
    lw = LabelWeights(random_gold(), C, learn_weights=False)
    before = lw.logits.detach().clone()
    idx = torch.tensor([3, 50, 7])
    lw.update(torch.randn(3, C).log_softmax(-1), lw.configure_optimizer(), idx=idx)
    changed = (lw.logits != before).any(-1).nonzero().flatten()
    assert changed.tolist() == [3, 7, 50]
