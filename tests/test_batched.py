"""The batched trainer trains K jobs as the single-job trainer trains each (the reference)."""

import numpy as np
import pytest
import torch
from helpers import tiny_settings

from minisermeta.batched import StackedAdam, stacked_forward, train_batched
from minisermeta.folds import loso_folds
from minisermeta.methods import CONDITIONS
from minisermeta.model import BLSTMAttention, ModelConfig
from minisermeta.train import train_job

JOBS = [("blstm_att", 0, 0), ("L_w", 1, 1), ("oversampling", 2, 2), ("L_w_pretrained", 3, 0)]


@pytest.mark.parametrize("stacked_inference", [False, True])
def test_k_jobs_batched_have_the_losses_of_k_single_jobs(dataset, stacked_inference):
    """K = 4 jobs of four conditions, folds and seeds; dropout off: the same per-epoch losses, predictions, l, w,
    with each job's own inference passes or with stacked ones."""
    folds = loso_folds(dataset.speakers)
    settings = tiny_settings(max_epochs=4, patience=2, model=ModelConfig(fc_units=16, lstm_units=8, dropout=0.0))
    jobs = [(name, CONDITIONS[name], folds[f], seed) for name, f, seed in JOBS]
    finished = []
    batched = train_batched(dataset, jobs, settings, on_result=lambda k, r: finished.append(k), threads=1,
                            stacked_inference=stacked_inference)
    assert sorted(finished) == list(range(len(JOBS)))
    for (name, method, fold, seed), together in zip(jobs, batched):
        alone = train_job(dataset, name, fold, seed=seed, settings=settings, threads=1)
        assert [(e["phase"], e["epoch"]) for e in together["epochs"]] == [(e["phase"], e["epoch"]) for e in alone["epochs"]]
        for key in ("train_loss", "valid_loss"):
            np.testing.assert_allclose([e[key] for e in together["epochs"]], [e[key] for e in alone["epochs"]],
                                       rtol=1e-5, err_msg=f"{name} {key}")
        np.testing.assert_allclose(together["test"]["probs"], alone["test"]["probs"], atol=1e-4)
        np.testing.assert_allclose(together["train"]["s"], alone["train"]["s"], atol=1e-4)
        np.testing.assert_allclose(together["train"]["w"], alone["train"]["w"], atol=1e-4)
        assert together["condition"] == name and together["method"] == alone["method"]
        assert (together["batch"], alone["batch"]) == (len(JOBS), 1)  # recorded: a batch sums in its own order


def test_the_stacked_network_is_k_networks():
    config = ModelConfig(n_features=5, fc_units=12, lstm_units=6, dropout=0.0)
    models = []
    for seed in range(3):
        torch.manual_seed(seed)
        models.append(BLSTMAttention(config).eval())
    params = {n: torch.stack([dict(m.named_parameters())[n] for m in models]) for n, _ in models[0].named_parameters()}
    x = torch.randn(3, 4, 9, 5)
    lengths = torch.tensor([[9, 3, 5, 1], [2, 9, 9, 4], [7, 7, 1, 8]])
    x = x * (torch.arange(9) < lengths.unsqueeze(-1)).unsqueeze(-1)  # zero padding, as collate leaves it
    together = stacked_forward(params, x, lengths, dropout=0.0, training=False)
    for k, model in enumerate(models):
        torch.testing.assert_close(together[k], model(x[k], lengths[k]), rtol=1e-5, atol=1e-5)


def test_stacked_adam_steps_like_torch_adam_and_skips_masked_jobs():
    torch.manual_seed(0)
    weights = torch.randn(2, 3, 4)
    stacked = {"w": weights.clone().requires_grad_(True)}
    optimizer = StackedAdam(stacked, lr=0.01)
    single = weights[0].clone().requires_grad_(True)
    reference = torch.optim.Adam([single], lr=0.01)
    for step in range(5):
        grad = torch.randn(3, 4)
        stacked["w"].grad = torch.stack([grad, grad])
        optimizer.step(torch.tensor([True, step % 2 == 0]))
        single.grad = grad.clone()
        reference.step()
    torch.testing.assert_close(stacked["w"][0], single, rtol=1e-6, atol=1e-7)
    assert optimizer.steps.tolist() == [5, 3]


def test_jobs_of_other_presets_are_not_batched(dataset):
    folds = loso_folds(dataset.speakers)
    from minisermeta.batched import BatchedTrainer
    from minisermeta.train import make_trainer

    a, _ = make_trainer(dataset, CONDITIONS["blstm_att"], folds[0], 0, tiny_settings())
    b, _ = make_trainer(dataset, CONDITIONS["blstm_att"], folds[1], 0, tiny_settings(lr=0.01))
    with pytest.raises(ValueError, match="share their settings"):
        BatchedTrainer([a, b])


def test_a_grid_in_batches_writes_each_job_and_resumes(dataset, tmp_path):
    from minisermeta.grid import load_jobs, run_grid

    folds = loso_folds(dataset.speakers)[:3]
    settings = tiny_settings(max_epochs=2)
    ran = run_grid(dataset, tmp_path, ["blstm_att", "L_w"], folds, [0], settings, n_jobs=1, progress=False, batch=4)
    assert len(ran) == 6 and len(load_jobs(tmp_path)) == 6 and not list(tmp_path.rglob("*.lock"))
    assert run_grid(dataset, tmp_path, ["blstm_att", "L_w"], folds, [0], settings, progress=False, batch=4) == []
    with pytest.raises(ValueError, match="batch must be at least 1"):
        run_grid(dataset, tmp_path, ["blstm_att"], folds, [0], settings, progress=False, batch=0)


def test_validation_and_the_lw_epoch_infer_for_all_jobs_at_once(dataset, monkeypatch):
    """Inside the batched loop no job runs its own inference pass: validation and the l/w epoch read batched ones."""
    from minisermeta.batched import BatchedTrainer
    from minisermeta.train import Trainer, make_trainer

    folds = loso_folds(dataset.speakers)
    settings = tiny_settings(max_epochs=2, model=ModelConfig(fc_units=16, lstm_units=8, dropout=0.0))
    trainers = [make_trainer(dataset, CONDITIONS[name], folds[f], f, settings)[0]
                for name, f in (("L_w", 0), ("blstm_att", 1), ("L_w", 2))]
    own_passes = []
    single = Trainer.log_probs
    monkeypatch.setattr(Trainer, "log_probs", lambda self, *args, **kwargs: own_passes.append(self)
                        or single(self, *args, **kwargs))
    BatchedTrainer(trainers, stacked_inference=True).fit()
    assert own_passes == [] and all(len(t.history) == 2 for t in trainers)


def test_the_compiled_cell_trains_as_the_written_one(dataset):
    """BatchedTrainer(compiled=True) runs a torch.compile'd LSTM cell, forward and backward, to the same losses."""
    from torch._dynamo.utils import counters

    folds = loso_folds(dataset.speakers)
    settings = tiny_settings(max_epochs=2, model=ModelConfig(fc_units=16, lstm_units=8, dropout=0.0))
    jobs = [(name, CONDITIONS[name], folds[f], f) for name, f in (("blstm_att", 0), ("L_w", 1))]
    torch._dynamo.reset()
    counters.clear()
    written = train_batched(dataset, jobs, settings, threads=1, stacked_inference=True)
    assert counters["stats"]["unique_graphs"] == 0
    compiled = train_batched(dataset, jobs, settings, threads=1, stacked_inference=True, compiled=True)
    assert counters["stats"]["unique_graphs"] >= 1  # the cell went through the compiler
    for a, b in zip(written, compiled):
        for key in ("train_loss", "valid_loss"):
            np.testing.assert_allclose([e[key] for e in b["epochs"]], [e[key] for e in a["epochs"]], rtol=1e-5)
        np.testing.assert_allclose(b["test"]["probs"], a["test"]["probs"], atol=1e-5)
