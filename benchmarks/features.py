"""How fast is feature extraction, and how much does the cache save?

    python benchmarks/features.py                      # a small SynthEmo corpus
    python benchmarks/features.py --corpus ~/IEMOCAP   # any IEMOCAP-layout corpus

Prints the speed of one process as multiples of real time (audio seconds per
CPU second; openSMILE runs single-threaded) and the wall time of a cold
extraction (into an empty cache) against a warm one (read from the cache).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import soundfile as sf

from minisermeta import features
from minisermeta.corpora import read_iemocap
from minisermeta.corpora.synthemo import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="IEMOCAP-layout corpus root (default: generate SynthEmo)")
    parser.add_argument("--scale", type=float, default=0.05, help="SynthEmo size without --corpus (1 = IEMOCAP)")
    parser.add_argument("--feature-set", default="paper32", choices=features.FEATURE_SETS)
    parser.add_argument("--n-jobs", type=int, default=1, help="processes for the cold extraction")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        root = args.corpus or generate(scratch / "synthemo", scale=args.scale, seed=0, progress=False)
        paths = list(read_iemocap(root).table["path"])
        audio = sum(sf.info(p).duration for p in paths)
        print(f"{len(paths)} files, {audio:.0f} s of audio, feature set {args.feature_set}")

        features.extract_file(paths[0], args.feature_set)  # builds the openSMILE objects
        start = time.process_time()
        for path in paths:
            features.extract_file(path, args.feature_set)
        cpu = time.process_time() - start
        print(f"one process: {cpu:.1f} CPU s, {audio / cpu:.0f}x real time per core")

        cache = scratch / "cache"
        start = time.perf_counter()
        features.extract(paths, args.feature_set, cache_dir=cache, progress=False, n_jobs=args.n_jobs)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        features.extract(paths, args.feature_set, cache_dir=cache, progress=False)
        warm = time.perf_counter() - start
        print(f"cold extract ({args.n_jobs} job(s)): {cold:.2f} s; warm from cache: {warm:.2f} s; speed-up {cold / warm:.0f}x")


if __name__ == "__main__":
    main()
