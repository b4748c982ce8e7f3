"""What each method adds to a job's time, timed alone: the baseline and every comparison method on one fold.

The job files record their seconds, but the study's grid ran two jobs at once
beside other work, so their ratios are rough (``comparison.job_cost``). This
script times each method on its own, one after another on one CPU thread, on
the study's corpus and preset (SynthEmo scale 0.25, ``small``), fold Ses01F,
seed 0, with ``max_epochs`` network epochs and no early stopping: seconds per
network epoch (its validation pass included) and the method's setup
(confident learning's held-out networks, trained with the same ``max_epochs``).
Each method's ``cost`` attribute (what ``estimate`` reads) is printed beside.

Run: ``.venv/bin/python benchmarks/method_cost.py [--epochs 3]``.
"""

import argparse
import time

import pandas as pd

from minisermeta import book, pipeline
from minisermeta.folds import loso_folds
from minisermeta.methods import ALTERNATIVES, CONDITIONS
from minisermeta.settings import preset
from minisermeta.train import cpu_threads, make_trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="network epochs per method (default 3)")
    args = parser.parse_args()
    setup = book.study_setup(quick=False)
    dataset = pipeline.prepare(book.corpus(setup), progress=False)
    fold = loso_folds(dataset.speakers)[0]
    settings = preset("small", max_epochs=args.epochs, patience=args.epochs + 1)
    rows = {}
    with cpu_threads(1):
        for name in ("blstm_att", "smoothed", "L_w", *ALTERNATIVES):
            start = time.perf_counter()
            trainer, _ = make_trainer(dataset, CONDITIONS[name], fold, 0, settings)
            made = time.perf_counter() - start
            trainer.fit()
            epochs = [e["network_seconds"] + e["lw_seconds"] for e in trainer.history]
            rows[name] = {"seconds per epoch": sum(epochs) / len(epochs), "setup seconds": made,
                          "cost attribute": CONDITIONS[name].cost}
            print(name, rows[name], flush=True)
    table = pd.DataFrame.from_dict(rows, orient="index")
    base = table.loc["blstm_att", "seconds per epoch"]
    table["× baseline per epoch"] = table["seconds per epoch"] / base
    table["setup in baseline epochs"] = table["setup seconds"] / base
    print(f"\nSynthEmo scale 0.25, preset small, fold {fold.name}, seed 0, {args.epochs} epochs, 1 thread")
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
