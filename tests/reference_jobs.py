"""Seed-0 quick-preset jobs of every Table 2 condition, one fold each, as the library computed them.

``tests/data/reference_jobs.json.gz`` was written by this script *before* the
conditions became method objects (commit dc6ccea); ``test_reference_jobs``
reruns the same jobs and compares predictions, probabilities, learned s and w
and the per-epoch losses. Regenerate only when a change of numbers is intended
and said so in the commit: ``python tests/reference_jobs.py``.
"""

from __future__ import annotations

import gzip
import inspect
import json
from pathlib import Path

PATH = Path(__file__).parent / "data" / "reference_jobs.json.gz"
SCALE, CORPUS_SEED = 0.05, 0  # the book's quick corpus (219 utterances)
CONDITIONS = ("blstm_att", "oversampling", "undersampling", "soft_target", "L", "w", "L_w", "L_w_pretrained")


def compact(result: dict) -> dict:
    """What the comparison needs of a job result."""
    return dict(condition=result["condition"], fold=result["fold"], seed=result["seed"],
                test=dict(pred=result["test"]["pred"], probs=result["test"]["probs"]),
                train=dict(initial_w=result["train"]["initial_w"], w=result["train"]["w"], s=result["train"]["s"]),
                epochs=[dict(phase=e["phase"], epoch=e["epoch"], train_loss=e["train_loss"],
                             valid_loss=e["valid_loss"]) for e in result["epochs"]])


def compute() -> list[dict]:
    """Rerun the reference jobs with today's library (one thread: the same numbers on any CPU)."""
    import torch

    from minisermeta.corpora.synthemo import load_synthemo
    from minisermeta.pipeline import prepare

    torch.set_num_threads(1)
    dataset = prepare(load_synthemo(scale=SCALE, seed=CORPUS_SEED), progress=False)
    try:
        from minisermeta.folds import loso_folds
        from minisermeta.settings import preset
        from minisermeta.train import train_job
    except ImportError:  # the library before the method interface
        from minisermeta.cv import loso_folds
        from minisermeta.train import preset
        from minisermeta.train import run as train_job
    folds = loso_folds(dataset.speakers)
    # computed when every fold trained from the seed itself; per-fold seeds (Settings.fold_seeds) came later
    same_seed = {"fold_seeds": False} if "fold_seeds" in inspect.signature(type(preset("quick"))).parameters else {}
    return [compact(train_job(dataset, condition, folds[i], seed=0, settings=preset("quick", device="cpu", **same_seed),
                              **({"threads": 1} if "threads" in inspect.signature(train_job).parameters else {})))
            for i, condition in enumerate(CONDITIONS)]


def load() -> list[dict]:
    with gzip.open(PATH, "rt") as file:
        return json.load(file)


if __name__ == "__main__":
    PATH.parent.mkdir(exist_ok=True)
    with gzip.open(PATH, "wt") as file:
        json.dump(compute(), file)
    print(f"wrote {PATH} ({PATH.stat().st_size} bytes)")
