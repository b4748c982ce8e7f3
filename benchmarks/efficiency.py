"""Achieved FLOP rate of a training step against a plain matrix multiply, and where the time goes.

The FLOPs of a step are counted from the shapes (multiply-adds x 2, backward
= 2 x forward): per valid frame the FC layer (F x 512), per direction the
LSTM's input and recurrent products ((512 + 128) x 4 x 128) and the attention
(score and weighted sum); padded frames count as work done but not useful.
The reference is ``torch.mm`` of square float32 matrices in the same process
and thread setting. Then ``torch.profiler`` lists the operators that take the
time of a few training steps.

Run: ``.venv/bin/python benchmarks/efficiency.py [--threads N] [--steps 6]``.
"""

import argparse
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from minisermeta.dataset import length_batches
from minisermeta.folds import Fold
from minisermeta.methods import CONDITIONS
from minisermeta.settings import preset
from minisermeta.train import Trainer, set_seed

from training_speed import synthetic_dataset


def step_flops(frames: int, config) -> float:
    """Forward + backward FLOPs of the network on ``frames`` frames (padding included)."""
    per_frame = config.n_features * config.fc_units  # FC layer
    per_frame += 2 * (config.fc_units + config.lstm_units) * 4 * config.lstm_units  # two LSTM directions
    per_frame += 2 * 2 * config.lstm_units  # attention score and weighted sum
    return 3 * 2 * per_frame * frames


def matmul_rate(size: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--preset", default="paper")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = synthetic_dataset(400)
    train, valid, _ = Fold("Ses01F", "Ses01M").split(data)
    settings = preset(args.preset, device="cpu")
    trainer = Trainer(data, CONDITIONS["blstm_att"], train, valid, settings, set_seed(0))
    batches = length_batches(train, data.lengths, settings.batch_size, np.random.default_rng(0))[:args.steps]
    padded = sum(len(b) * data.lengths[b].max() for b in batches)

    def steps():
        from minisermeta.dataset import collate
        for batch in batches:
            x, lengths = collate(data, batch, trainer.device)
            rows = torch.as_tensor([trainer.position[i] for i in batch])
            loss = trainer.meta.loss(trainer.model(x, lengths), rows)
            trainer.optimizer.zero_grad()
            loss.backward()
            trainer.optimizer.step()

    steps()  # warm-up
    start = time.perf_counter()
    steps()
    seconds = time.perf_counter() - start
    achieved = step_flops(padded, settings.model) / seconds
    reference = matmul_rate()
    print(f"{args.threads} thread(s), preset {args.preset}, {args.steps} steps of {settings.batch_size} utterances")
    print(f"training step: {achieved / 1e9:.1f} GFLOP/s; torch.mm 2048^2: {reference / 1e9:.1f} GFLOP/s; "
          f"ratio {achieved / reference:.0%}")

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
