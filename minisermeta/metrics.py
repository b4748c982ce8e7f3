"""The paper's evaluation measures: WA, UA, per-class precision, recall and F1."""

from __future__ import annotations

import numpy as np


def confusion(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, rows the true class and columns the predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true), np.asarray(pred)), 1)
    return matrix


def scores(true: np.ndarray, pred: np.ndarray, n_classes: int) -> dict:
    """WA (accuracy), UA (mean per-class recall) and per-class P/R/F1, as fractions.

    A class that is never predicted has precision 0 (and F1 0), never NaN, so
    pooled and per-fold tables stay comparable. A class absent from ``true``
    has no recall and no F1 (NaN, printed N/A), and a precision only if it was
    predicted (then 0); UA averages the classes present.
    """
    matrix = confusion(true, pred, n_classes)
    hits = np.diag(matrix).astype(float)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=support > 0)
    precision = np.divide(hits, predicted, out=np.zeros(n_classes), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n_classes),
                   where=(precision + recall) > 0)
    present = support > 0
    recall[~present] = f1[~present] = np.nan
    precision[~present & (predicted == 0)] = np.nan
    return dict(
        wa=float(hits.sum() / max(matrix.sum(), 1)),
        ua=float(recall[present].mean()) if present.any() else 0.0,
        precision=precision,
        recall=recall,
        f1=f1,
        confusion=matrix,
    )
