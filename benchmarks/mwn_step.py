"""How much longer Meta-Weight-Net's look-ahead step is as Adam's step than as a plain SGD step at Adam's rate.

Shu et al. look ahead with the step their network takes, plain SGD; ours
trains with Adam, and ``MetaWeightNet._look_ahead`` takes Adam's step
(``methods/meta_weight_net.py``). This script measures why that matters: at
every meta step of a real job it records the length (L2 norm over every
parameter of the network) of Adam's look-ahead step and of the SGD step
``lr * g`` on the same gradient, and prints the ratio's median and range per
network epoch. V's meta-gradient runs through the step, so it shrinks by the
same factor with SGD's. The study's corpus and preset (SynthEmo scale 0.25,
``small``), fold Ses01F, seed 0, one CPU thread.

Run: ``.venv/bin/python benchmarks/mwn_step.py [--epochs 3]``.
"""

import argparse

import numpy as np
import torch

from minisermeta import book, pipeline
from minisermeta.folds import loso_folds
from minisermeta.methods import MetaWeightNet
from minisermeta.settings import preset
from minisermeta.train import cpu_threads, make_trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="network epochs (default 3)")
    args = parser.parse_args()
    dataset = pipeline.prepare(book.corpus(book.study_setup(quick=False)), progress=False)
    fold = loso_folds(dataset.speakers)[0]
    settings = preset("small", max_epochs=args.epochs, patience=args.epochs + 1)
    ratios: list[float] = []
    with cpu_threads(1):
        trainer, _ = make_trainer(dataset, MetaWeightNet(), fold, 0, settings)
        method, lr = trainer.method, trainer.optimizer.param_groups[0]["lr"]
        look_ahead = method._look_ahead

        def measured(params, grads):
            ahead = look_ahead(params, grads)
            with torch.no_grad():
                adam = torch.sqrt(sum(((p - ahead[n]) ** 2).sum() for n, p in params.items()))
                sgd = lr * torch.sqrt(sum((g ** 2).sum() for g in grads))
            ratios.append(float(adam / sgd))
            return ahead

        method._look_ahead = measured
        trainer.fit()
    steps = np.asarray(ratios)
    per_epoch = np.array_split(steps, args.epochs)  # every epoch has the same batches: no early stop before the last
    print(f"SynthEmo scale 0.25, preset small, fold {fold.name}, seed 0, {args.epochs} epochs, "
          f"{len(steps)} meta steps: |Adam step| / |SGD step at Adam's rate|")
    for epoch, part in enumerate(per_epoch, 1):
        print(f"  epoch {epoch}: median {np.median(part):.0f}, range {part.min():.0f} to {part.max():.0f}")


if __name__ == "__main__":
    main()
