"""Intervals and corrections for the study's claims, with the session as the independent unit.

The two speakers of an IEMOCAP (or SynthEmo) session are one run, not two: they
train on the same eight speakers, so with one seed their training curves are
the same up to early stopping. A difference between two conditions is
therefore averaged over the folds (and seeds) of each session first, and the
interval is a t interval over the session means, with n_sessions - 1 degrees
of freedom. A family of claims is corrected with Holm's step-down method.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as scipy_stats


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its two-sided t confidence interval (low, high); NaNs for fewer than two values."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean()) if len(values) else float("nan")
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = scipy_stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def t_test(values) -> float:
    """Two-sided p-value of a one-sample t test that the mean of ``values`` is 0 (NaN for fewer than two)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan")
    if values.std(ddof=1) == 0:
        return 1.0 if values.mean() == 0 else 0.0
    t = values.mean() / (values.std(ddof=1) / np.sqrt(len(values)))
    return float(2 * scipy_stats.t.sf(abs(t), len(values) - 1))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values: the book calls claim k real at level alpha when its adjusted p < alpha.

    Controls the chance of any false claim in the family at alpha, for any
    dependence between the claims. NaNs (claims without a test) stay NaN and
    do not count in the family.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m, running = len(order), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))  # monotone: never below a smaller p's
        adjusted[index] = running
    return adjusted


def verdicts(diff, p_holm, confidence: float = 0.95, words=("holds", "reversed")) -> np.ndarray:
    """The verdict on each difference: ``words[0]`` where it is positive and its Holm p below 1 - ``confidence``,
    ``words[1]`` where negative and below, else "not shown" (the data cannot tell it from no difference)."""
    alpha = round(1 - confidence, 12)  # 1 - 0.95 is 0.05000000000000004 in floating point: p = 0.05 is not below
    diff, real = np.asarray(diff, dtype=float), np.asarray(p_holm, dtype=float) < alpha
    return np.where(real & (diff > 0), words[0], np.where(real & (diff < 0), words[1], "not shown"))
