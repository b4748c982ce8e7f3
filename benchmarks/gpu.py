"""The paper preset on full-size SynthEmo, every condition x 10 folds, on one GPU.

Run on a CUDA machine: ``.venv/bin/python benchmarks/gpu.py`` (``--n-jobs`` jobs
share the GPU, each in its own process; bfloat16 autocast is on by default).
Prints the wall time and the training throughput in utterances per second
(network epochs x training utterances, summed over jobs, over the wall time).

Without a GPU, ``--tiny`` runs the same code path on the CPU in a minute
(a small corpus, one epoch, a narrow network) to show that it works.
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch

from minisermeta import report
from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.grid import load_jobs
from minisermeta.model import ModelConfig
from minisermeta.pipeline import prepare, reproduce
from minisermeta.methods import CONDITIONS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--n-jobs", type=int, default=8 if torch.cuda.is_available() else 1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--tiny", action="store_true", help="CPU smoke run: scale 0.02, 1 epoch, narrow network")
    parser.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA")
    parser.add_argument("--batch", type=int, default=1, help="jobs trained at once per process (minisermeta.batched)")
    parser.add_argument("--conditions", nargs="+", choices=list(CONDITIONS), default=None,
                        help="a subset of the conditions (default: all)")
    args = parser.parse_args()
    overrides = dict(amp=not args.no_amp)
    if args.tiny:
        args.scale = 0.02
        overrides.update(max_epochs=1, model=ModelConfig(fc_units=16, lstm_units=8))
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU (no CUDA device)"

    start = time.perf_counter()
    corpus = load_synthemo(scale=args.scale)
    prepare(corpus, n_jobs=-1)
    print(f"corpus and features: {len(corpus)} utterances in {time.perf_counter() - start:.0f} s")

    out = args.out or Path(tempfile.mkdtemp(prefix="gpu-grid-"))
    start = time.perf_counter()
    tables = reproduce(corpus, preset_name="paper", conditions=args.conditions, out=out,
                       n_jobs=args.n_jobs, batch=args.batch, **overrides)
    seconds = time.perf_counter() - start

    results = load_jobs(out)
    utterance_epochs = sum(len(r["train"]["gold"]) * len(r["epochs"]) for r in results)
    print(f"\ndevice: {device}; {len(results)} jobs, n_jobs={args.n_jobs}, batch={args.batch}, amp={not args.no_amp}")
    print(f"wall time: {seconds:.0f} s ({seconds / 60:.1f} min)")
    print(f"training throughput: {utterance_epochs / seconds:.0f} utterances/s "
          f"({utterance_epochs} utterance-epochs; l/w and validation passes not counted)")
    print("\n" + report.to_markdown(tables["table2"]))


if __name__ == "__main__":
    main()
