"""How hard is SynthEmo, and how long does it take to make?

Generates the corpus (default: ``--scale 0.25 --seed 0`` into a temporary
directory) and prints

- the generation wall time;
- the truth-vs-gold confusion matrix (rows: true emotion; columns: gold code,
  including the ``exc``/``fru``/``xxx`` codes the paper's class set excludes),
  the share of gold labels that differ from the truth and how many of those
  involve happiness;
- the class counts;
- the unweighted accuracy (UA) of a reference classifier, scored against the
  gold labels and, for information, against the truth: logistic regression on
  standardised per-utterance means and standard deviations of the 32 paper32
  features, leave-one-speaker-out over the 10 speakers.

    python benchmarks/synthemo.py [--scale 0.25] [--seed 0] [--out DIR] [--n-jobs -1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from minisermeta import report
from minisermeta.corpora.base import EMOTIONS
from minisermeta.corpora.synthemo import all_turns, generate, load_synthemo
from minisermeta.features import extract


def utterance_statistics(features: list[np.ndarray]) -> np.ndarray:
    """Per-utterance mean and standard deviation of each frame feature."""
    return np.array([np.concatenate([f.mean(axis=0), f.std(axis=0)]) for f in features])


def loso_predictions(x: np.ndarray, y: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Leave-one-speaker-out predictions of the reference classifier trained on labels ``y``."""
    predictions = np.empty_like(y)
    for speaker in np.unique(speakers):
        test = speakers == speaker
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
        model.fit(x[~test], y[~test])
        predictions[test] = model.predict(x[test])
    return predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="corpus directory (default: a temporary one)")
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch) / "synthemo"
        start = time.perf_counter()
        generate(root, scale=args.scale, seed=args.seed, n_jobs=args.n_jobs)
        print(f"generation: {time.perf_counter() - start:.1f} s (scale {args.scale}, seed {args.seed})")

        print("\ntruth (rows) vs gold (columns), all generated utterances:")
        print(report.truth_vs_gold(root).to_string())
        print("\n" + report.label_noise(root).round(1).to_string())
        table = all_turns(root)
        corpus = load_synthemo(root, scale=args.scale, seed=args.seed)
        counts = pd.DataFrame({"truth": corpus.table["truth"].value_counts(),
                               "gold": corpus.table["gold"].value_counts()}).reindex(list(EMOTIONS))
        print(f"\nclass counts, paper class set ({len(corpus)} utterances; all generated: {len(table)}):")
        print(counts.to_string())

        features = extract(corpus, "paper32", cache_dir=Path(scratch) / "features", n_jobs=args.n_jobs)
        x = utterance_statistics(features)
        gold, truth = corpus.label_index("gold"), corpus.label_index("truth")
        speakers = corpus.table["speaker"].to_numpy()
        print("\nreference classifier (LR on mean+std of paper32, leave-one-speaker-out), UA:")
        for trained_on, labels in [("gold", gold), ("truth", truth)]:
            predicted = loso_predictions(x, labels, speakers)
            recalls = recall_score(gold, predicted, average=None, labels=list(range(len(EMOTIONS))))
            per_class = ", ".join(f"{e} {100 * r:.0f}" for e, r in zip(EMOTIONS, recalls))
            print(f"  trained on {trained_on:5s}: vs gold {100 * recalls.mean():.1f} %,"
                  f" vs truth {100 * recall_score(truth, predicted, average='macro'):.1f} %"
                  f"  (recall vs gold: {per_class})")

if __name__ == "__main__":
    main()
