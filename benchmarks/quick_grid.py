"""Wall time of the full quick grid: every Table 2 condition x 10 folds, one seed, default SynthEmo.

Run: ``.venv/bin/python benchmarks/quick_grid.py [--scale 0.25] [--n-jobs 2] [--out DIR]``.
Prints the time of each stage (corpus, features, grid) and the tables the grid
produced, as they are: nothing here is tuned to make one condition win.
Uses a fresh run directory (a temporary one unless ``--out`` is given) so no
finished job is skipped; the corpus and feature cache are reused if present.
"""

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil

from minisermeta import report
from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.pipeline import prepare, reproduce


class ProcessTreeMonitor:
    """Samples the resident memory and CPU time of this process and its children (the joblib workers).

    CPU seconds divided by the cores used say what the wall time would be on
    an otherwise idle machine, which this shared one often is not.
    """

    def __init__(self, every: float = 0.5):
        self.peak, self.peak_pss, self.every, self.running = 0, 0, every, True
        self.cpu: dict[int, float] = {}
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        me = psutil.Process()
        while self.running:
            processes = [me] + me.children(recursive=True)
            total = proportional = 0
            for process in processes:
                try:
                    memory = process.memory_full_info()
                    total += memory.rss
                    proportional += memory.pss
                    times = process.cpu_times()
                    self.cpu[process.pid] = times.user + times.system
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, proportional)
            time.sleep(self.every)

    def stop(self) -> tuple[float, float, float]:
        """Peak resident memory, summed RSS and PSS (GiB), and CPU seconds used since ``mark``.

        Summed RSS counts the pages the processes share (libraries, the memory-mapped
        frames) once per process; PSS splits them among the processes.
        """
        self.running = False
        self.thread.join()
        return self.peak / 2**30, self.peak_pss / 2**30, sum(self.cpu.values()) - self.cpu_at_start

    def mark(self) -> None:
        """Start counting CPU time from now."""
        time.sleep(2 * self.every)
        self.cpu_at_start = sum(self.cpu.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--conditions", default=None, help="comma-separated subset (default: all)")
    args = parser.parse_args()
    conditions = args.conditions.split(",") if args.conditions else None
    monitor = ProcessTreeMonitor()

    start = time.perf_counter()
    corpus = load_synthemo(scale=args.scale, seed=args.seed)
    corpus_seconds = time.perf_counter() - start
    start = time.perf_counter()
    prepare(corpus)  # fills the feature cache, so the grid time below is the grid's alone
    feature_seconds = time.perf_counter() - start

    out = args.out or Path(tempfile.mkdtemp(prefix="quick-grid-"))
    monitor.mark()
    start = time.perf_counter()
    tables = reproduce(corpus, preset_name=args.preset, conditions=conditions, out=out, n_jobs=args.n_jobs)
    grid_seconds = time.perf_counter() - start
    peak, peak_pss, cpu_seconds = monitor.stop()

    print(f"\ncorpus: {len(corpus)} utterances (SynthEmo scale {args.scale}, seed {args.seed}), "
          f"ready in {corpus_seconds:.0f} s; features in {feature_seconds:.0f} s")
    print(f"grid: preset {args.preset}, {len(conditions or tables['table2'])} conditions x 10 folds x 1 seed, "
          f"n_jobs={args.n_jobs}: {grid_seconds:.0f} s ({grid_seconds / 60:.1f} min)")
    print(f"grid CPU time (this process and its workers): {cpu_seconds:.0f} s = "
          f"{cpu_seconds / 120:.1f} min of wall time on 2 idle cores")
    print(f"peak memory of this process and its workers (sampled every 0.5 s): {peak:.2f} GiB summed RSS, "
          f"{peak_pss:.2f} GiB summed PSS")
    for name, table in tables.items():
        print(f"\n## {name}\n")
        print(report.to_markdown(table, floatfmt=".2f" if name == "table3" else ".1f"))
    print(f"\nresults under {out}")


if __name__ == "__main__":
    main()
