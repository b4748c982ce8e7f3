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

from minisermeta.corpora.base import EMOTIONS, Problems
from minisermeta.corpora.iemocap import parse_evaluation
from minisermeta.corpora.synthemo import generate, load_synthemo


def all_turns(root: Path) -> pd.DataFrame:
    """Every utterance with its gold label (excluded codes too) and its truth."""
    turns = [
        turn
        for path in sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt"))
        for turn in parse_evaluation(path, Problems(strict=True))
    ]
    gold = pd.DataFrame(turns)[["utterance", "gold"]]
    return gold.merge(pd.read_csv(root / "truth.csv"), on="utterance")


def label_noise(table: pd.DataFrame) -> None:
    """Print the confusion matrix of truth vs gold and how much of the gold is wrong."""
    columns = list(EMOTIONS) + sorted(set(table["gold"]) - set(EMOTIONS))
    matrix = pd.crosstab(table["truth"], table["gold"]).reindex(index=list(EMOTIONS), columns=columns, fill_value=0)
    print("\ntruth (rows) vs gold (columns), all utterances:")
    print(matrix.to_string())
    for name, subset in [("all utterances", table), ("paper class set", table[table["gold"].isin(EMOTIONS)])]:
        wrong = subset[subset["gold"] != subset["truth"]]
        happy = ((wrong["gold"] == "happiness") | (wrong["truth"] == "happiness")).sum()
        print(f"gold != truth, {name}: {len(wrong)}/{len(subset)} = {100 * len(wrong) / len(subset):.1f} %,"
              f" {happy} ({100 * happy / max(1, len(wrong)):.0f} %) of them involve happiness")


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

        table = all_turns(Path(root))
        label_noise(table)
        corpus = load_synthemo(root, scale=args.scale, seed=args.seed)
        counts = pd.DataFrame({"truth": corpus.table["truth"].value_counts(),
                               "gold": corpus.table["gold"].value_counts()}).reindex(list(EMOTIONS))
        print(f"\nclass counts, paper class set ({len(corpus)} utterances; all generated: {len(table)}):")
        print(counts.to_string())

        try:
            from minisermeta.features import extract
        except ImportError as error:
            print(f"\nreference classifier skipped: {error}")
            return
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
