"""What keying a run by its data costs: ``Dataset.fingerprint`` beside the rest of a cached run's start.

A run directory records a hash of the utterance table and of the features
(``pipeline.check_run``), so a rerun after the corpus changed is refused. This
script times, on a SynthEmo corpus whose features are already cached (it
generates and extracts them first if not), reading the corpus, loading the
cached features, packing the dataset and fingerprinting it::

    .venv/bin/python benchmarks/run_fingerprint.py --scale 1
"""

from __future__ import annotations

import argparse
import time

from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.dataset import Dataset
from minisermeta.features import extract


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    args = parser.parse_args()
    extract(load_synthemo(scale=args.scale, progress=True), progress=True, n_jobs=2)  # generate and cache once
    timings = {"read the corpus": [], "load cached features": [], "pack the dataset": [], "fingerprint": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        corpus = load_synthemo(scale=args.scale, progress=False)
        timings["read the corpus"].append(time.perf_counter() - start)
        start = time.perf_counter()
        features = extract(corpus, progress=False)
        timings["load cached features"].append(time.perf_counter() - start)
        start = time.perf_counter()
        dataset = Dataset.from_corpus(corpus, features)
        timings["pack the dataset"].append(time.perf_counter() - start)
        start = time.perf_counter()
        dataset.fingerprint()
        timings["fingerprint"].append(time.perf_counter() - start)
    print(f"SynthEmo scale {args.scale}: {len(dataset)} utterances, {dataset.frames.nbytes / 1e6:.0f} MB of frames; "
          f"best of {args.repeat}")
    for name, seconds in timings.items():
        print(f"  {name:22s} {min(seconds):6.2f} s")


if __name__ == "__main__":
    main()
