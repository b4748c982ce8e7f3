"""Network-epoch throughput of the single-job trainer against the batched one (K jobs in one process).

The same K jobs (BLSTM + ATT, the network of ``--preset``, SynthEmo scale 0.25,
four speakers: each job trains on two of them, about 220 utterances) are
trained for ``--epochs`` network epochs, dropout on (``--pass infer``: as
many inference passes over their training utterances, what validation and
the l/w epoch run), each configuration in its own process so peak memory
(max RSS) is its own:

- ``single``: ``Trainer.network_epoch`` of one job on ``--threads`` threads;
  the grid runs ``cores / threads`` such processes side by side, so the
  machine's throughput is this times that many.
- ``batched K``: ``BatchedTrainer.network_epoch`` of K jobs in one process on
  all ``--threads`` x (processes) threads; with ``--compile``, beside each
  ``compiled K``: the same with the LSTM cell compiled (``compiled=True``; its
  compilation falls in the untimed warm-up epoch).

It prints utterances per second per configuration and per core::

    .venv/bin/python benchmarks/batched_speed.py --k 2 4 8
    .venv/bin/python benchmarks/batched_speed.py --preset small --k 2 4 8
    .venv/bin/python benchmarks/batched_speed.py --pass infer --k 2 4 8
    .venv/bin/python benchmarks/batched_speed.py --compile --k 4
    .venv/bin/python benchmarks/batched_speed.py --device cuda --k 8 32 64   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CORPUS = dict(scale=0.25, seed=0)
SPEAKERS = ["Ses01F", "Ses01M", "Ses02F", "Ses02M"]


def measure(config: dict) -> dict:
    """Run one configuration (in this process) and return its figures."""
    import numpy as np
    import torch

    from minisermeta.batched import BatchedTrainer
    from minisermeta.corpora.synthemo import load_synthemo
    from minisermeta.dataset import Dataset
    from minisermeta.folds import loso_folds
    from minisermeta.methods import CONDITIONS
    from minisermeta.pipeline import prepare
    from minisermeta.settings import preset
    from minisermeta.train import make_trainer

    torch.set_num_threads(config["threads"])
    if config["dataset"]:  # every speaker: the first fold trains on eight, as a grid's jobs do
        dataset = Dataset.load(config["dataset"])
    else:
        corpus = load_synthemo(progress=False, **CORPUS)
        corpus = corpus.subset(np.flatnonzero(corpus.table["speaker"].isin(SPEAKERS)))
        dataset = prepare(corpus, progress=False)
    settings = preset(config["preset"], device=config["device"])
    fold = loso_folds(dataset.speakers)[0]
    trainers = [make_trainer(dataset, CONDITIONS["blstm_att"], fold, seed, settings)[0] for seed in range(config["k"])]
    batched = BatchedTrainer(trainers, compiled=config["compiled"]) if config["mode"] == "batched" else None
    utterances, start = 0, None
    for epoch in range(config["epochs"] + 1):  # the first epoch warms up (allocations, autotuning)
        if epoch == 1:
            if config["device"] == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        if config["pass"] == "infer":  # eval mode over the training utterances, as the l/w epoch reads them
            if batched is not None:
                batched.log_probs({k: trainer.train for k, trainer in enumerate(trainers)})
            else:
                trainers[0].log_probs(trainers[0].train)
        elif batched is not None:
            batched.network_epoch(list(range(len(trainers))))
        else:
            trainers[0].network_epoch()
        if epoch >= 1:
            utterances += len(trainers[0].train) * (len(trainers) if batched is not None else 1)
    if config["device"] == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return dict(config, utterances=utterances, seconds=seconds, utt_per_s=utterances / seconds,
                max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                gpu_peak_mb=torch.cuda.max_memory_allocated() / 2**20 if config["device"] == "cuda" else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[2, 4], help="jobs per batch to measure")
    parser.add_argument("--epochs", type=int, default=1, help="timed network epochs (after one warm-up epoch)")
    parser.add_argument("--pass", dest="kind", choices=("train", "infer"), default="train",
                        help="what is timed: network epochs, or inference passes (validation, the l/w epoch)")
    parser.add_argument("--compile", action="store_true", help="also each K with the LSTM cell compiled")
    parser.add_argument("--threads", type=int, default=1, help="threads of one single-job process")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", default="paper", help="whose network (minisermeta.settings.PRESETS)")
    parser.add_argument("--dataset", help="a dataset written by Dataset.save (benchmarks/gpu.py --pack), all its "
                        "speakers, instead of four speakers of SynthEmo: for a machine without openSMILE")
    parser.add_argument("--timeout", type=float, default=None, help="seconds one configuration may take")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a configuration, run in a child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(json.loads(args.one))))
        return
    cores = os.cpu_count() or 1
    processes = max(1, cores // args.threads) if args.device == "cpu" else 1
    common = dict(epochs=args.epochs, device=args.device, preset=args.preset, dataset=args.dataset, **{"pass": args.kind})
    configs = [dict(mode="single", k=1, threads=args.threads, compiled=False, **common)]
    configs += [dict(mode="batched", k=k, threads=args.threads * processes if args.device == "cpu" else 1,
                     compiled=compiled, **common) for k in args.k for compiled in (False, True)[:1 + args.compile]]
    print(f"{cores} cores, device {args.device}, preset {args.preset}, {args.kind} passes; "
          f"single jobs: {processes} process(es) of {args.threads} thread(s)")
    for config in configs:
        label = "single" if config["mode"] == "single" else f"{'compiled' if config['compiled'] else 'batched'} K={config['k']}"
        try:
            done = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)], capture_output=True,
                                  text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{label:12s} took over {args.timeout:g} s; not measured", flush=True)
            continue
        if done.returncode:
            print(f"{label:12s} failed:\n{done.stderr[-2000:]}", flush=True)
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        machine = figures["utt_per_s"] * (processes if config["mode"] == "single" else 1)
        print(f"{label:12s} {figures['utt_per_s']:8.1f} utt/s in its process, {machine:8.1f} utt/s for the machine "
              f"({machine / cores:6.1f} per core), max RSS {figures['max_rss_mb']:6.0f} MB, "
              f"{figures['utterances']} utterances in {figures['seconds']:.1f} s"
              + (f", GPU peak {figures['gpu_peak_mb']:.0f} MiB" if figures["gpu_peak_mb"] is not None else ""),
              flush=True)


if __name__ == "__main__":
    main()
