"""A grid at the paper preset on one GPU, end to end: wall time and training throughput.

On a CUDA machine with the project installed, the 80 jobs of Table 2 on full-size SynthEmo::

    .venv/bin/python benchmarks/gpu.py

``--n-jobs`` jobs share the GPU, each in its own process (``--batch`` K: K jobs
per process, ``minisermeta.batched``); bfloat16 autocast is on by default.
Prints the wall time and the training throughput in utterances per second
(network epochs x training utterances, summed over jobs, over the wall time).

A GPU node often has neither openSMILE nor the corpus. Pack the dataset where
they are, carry the file, and train from it there (any conditions and seeds;
the run directory records the same identity ``reproduce`` would, so the run
resumes anywhere and the book reads it)::

    .venv/bin/python benchmarks/gpu.py --pack .gpu/synthemo-0.25.npz --scale 0.25
    python3 benchmarks/gpu.py --dataset .gpu/synthemo-0.25.npz --conditions blstm_att smoothed L_w \\
        --seeds 0 1 2 3 4 --n-jobs 16 --out runs/study-paper

Without a GPU, ``--tiny`` runs the same code path on the CPU in a minute
(a small corpus, one epoch, a narrow network) to show that it works.
"""

import argparse
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from minisermeta import report
from minisermeta.corpora.synthemo import load_synthemo
from minisermeta.dataset import Dataset
from minisermeta.folds import loso_folds
from minisermeta.grid import load_jobs, run_grid
from minisermeta.methods import CONDITIONS, PAPER_CONDITIONS
from minisermeta.model import ModelConfig
from minisermeta.pipeline import claim_run, corpus_location, prepare, reproduce, write_tables
from minisermeta.settings import preset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="SynthEmo's scale (default: full size)")
    parser.add_argument("--n-jobs", type=int, default=8 if torch.cuda.is_available() else 1)
    parser.add_argument("--out", type=Path, default=None, help="the run directory (default: a new temporary one)")
    parser.add_argument("--tiny", action="store_true", help="CPU smoke run: scale 0.02, 1 epoch, narrow network")
    parser.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA")
    parser.add_argument("--batch", type=int, default=1, help="jobs trained at once per process (minisermeta.batched)")
    parser.add_argument("--conditions", nargs="+", choices=list(CONDITIONS), default=None,
                        help="a subset of the conditions (default: Table 2's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (default: 0)")
    parser.add_argument("--preset", default="paper", help="a key of minisermeta.settings.PRESETS (default: paper)")
    parser.add_argument("--pack", type=Path, help="write SynthEmo's dataset (features extracted) to this file, then stop")
    parser.add_argument("--dataset", type=Path, help="train on a dataset written by --pack instead of SynthEmo")
    args = parser.parse_args()
    overrides = dict(amp=not args.no_amp)
    if args.tiny:
        args.scale = 0.02
        overrides.update(max_epochs=1, model=ModelConfig(fc_units=16, lstm_units=8))
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU (no CUDA device)"
    conditions = args.conditions or list(PAPER_CONDITIONS)
    out = args.out or Path(tempfile.mkdtemp(prefix="gpu-grid-"))

    start = time.perf_counter()
    if args.dataset:
        dataset, corpus = Dataset.load(args.dataset), None
        print(f"dataset {args.dataset}: {len(dataset)} utterances, loaded in {time.perf_counter() - start:.0f} s")
    else:
        corpus = load_synthemo(scale=args.scale)
        dataset = prepare(corpus, n_jobs=-1)
        print(f"corpus and features: {len(corpus)} utterances in {time.perf_counter() - start:.0f} s")
        if args.pack:
            dataset.save(args.pack)
            print(f"wrote {args.pack} ({args.pack.stat().st_size / 1e6:.0f} MB); train from it with --dataset")
            return

    start = time.perf_counter()
    if corpus is not None:
        tables = reproduce(corpus, preset_name=args.preset, conditions=conditions, seeds=args.seeds, out=out,
                           n_jobs=args.n_jobs, batch=args.batch, **overrides)
    else:  # what reproduce does once the features are extracted
        settings = preset(args.preset, **overrides)
        claim_run(out, dict(corpus=corpus_location(args.dataset), utterances=len(dataset), classes="paper",
                            feature_set="paper32", preset=args.preset, settings=asdict(settings),
                            data=dataset.fingerprint()))
        run_grid(dataset, out, conditions, loso_folds(dataset.speakers), args.seeds, settings, args.n_jobs,
                 batch=args.batch)
    seconds = time.perf_counter() - start

    results = [r for r in load_jobs(out) if r["condition"] in conditions and r["seed"] in args.seeds]
    if corpus is None:
        tables = write_tables(out)
    utterance_epochs = sum(len(r["train"]["gold"]) * len(r["epochs"]) for r in results)
    print(f"\ndevice: {device}; {len(results)} jobs, n_jobs={args.n_jobs}, batch={args.batch}, amp={not args.no_amp}")
    print(f"wall time: {seconds:.0f} s ({seconds / 60:.1f} min)")
    print(f"training throughput: {utterance_epochs / seconds:.0f} utterances/s "
          f"({utterance_epochs} utterance-epochs; l/w and validation passes not counted)")
    print("\n" + report.to_markdown(tables["table2"]))


if __name__ == "__main__":
    main()
