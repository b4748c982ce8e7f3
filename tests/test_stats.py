"""The study's statistics against scipy and statsmodels-free hand computations."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from minisermeta import stats


@pytest.mark.parametrize("values", [[1.0, 2.5, -0.5, 3.0, 0.7], [0.2, 0.4], np.arange(10.0)])
def test_t_interval_is_scipy_s(values):
    mean, low, high = stats.t_interval(values, 0.95)
    expected = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert mean == pytest.approx(np.mean(values))
    assert (low, high) == pytest.approx(expected)
    assert stats.t_interval([3.0])[0] == 3.0 and np.isnan(stats.t_interval([3.0])[1])


@pytest.mark.parametrize("values", [[1.0, 2.5, -0.5, 3.0, 0.7], [0.2, 0.4, -0.1], [5.0, 5.1, 4.9, 5.2]])
def test_t_test_is_scipy_s(values):
    assert stats.t_test(values) == pytest.approx(scipy_stats.ttest_1samp(values, 0.0).pvalue)


def test_an_interval_excludes_zero_exactly_when_the_test_rejects():
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = rng.normal(0.5, 1.0, size=5)
        _, low, high = stats.t_interval(values, 0.95)
        assert (low > 0 or high < 0) == (stats.t_test(values) < 0.05)


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    np.testing.assert_allclose(stats.holm(p), [0.03, 0.06, 0.06, 0.02, np.nan])
    assert stats.holm([0.9, 0.8])[0] == 1.0 and list(stats.holm([])) == []


def test_a_verdict_needs_the_holm_p_below_alpha_and_names_the_direction():
    from minisermeta.stats import verdicts

    found = verdicts([2.0, -2.0, 2.0, 0.0, np.nan], [0.01, 0.01, 0.05, 0.0, np.nan])
    assert found.tolist() == ["holds", "reversed", "not shown", "not shown", "not shown"]
    assert verdicts([1.0, -1.0], [0.001, 0.001], words=("cleaner", "less clean")).tolist() == ["cleaner", "less clean"]
    assert verdicts([1.0], [0.02], confidence=0.99).tolist() == ["not shown"]
