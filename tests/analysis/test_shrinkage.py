import numpy as np
import pandas as pd
import pytest

from analysis.shrinkage import empirical_bayes_shrinkage


def _siblings():
    positive = np.array([9.0, 18.0, 40.0, 0.0, 950.0, 27.0])
    valid = np.array([12.0, 20.0, 50.0, 0.0, 1000.0, 30.0])
    return positive, valid, positive.sum(), valid.sum()


def test_prior_strength_is_the_moment_estimator_computed_by_hand():
    x = np.array([30.0, 45.0, 18.0, 80.0])
    n = np.array([40.0, 50.0, 30.0, 90.0])
    out = empirical_bayes_shrinkage(x, n, x.sum(), n.sum())
    # Hand computation of the ANOVA-type estimator of rho, then M = 1/rho - 1.
    N, k = n.sum(), 4
    pbar = x.sum() / N
    S = sum(ni * (xi / ni - pbar) ** 2 for xi, ni in zip(x, n))
    rho = (S / (pbar * (1 - pbar)) - (k - 1)) / (N - (n**2).sum() / N - (k - 1))
    assert 0 < rho < 1
    assert out["prior_strength"].iloc[0] == pytest.approx(1 / rho - 1, rel=1e-12)
    assert out["prior_estimated"].all()
    m = 1 / rho - 1
    assert np.allclose(out["rate_shrunk"], (x + m * pbar) / (n + m), rtol=1e-13)


def test_shrunken_rates_lie_between_raw_and_parent_rate():
    x, n, px, pn = _siblings()
    out = empirical_bayes_shrinkage(x, n, px, pn)
    parent = px / pn
    has = n > 0
    lo = np.minimum(out["rate_raw"], parent)[has]
    hi = np.maximum(out["rate_raw"], parent)[has]
    assert np.all(out["rate_shrunk"][has] >= lo - 1e-15) and np.all(out["rate_shrunk"][has] <= hi + 1e-15)
    # Strictly inside for areas whose raw rate differs from the parent's.
    moved = has & (np.abs(out["rate_raw"] - parent) > 1e-12)
    assert np.all((out["rate_shrunk"] - out["rate_raw"])[moved] != 0)


def test_large_areas_barely_move_and_small_ones_move_most():
    x, n, px, pn = _siblings()
    out = empirical_bayes_shrinkage(x, n, px, pn)
    parent = px / pn
    frac = (out["rate_raw"] - out["rate_shrunk"]) / (out["rate_raw"] - parent)  # = shrinkage weight
    big = int(np.argmax(n))
    assert frac[big] == pytest.approx(out["shrinkage"][big], rel=1e-12)
    assert out["shrinkage"][big] < 0.05
    assert abs(out["rate_shrunk"][big] - out["rate_raw"][big]) < 0.05 * abs(out["rate_raw"][big] - parent)
    small = int(np.argmin(np.where(n > 0, n, np.inf)))
    assert out["shrinkage"][small] > out["shrinkage"][big]


def test_area_without_answers_gets_the_parent_rate():
    x, n, px, pn = _siblings()
    out = empirical_bayes_shrinkage(x, n, px, pn)
    assert np.isnan(out["rate_raw"][3])
    assert out["rate_shrunk"][3] == pytest.approx(px / pn, rel=1e-15)
    # Also when the prior strength is 0 (no shrinkage at all).
    zero = empirical_bayes_shrinkage(x, n, px, pn, max_prior_strength=0.0)
    assert zero["rate_shrunk"][3] == pytest.approx(px / pn, rel=1e-15)
    assert np.allclose(zero["rate_shrunk"][n > 0], (x / np.where(n > 0, n, 1))[n > 0])


def test_alike_siblings_fall_back_to_a_strong_prior():
    # Identical rates: the spread is below binomial noise, rho <= 0.
    x = np.array([18.0, 27.0, 36.0, 45.0])
    n = np.array([20.0, 30.0, 40.0, 50.0])
    out = empirical_bayes_shrinkage(x, n, 200.0, 230.0)
    assert not out["prior_estimated"].any()
    assert np.all(out["prior_strength"] == n.sum())
    # Shrunk towards the parent (0.8696), away from the common raw 0.9.
    assert np.all(out["rate_shrunk"] < 0.9) and np.all(out["rate_shrunk"] > 200 / 230)
    custom = empirical_bayes_shrinkage(x, n, 200.0, 230.0, max_prior_strength=1e4)
    assert np.all(custom["prior_strength"] == 1e4)
    # All siblings at 100 %: p(1-p) = 0, nothing to estimate from.
    full = empirical_bayes_shrinkage(n, n, 140.0, 140.0)
    assert not full["prior_estimated"].any() and np.allclose(full["rate_shrunk"], 1.0)


def test_parent_labels_estimate_one_prior_per_parent_and_keep_the_index():
    positive = pd.Series([9.0, 18.0, 40.0, 27.0, 10.0, 12.0, 30.0], index=list("abcdefg"))
    valid = pd.Series([10.0, 20.0, 50.0, 30.0, 20.0, 30.0, 40.0], index=list("abcdefg"))
    parent = np.array(["s1", "s1", "s1", "s1", "s2", "s2", "s2"])
    p_pos = positive.groupby(parent).transform("sum")
    p_val = valid.groupby(parent).transform("sum")
    out = empirical_bayes_shrinkage(positive, valid, p_pos, p_val, parent=parent)
    assert list(out.index) == list("abcdefg")
    for label in ("s1", "s2"):
        rows = parent == label
        alone = empirical_bayes_shrinkage(positive[rows], valid[rows], p_pos[rows].iloc[0], p_val[rows].iloc[0])
        assert np.allclose(out.loc[rows, "rate_shrunk"], alone["rate_shrunk"], rtol=1e-14)
        assert np.allclose(out.loc[rows, "prior_strength"], alone["prior_strength"], rtol=1e-14)


def test_shrinkage_reduces_mean_squared_error_for_small_areas():
    rng = np.random.default_rng(20240601)
    mu, strength = 0.9, 60.0
    err_raw, err_shrunk, estimates = [], [], []
    for _ in range(200):  # streets, each with 15 small communities
        k = 15
        p_true = rng.beta(mu * strength, (1 - mu) * strength, size=k)
        n = rng.integers(8, 40, size=k).astype(float)
        x = rng.binomial(n.astype(int), p_true).astype(float)
        out = empirical_bayes_shrinkage(x, n, x.sum(), n.sum())
        err_raw.append((out["rate_raw"] - p_true) ** 2)
        err_shrunk.append((out["rate_shrunk"] - p_true) ** 2)
        estimates.append(out["prior_strength"].iloc[0])
    mse_raw, mse_shrunk = np.mean(np.concatenate(err_raw)), np.mean(np.concatenate(err_shrunk))
    assert mse_shrunk < 0.7 * mse_raw
    # The moment estimator is noisy per street (and 1/rho - 1 is biased upwards),
    # but it lands on the right order of magnitude.
    assert 20 < np.median(estimates) < 200


def test_invalid_counts_are_rejected():
    with pytest.raises(ValueError, match="positive <= valid"):
        empirical_bayes_shrinkage([5.0], [4.0], 10.0, 20.0)
