"""A tiny grid's wall time on local joblib processes against a local Dask cluster of as many workers.

The same jobs (the baseline and L + w on a SynthEmo at scale 0.02, quick
preset at one epoch, ten folds, one thread per job) run twice into fresh run
directories: with ``n_jobs`` local processes, then on a ``distributed``
LocalCluster of ``n_jobs`` worker processes (``grid.dask_cluster``), its
start-up included. Both must give the same job results; the script checks it.

Run: ``.venv/bin/python benchmarks/cluster_grid.py [--n-jobs 2]``.
"""

import argparse
import tempfile
import time
from pathlib import Path

from minisermeta import pipeline
from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.folds import loso_folds
from minisermeta.grid import dask_cluster, load_jobs, run_grid
from minisermeta.model import ModelConfig
from minisermeta.settings import preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2, help="local processes, and the cluster's workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = load_synthemo(Path(tmp) / "synthemo", scale=0.02, seed=1, progress=False)
        dataset = pipeline.prepare(corpus, progress=False)
        folds = loso_folds(dataset.speakers)
        settings = preset("quick", max_epochs=1, patience=1, model=ModelConfig(fc_units=16, lstm_units=8))
        conditions = ["blstm_att", "L_w"]
        seconds = {}
        start = time.perf_counter()
        run_grid(dataset, Path(tmp) / "local", conditions, folds, [0], settings, n_jobs=args.n_jobs,
                 progress=False, threads=1)
        seconds["local joblib"] = time.perf_counter() - start
        start = time.perf_counter()
        with dask_cluster(f"local:{args.n_jobs}"):
            up = time.perf_counter() - start
            run_grid(dataset, Path(tmp) / "dask", conditions, folds, [0], settings, n_jobs=-1, progress=False,
                     threads=1)
        seconds["Dask LocalCluster"] = time.perf_counter() - start

        def key(job):
            return job["condition"], job["fold"]

        local, dask = (sorted(load_jobs(Path(tmp) / name), key=key) for name in ("local", "dask"))
        same = all(a["test"] == b["test"] and a["train"] == b["train"] for a, b in zip(local, dask))
    print(f"{len(local)} jobs, {args.n_jobs} at a time, one thread each; same results: {same}")
    for name, value in seconds.items():
        print(f"{name:>18}: {value:5.1f} s")
    print(f"{'':>18}  (of which the cluster's start-up: {up:.1f} s)")


if __name__ == "__main__":
    main()
