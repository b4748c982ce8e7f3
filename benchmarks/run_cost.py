"""What a finished (or partly finished) grid cost, read from its own job files.

Every job JSON records its device, its wall seconds and its epochs (with the
seconds of each network epoch and l/w epoch), so the cost of a run is measured
where it ran, not estimated. Prints per condition: jobs done, seconds per job
(median, max), epochs per job, training throughput (utterance-epochs per
second of network epochs, each timed with its validation pass) and the share
of time spent in l/w epochs; then the totals and how many of the grid's jobs
are still missing.

Run: ``.venv/bin/python benchmarks/run_cost.py results/book-paper [--expected 80]``.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from minisermeta.grid import load_jobs
from minisermeta.methods import CONDITIONS


def epoch_size(result: dict) -> int:
    """Utterances in one network epoch of the job: its training set, or the resampled one."""
    counts = np.bincount(result["train"]["gold"])
    counts = counts[counts > 0]
    sampling = result.get("method", {}).get("sampling", getattr(CONDITIONS.get(result["condition"]), "sampling", None))
    if sampling == "over":
        return len(counts) * counts.max()
    if sampling == "under":
        return len(counts) * counts.min()
    return int(counts.sum())


def cost(results: list[dict]) -> pd.DataFrame:
    rows = {}
    order = list(CONDITIONS)
    for condition in sorted({r["condition"] for r in results}, key=lambda c: order.index(c) if c in order else len(order)):
        jobs = [r for r in results if r["condition"] == condition]
        seconds = np.array([r["seconds"] for r in jobs])
        network = sum(e["network_seconds"] for r in jobs for e in r["epochs"])
        lw = sum(e["lw_seconds"] for r in jobs for e in r["epochs"])
        utterance_epochs = sum(epoch_size(r) * len(r["epochs"]) for r in jobs)
        rows[CONDITIONS[condition].title if condition in CONDITIONS else condition] = {
            "jobs": len(jobs), "s/job median": np.median(seconds), "s/job max": seconds.max(),
            "epochs/job median": np.median([len(r["epochs"]) for r in jobs]),
            "utt/s (network epochs)": utterance_epochs / network, "l/w share %": 100 * lw / (network + lw),
            "job-seconds": seconds.sum(), "devices": ", ".join(sorted({r["device"] for r in jobs}))}
    return pd.DataFrame.from_dict(rows, orient="index")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--expected", type=int, default=80, help="jobs in the whole grid (8 conditions x 10 folds)")
    args = parser.parse_args()
    results = load_jobs(args.run_dir)
    if not results:
        raise SystemExit(f"{args.run_dir} holds no job results (jobs/*/*.json.gz)")
    table = cost(results)
    print(table.round(2).to_string())
    total = table["job-seconds"].sum()
    print(f"\n{len(results)} of {args.expected} jobs: {total:.0f} job-seconds = {total / 3600:.2f} job-hours")
    missing = args.expected - len(results)
    if missing > 0:
        print(f"{missing} job(s) missing")


if __name__ == "__main__":
    main()
