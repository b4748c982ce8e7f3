"""Many jobs of one preset trained at once: the networks of K :class:`~minisermeta.train.Trainer` s stacked on a job axis.

One small BLSTM (batch 32, 128 units) leaves a GPU waiting on its sequential
time steps. Stacking K jobs' parameters on a leading axis turns each step's
matrix products into batched ones (``torch.bmm``), so K networks advance for
about the price of one. The inference passes can run stacked as well
(``stacked_inference``): each epoch's validation pass and the pass the l/w
epoch reads (``Method.end_epoch_inputs``). Everything else stays the single-job
trainer's, per job: its data order and resampling (its own numpy generator),
its method (loss, l/w update, state), early stopping and the restored best
network. A job that stops leaves the batch (it is masked: its
parameters and Adam state no longer change) and its result can be written at
once. ``train.Trainer`` stays the readable reference; the test suite checks
that with dropout off every job's per-epoch losses equal the single-job
trainer's.

The LSTM is written out on batched matrix products (``_lstm``), gate for gate
as ``torch.nn.LSTM`` computes it; Adam is written out too (``StackedAdam``),
because each job takes its own steps (a masked job takes none).
"""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .dataset import Dataset, length_batches
from .methods import Batch
from .settings import Settings
from .train import Trainer, cpu_threads, job_result, make_trainer, named

# The parameters of BLSTMAttention, in the order the stacked forward pass reads them.
NAMES = ("fc.weight", "fc.bias",
         "lstm_forward.weight_ih_l0", "lstm_forward.weight_hh_l0", "lstm_forward.bias_ih_l0", "lstm_forward.bias_hh_l0",
         "lstm_backward.weight_ih_l0", "lstm_backward.weight_hh_l0", "lstm_backward.bias_ih_l0",
         "lstm_backward.bias_hh_l0", "u", "out.weight", "out.bias")


def _dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """``model.Dropout``: inverted dropout with the mask drawn as ``uniform >= p``."""
    if not training or p == 0:
        return x
    return x * torch.rand_like(x).ge_(p).mul_(1 / (1 - p))


def lstm_cell(step: Tensor, h: Tensor, c: Tensor, recurrent: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One time step of K jobs' LSTMs: the step's input part (K, B, 4H), state (K, B, H), ``w_hh`` transposed
    (K, H, 4H); gates in ``nn.LSTM``'s order (input, forget, cell, output). Returns the new h and c."""
    gates = step + (torch.bmm(h, recurrent) + b_hh[:, None, :])
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, cell=lstm_cell) -> Tensor:
    """One-directional LSTM over (K, B, T, I) inputs with per-job weights; outputs (K, B, T, H).

    The input part of every step at once, then the recurrence: ``cell`` per
    step, one batched product each.
    """
    K, B, _, _ = x.shape
    H = w_hh.shape[-1]
    inputs = torch.einsum("kbti,kgi->kbtg", x, w_ih) + b_ih[:, None, None, :]
    h = x.new_zeros(K, B, H)
    c = x.new_zeros(K, B, H)
    recurrent = w_hh.transpose(1, 2)  # (K, H, 4H)
    outputs = []
    for step in inputs.unbind(dim=2):  # unbind, not inputs[:, :, t]: one gradient for all steps, not T full-size ones
        h, c = cell(step, h, c, recurrent, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=2)


def _take(x: Tensor, index: Tensor) -> Tensor:
    """x[k, b, index[k, b, t]] for (K, B, T, D) and (K, B, T)."""
    return x.gather(2, index.unsqueeze(-1).expand(-1, -1, -1, x.shape[-1]))


def stacked_forward(params: dict[str, Tensor], x: Tensor, lengths: Tensor, dropout: float, training: bool,
                    cell=lstm_cell) -> Tensor:
    """``BLSTMAttention.forward`` for K jobs at once: (K, B, T, F) frames, (K, B) lengths -> (K, B, C) logits.

    ``cell``: :func:`lstm_cell` or a compiled one (``BatchedTrainer(compiled=True)``)."""
    T = x.shape[2]
    h = torch.einsum("kbtf,khf->kbth", x, params["fc.weight"]) + params["fc.bias"][:, None, None, :]
    h = _dropout(F.relu(h), dropout, training)
    steps = torch.arange(T, device=x.device)
    valid = steps < lengths.unsqueeze(-1)  # (K, B, T)
    reverse = torch.where(valid, lengths.unsqueeze(-1) - 1 - steps, steps)  # reverse within each length
    forward = _lstm(h, *(params[f"lstm_forward.{n}"] for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                                                 "bias_hh_l0")), cell=cell)
    backward = _lstm(_take(h, reverse), *(params[f"lstm_backward.{n}"] for n in ("weight_ih_l0", "weight_hh_l0",
                                                                                   "bias_ih_l0", "bias_hh_l0")),
                     cell=cell)
    h = _dropout(torch.cat([forward, _take(backward, reverse)], dim=-1), dropout, training)
    scores = torch.einsum("kbtd,kd->kbt", h, params["u"]).masked_fill(~valid, float("-inf"))
    alpha = scores.softmax(dim=-1)  # eq. (1)
    pooled = torch.einsum("kbt,kbtd->kbd", alpha, h)  # eq. (2)
    pooled = _dropout(pooled, dropout, training)
    return torch.einsum("kbd,kcd->kbc", pooled, params["out.weight"]) + params["out.bias"][:, None, :]


class StackedAdam:
    """``torch.optim.Adam`` (default betas and eps) for stacked parameters, each job with its own step count."""

    def __init__(self, params: dict[str, Tensor], lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = {n: torch.zeros_like(p) for n, p in params.items()}
        self.v = {n: torch.zeros_like(p) for n, p in params.items()}
        self.steps = torch.zeros(next(iter(params.values())).shape[0], dtype=torch.float64)

    @torch.no_grad()
    def step(self, active: Tensor) -> None:
        """One step for the jobs where ``active`` (K,) is True; the others keep parameters and state.

        The same arithmetic as ``torch.optim.Adam``: ``lerp`` for the first
        moment, bias corrections in float64, then ``param -= step_size * m / denom``.
        """
        b1, b2 = self.betas
        self.steps += active.cpu().double()
        steps = self.steps.clamp(min=1)  # a job that never stepped: any value, it is masked
        step_size = (self.lr / (1 - b1 ** steps)).to(active.device)
        correction2 = (1 - b2 ** steps).sqrt().to(active.device)
        for name, p in self.params.items():
            shape = (-1,) + (1,) * (p.dim() - 1)
            on = active.view(shape)
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            self.m[name] = torch.where(on, self.m[name].lerp(grad, 1 - b1), self.m[name])
            self.v[name] = torch.where(on, self.v[name].mul(b2).addcmul(grad, grad, value=1 - b2), self.v[name])
            denom = (self.v[name].sqrt() / correction2.to(p.dtype).view(shape)).add_(self.eps)
            update = step_size.to(p.dtype).view(shape) * (self.m[name] / denom)
            p.sub_(torch.where(on, update, torch.zeros_like(update)))


@contextmanager
def _serving(trainer: Trainer, indices: np.ndarray | None, computed: Tensor | None):
    """Within it, ``trainer.log_probs(indices)`` (eval mode, the job's own network) returns ``computed``, which a
    batched pass computed beside other jobs' ones; any other call (other utterances, dropout, another network)
    is the trainer's own pass. ``indices`` None: nothing is served."""
    if indices is None:
        yield
        return
    own = trainer.log_probs

    def log_probs(asked, dropout=False, model=None):
        return computed if asked is indices and not dropout and model is None else own(asked, dropout, model)

    trainer.log_probs = log_probs  # the instance's attribute hides the method until the l/w epoch is over
    try:
        yield
    finally:
        del trainer.log_probs


class _Job:
    """One trainer's place in the batched loop: its phases, epoch, early-stopping record."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.phases = list(trainer.method.phases)
        self.epoch, self.best_loss, self.best_state, self.waited = 0, float("inf"), None, 0
        self.done = False
        trainer.method.start_phase(self.phases[0])


class BatchedTrainer:
    """Train K trainers (same settings, same dataset, same device) as one stacked network; see the module docstring.

    ``on_done(trainer)`` is called as soon as a job has stopped and its best
    network is restored, so a grid can write that job's result at once.
    """

    def __init__(self, trainers: list[Trainer], on_done=None, stacked_inference: bool = False,
                 compiled: bool = False):
        if not trainers:
            raise ValueError("no trainer to batch")
        settings = trainers[0].settings
        if any(t.settings != settings for t in trainers):
            raise ValueError("batched jobs must share their settings (one preset)")
        alone = sorted({type(t.method).__name__ for t in trainers if not t.method.batchable})
        if alone:
            raise ValueError(f"{', '.join(alone)} differentiates through its own network and cannot be batched; "
                             "train it with train.train_job (run_grid does)")
        self.trainers, self.settings, self.on_done = trainers, settings, on_done
        # The inference passes (validation, the l/w epoch's) stacked too: on a CPU they run about 3x fewer utterances
        # per core than each job's own torch.nn.LSTM pass (benchmarks/batched_speed.py --pass infer), so they are
        # asked for, not the default; whether they pay on a GPU is measured by the same script there.
        self.stacked_inference = stacked_inference
        # torch.compile fuses the LSTM cell's gate arithmetic (about ten kernels a step) into one, for what is left
        # of a GPU's time after the batched product: a launch-bound recurrence. On a CPU it does not pay (the same
        # script, --compile) and costs a compilation per process, so it is asked for too.
        self.cell = torch.compile(lstm_cell) if compiled else lstm_cell
        self.device = trainers[0].device
        self.lengths = trainers[0].data.lengths  # the same utterances; each fold normalises its own frames
        self.params = {name: torch.stack([dict(t.model.named_parameters())[name].detach() for t in trainers])
                       .requires_grad_(True) for name in NAMES}
        self.optimizer = StackedAdam(self.params, settings.lr)
        self.jobs = [_Job(t) for t in trainers]

    def _to_model(self, k: int) -> None:
        """Copy job k's stacked parameters into its trainer's network (for validation, the l/w epoch, results)."""
        with torch.no_grad():
            for name, p in self.trainers[k].model.named_parameters():
                p.copy_(self.params[name][k])

    def _from_model(self, k: int) -> None:
        with torch.no_grad():
            for name, p in self.trainers[k].model.named_parameters():
                self.params[name][k].copy_(p)

    def _inputs(self, batches: dict[int, np.ndarray]) -> tuple[list[int], Tensor, Tensor, dict[str, Tensor]]:
        """The jobs of ``batches`` ({job: dataset indices}), their frames (J, B, T, dims) and lengths (J, B) padded
        side by side, and their parameters (the other jobs' left out)."""
        jobs = list(batches)
        B, T = max(len(b) for b in batches.values()), max(int(self.lengths[b].max()) for b in batches.values())
        x = np.zeros((len(jobs), B, T, self.trainers[0].data.frames.shape[1]), dtype=np.float32)
        lengths = np.ones((len(jobs), B), dtype=np.int64)  # rows without an utterance: a zero frame, no loss
        for j, k in enumerate(jobs):
            data, batch = self.trainers[k].data, batches[k]
            for row, (start, length) in enumerate(zip(data.offsets[batch], data.lengths[batch])):
                x[j, row, :length] = data.frames[start:start + length]
            lengths[j, :len(batch)] = data.lengths[batch]
        index = torch.as_tensor(jobs, device=self.device)
        params = {name: p.index_select(0, index) for name, p in self.params.items()}
        return jobs, torch.from_numpy(x).to(self.device), torch.from_numpy(lengths).to(self.device), params

    def network_epoch(self, running: list[int]) -> dict[int, float]:
        """One network epoch of every running job, their batches side by side; mean loss per job."""
        plans = {}
        for k in running:  # each job draws its epoch exactly as the single-job trainer does
            trainer = self.trainers[k]
            epoch = trainer.method.epoch_utterances(trainer.rng)
            plans[k] = (epoch, length_batches(epoch, self.lengths, self.settings.batch_size, trainer.rng))
        totals = dict.fromkeys(running, 0.0)
        for step in range(max(len(batches) for _, batches in plans.values())):
            batches = {k: b[step] for k, (_, b) in plans.items() if step < len(b)}  # jobs with a batch left
            jobs, x, lengths, params = self._inputs(batches)
            with self.trainers[0].autocast:
                logits = stacked_forward(params, x, lengths, self.settings.model.dropout, training=True,
                                         cell=self.cell)
            losses = []
            for j, k in enumerate(jobs):
                trainer, n = self.trainers[k], len(batches[k])
                rows = torch.as_tensor([trainer.position[i] for i in batches[k]], device=self.device)
                losses.append(trainer.method.loss(logits[j, :n].float(), Batch(x[j, :n], lengths[j, :n], rows)))
            for p in self.params.values():
                p.grad = None
            torch.stack(losses).sum().backward()  # job k's loss reaches only its own slice
            active = torch.zeros(len(self.trainers), dtype=torch.bool, device=self.device)
            active[torch.as_tensor(jobs, device=self.device)] = True
            self.optimizer.step(active)
            for k, loss in zip(jobs, losses):
                totals[k] += loss.item() * len(batches[k])
        return {k: totals[k] / len(plans[k][0]) for k in running}

    @torch.no_grad()
    def log_probs(self, indices: dict[int, np.ndarray]) -> dict[int, Tensor]:
        """log y_n of each job's ``indices[k]``, in their order: ``Trainer.log_probs`` of K jobs in one pass each batch.

        Eval mode (no dropout), batched by length as the single-job pass is,
        each job's batches beside the other jobs' ones.
        """
        n_classes = self.trainers[0].data.n_classes
        out = {k: torch.empty(len(chosen), n_classes, device=self.device) for k, chosen in indices.items()}
        plans = {k: length_batches(chosen, self.lengths, 4 * self.settings.batch_size, None)
                 for k, chosen in indices.items()}
        order = {k: {utterance: row for row, utterance in enumerate(chosen)} for k, chosen in indices.items()}
        for step in range(max((len(batches) for batches in plans.values()), default=0)):
            batches = {k: b[step] for k, b in plans.items() if step < len(b)}
            jobs, x, lengths, params = self._inputs(batches)
            with self.trainers[0].autocast:
                logits = stacked_forward(params, x, lengths, 0.0, training=False, cell=self.cell)
            for j, k in enumerate(jobs):
                rows = torch.as_tensor([order[k][i] for i in batches[k]], device=self.device)
                out[k][rows] = logits[j, :len(batches[k])].float().log_softmax(dim=-1)
        return out

    def fit(self) -> None:
        """Algorithm 1 for every job until each has stopped (every phase of its method); best networks restored.

        With ``stacked_inference``, the validation passes of the running jobs
        and the inference passes their l/w epochs read
        (``Method.end_epoch_inputs``) run stacked too (:meth:`log_probs`);
        the rest of each job's epoch end is its own.
        """
        while not all(job.done for job in self.jobs):
            running = [k for k, job in enumerate(self.jobs) if not job.done]
            start = time.perf_counter()
            train_losses = self.network_epoch(running)
            stacked = running if self.stacked_inference else []
            valid = self.log_probs({k: self.trainers[k].valid for k in stacked})
            network_seconds = (time.perf_counter() - start) / len(running)  # the epoch's share of each job
            start = time.perf_counter()
            wanted = {k: self.trainers[k].method.end_epoch_inputs(self.jobs[k].phases[0]) for k in stacked}
            wanted = {k: chosen for k, chosen in wanted.items() if chosen is not None}
            inferred = self.log_probs(wanted)
            inference_seconds = (time.perf_counter() - start) / max(1, len(wanted))
            for k in running:
                job, trainer = self.jobs[k], self.trainers[k]
                self._to_model(k)
                job.epoch += 1
                phase = job.phases[0]
                start = time.perf_counter()
                valid_loss = trainer.validation_loss(valid.get(k))  # its own pass where none was stacked
                validation_seconds = time.perf_counter() - start
                if not np.isfinite(valid_loss):
                    speaker = trainer.data.speakers[trainer.valid[0]]
                    raise FloatingPointError(f"validation loss is {valid_loss} after epoch {job.epoch} ({phase}) of the "
                                             f"batched {type(trainer.method).__name__} job validated on {speaker}; "
                                             "lower the learning rate (Settings.lr)")
                start = time.perf_counter()
                with _serving(trainer, wanted.get(k), inferred.get(k)):
                    trainer.method.end_epoch(phase)
                trainer.history.append(dict(phase=phase, epoch=job.epoch, train_loss=train_losses[k],
                                            valid_loss=valid_loss,
                                            network_seconds=network_seconds + validation_seconds,
                                            lw_seconds=time.perf_counter() - start
                                            + (inference_seconds if k in wanted else 0.0)))
                if valid_loss < job.best_loss:
                    job.best_loss, job.waited = valid_loss, 0
                    job.best_state = copy.deepcopy((trainer.model.state_dict(), trainer.method.state_dict()))
                else:
                    job.waited += 1
                if job.waited >= self.settings.patience or job.epoch >= self.settings.max_epochs:
                    self._end_phase(k)

    def _end_phase(self, k: int) -> None:
        job, trainer = self.jobs[k], self.trainers[k]
        trainer.model.load_state_dict(job.best_state[0])
        trainer.method.load_state_dict(job.best_state[1])
        self._from_model(k)
        job.phases.pop(0)
        if job.phases:  # the next phase starts from the best network, its patience counted afresh
            job.epoch, job.best_loss, job.best_state, job.waited = 0, float("inf"), None, 0
            trainer.method.start_phase(job.phases[0])
        else:
            job.done = True
            if self.on_done is not None:
                self.on_done(trainer)


def train_batched(dataset: Dataset, jobs, settings: Settings, on_result=None, threads: int | None = None,
                  stacked_inference: bool = False, compiled: bool = False) -> list[dict]:
    """Train ``jobs``, each (name, method, fold, seed) as a grid holds them, as one batch.

    Each job is set up exactly as ``train.train_job`` sets it up (seeded, its
    fold normalised); the results are the same JSON-ready dicts, in the order
    of ``jobs``, and ``on_result(index, result)`` gets each as soon as its job
    stops. ``seconds`` is the batch's wall time until the job stopped.
    ``stacked_inference``, ``compiled``: see :class:`BatchedTrainer`.
    """
    specs = [(*named(method, name), fold, seed) for name, method, fold, seed in jobs]
    results: dict[int, dict] = {}
    with cpu_threads(threads):
        made = [make_trainer(dataset, method, fold, seed, settings) for _, method, fold, seed in specs]
        index = {id(trainer): k for k, (trainer, _) in enumerate(made)}
        start = time.perf_counter()

        def done(trainer: Trainer) -> None:
            k = index[id(trainer)]
            name, _, fold, seed = specs[k]
            results[k] = job_result(trainer, made[k][1], name, fold, seed, time.perf_counter() - start,
                                    batch=len(made))
            if on_result is not None:
                on_result(k, results[k])

        BatchedTrainer([trainer for trainer, _ in made], on_done=done, stacked_inference=stacked_inference,
                       compiled=compiled).fit()
    return [results[k] for k in range(len(specs))]
