import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis import METHODS, proportion_ci

SM_NAME = {"wilson": "wilson", "clopper-pearson": "beta", "jeffreys": "jeffreys", "wald": "normal"}
CONFIDENCES = (0.9, 0.95, 0.99)


def _grid():
    rng = np.random.default_rng(20240501)
    xs, ns = [], []
    for n in (1, 2, 5, 10, 50, 100, 1000):
        x = np.arange(n + 1)
        if n == 1000:
            # Subsample the middle, keep both ends where the methods differ most.
            x = np.unique(np.concatenate([x[:20], x[-20:], rng.choice(x, 100, replace=False)]))
        xs.append(x)
        ns.append(np.full(x.size, n))
    return np.concatenate(xs), np.concatenate(ns)


X, N = _grid()


@pytest.mark.parametrize("confidence", CONFIDENCES)
@pytest.mark.parametrize("method", METHODS)
def test_matches_statsmodels(method, confidence):
    low, high = proportion_ci(X, N, method, confidence)
    ref_low, ref_high = proportion_confint(X, N, alpha=1 - confidence, method=SM_NAME[method])
    ref_low, ref_high = np.clip(ref_low, 0, 1), np.clip(ref_high, 0, 1)
    if method == "jeffreys":
        # statsmodels keeps the raw Beta quantile at the boundaries; we follow
        # Brown, Cai & DasGupta (2001) and pin them (checked in test_boundaries).
        ref_low = np.where(X == 0, 0.0, ref_low)
        ref_high = np.where(X == N, 1.0, ref_high)
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-9)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-9)


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_clopper_pearson_matches_scipy_binomtest(confidence):
    for x, n in zip(X[::3], N[::3]):
        ref = stats.binomtest(int(x), int(n)).proportion_ci(confidence_level=confidence, method="exact")
        low, high = proportion_ci(int(x), int(n), "clopper-pearson", confidence)
        assert low == pytest.approx(ref.low, abs=1e-9)
        assert high == pytest.approx(ref.high, abs=1e-9)


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_wilson_matches_scipy_binomtest(confidence):
    for x, n in zip(X[::3], N[::3]):
        ref = stats.binomtest(int(x), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
        low, high = proportion_ci(int(x), int(n), "wilson", confidence)
        assert low == pytest.approx(ref.low, abs=1e-9)
        assert high == pytest.approx(ref.high, abs=1e-9)


# Newcombe, R. G. (1998). Two-sided confidence intervals for the single
# proportion: comparison of seven methods. Stat. Med. 17, 857-872, Table I,
# 95 % intervals, method 3 (Wilson score, no continuity correction) and
# method 5 (Clopper-Pearson "exact").
NEWCOMBE = [
    # x, n, wilson (low, high), clopper-pearson (low, high)
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize("x, n, wilson, exact", NEWCOMBE)
def test_published_newcombe_table_1(x, n, wilson, exact):
    assert proportion_ci(x, n, "wilson") == pytest.approx(wilson, abs=5e-5)
    assert proportion_ci(x, n, "clopper-pearson") == pytest.approx(exact, abs=5e-5)


def test_zero_failures_clopper_pearson_closed_form():
    # x = n: the exact lower bound solves p^n = alpha/2.
    for n in (1, 10, 299, 1000):
        low, high = proportion_ci(n, n, "clopper-pearson", 0.95)
        assert low == pytest.approx(0.025 ** (1 / n), rel=1e-12)
        assert high == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_boundaries(method):
    for n in (1, 7, 100):
        low0, high0 = proportion_ci(0, n, method)
        lown, highn = proportion_ci(n, n, method)
        assert 0.0 <= low0 <= high0 <= 1.0 and 0.0 <= lown <= highn <= 1.0
        if method != "wald":
            assert high0 > 0 and lown < 1
        if method in ("clopper-pearson", "jeffreys", "wald"):
            assert low0 == 0.0 and highn == 1.0
        if method == "wilson":
            assert low0 == pytest.approx(0.0, abs=1e-15)
            assert highn == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_n_one(method):
    low0, high0 = proportion_ci(0, 1, method)
    low1, high1 = proportion_ci(1, 1, method)
    # Symmetric under x -> n - x.
    assert low0 == pytest.approx(1 - high1, abs=1e-12)
    assert high0 == pytest.approx(1 - low1, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_empty_and_invalid_give_nan(method):
    low, high = proportion_ci(0, 0, method)
    assert np.isnan(low) and np.isnan(high)
    low, high = proportion_ci([0, 3, 5, np.nan, -1], [0, 10, 4, 10, 10], method)
    assert np.isnan(low[[0, 2, 3, 4]]).all() and np.isnan(high[[0, 2, 3, 4]]).all()
    assert np.isfinite(low[1]) and np.isfinite(high[1])


@pytest.mark.parametrize("method", METHODS)
def test_input_types_agree(method):
    x, n = [0, 3, 49, 50], [50, 50, 50, 50]
    want = proportion_ci(np.array(x), np.array(n), method)
    scalar = [proportion_ci(xi, ni, method) for xi, ni in zip(x, n)]
    assert all(type(v) is float for pair in scalar for v in pair)
    np.testing.assert_array_equal(want[0], [s[0] for s in scalar])
    np.testing.assert_array_equal(want[1], [s[1] for s in scalar])
    for args in [(x, n), (pd.Series(x), pd.Series(n)), (pd.Series(x, dtype="Int64"), 50), (np.array(x), 50)]:
        got = proportion_ci(*args, method=method)
        assert isinstance(got[0], np.ndarray) and isinstance(got[1], np.ndarray)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_broadcasting_shape():
    low, high = proportion_ci(np.arange(11)[:, None], np.array([10, 20, 30]))
    assert low.shape == high.shape == (11, 3)


@pytest.mark.parametrize("method", METHODS)
def test_fractional_counts_between_neighbours(method):
    # Effective counts (r * n_eff) are fractional; the bounds must sit between
    # those of the neighbouring integer counts.
    lo_a, hi_a = proportion_ci(40, 50, method)
    lo_f, hi_f = proportion_ci(40.5, 50, method)
    lo_b, hi_b = proportion_ci(41, 50, method)
    assert lo_a < lo_f < lo_b and hi_a < hi_f < hi_b
    low, high = proportion_ci(0.97 * 123.4, 123.4, method)
    assert 0 < low < 0.97 < high <= 1


def test_fractional_clopper_pearson_is_beta_quantile():
    x, n = 37.25, 41.5
    low, high = proportion_ci(x, n, "clopper-pearson", 0.9)
    assert low == pytest.approx(stats.beta.ppf(0.05, x, n - x + 1), rel=1e-12)
    assert high == pytest.approx(stats.beta.ppf(0.95, x + 1, n - x), rel=1e-12)


def test_bad_method_lists_methods():
    with pytest.raises(ValueError, match="wilson, clopper-pearson, jeffreys, wald"):
        proportion_ci(1, 2, method="agresti")


@pytest.mark.parametrize("confidence", [0, 1, -0.5, 95])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError, match="confidence"):
        proportion_ci(1, 2, confidence=confidence)
