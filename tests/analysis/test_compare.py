import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.compare import compare_rounds, newcombe_difference_ci
from analysis.rates import add_indicator_rates

# ----------------------------------------------------------------------------- Newcombe interval


def test_newcombe_matches_statsmodels_over_a_grid():
    x1, n1, x2, n2 = [], [], [], []
    for a in (1, 7, 30, 120):
        for b in (1, 9, 50, 400):
            for i in sorted({0, 1, a // 2, a - 1, a}):
                for j in sorted({0, 1, b // 3, b - 1, b}):
                    x1.append(i), n1.append(a), x2.append(j), n2.append(b)
    x1, n1, x2, n2 = map(np.asarray, (x1, n1, x2, n2))
    for conf in (0.9, 0.95, 0.99):
        d, low, high = newcombe_difference_ci(x1, n1, x2, n2, confidence=conf)
        # statsmodels returns the interval for count1/nobs1 - count2/nobs2, so the
        # later round goes first to get p2 - p1.
        ref_low, ref_high = confint_proportions_2indep(
            x2, n2, x1, n1, method="newcomb", compare="diff", alpha=1 - conf)
        np.testing.assert_allclose(d, x2 / n2 - x1 / n1, rtol=0, atol=1e-15)
        np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-9)
        np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-9)


def test_newcombe_matches_statsmodels_for_effective_counts():
    rng = np.random.default_rng(1)
    n1, n2 = rng.uniform(20, 900, 50), rng.uniform(20, 900, 50)
    x1, x2 = n1 * rng.uniform(0.7, 1.0, 50), n2 * rng.uniform(0.7, 1.0, 50)
    _, low, high = newcombe_difference_ci(x1, n1, x2, n2)
    ref_low, ref_high = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff")
    np.testing.assert_allclose(low, ref_low, atol=1e-9)
    np.testing.assert_allclose(high, ref_high, atol=1e-9)


# Newcombe, R. G. (1998). Interval estimation for the difference between independent
# proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890,
# Table II, method 10 (score interval, no continuity correction), for p1 - p2 with
# (x1/n1, x2/n2) as printed there; values to 4 decimals as published.
NEWCOMBE_TABLE_II_METHOD_10 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),   # difference 0.2000
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II_METHOD_10)
def test_newcombe_reproduces_the_published_table(counts, published):
    a, m, b, n = counts
    # The paper's p1 - p2 is our "after - before" with after = (a, m).
    d, low, high = newcombe_difference_ci(b, n, a, m)
    assert d == pytest.approx(a / m - b / n, abs=1e-15)
    assert round(low, 4) == published[0]
    assert round(high, 4) == published[1]


def _wilson_roots(x, n, z):
    """Wilson limits as the roots of (p - x/n)^2 = z^2 p (1 - p) / n, solved from scratch."""
    a = 1 + z * z / n
    b = -(2 * x / n + z * z / n)
    c = (x / n) ** 2
    disc = np.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


def test_newcombe_example_a_in_detail():
    d, low, high = newcombe_difference_ci(48, 80, 56, 70)
    assert d == pytest.approx(0.2, abs=1e-15)  # 0.8 - 0.6 (the paper's example (a))
    z = 1.959963984540054
    l1, u1 = _wilson_roots(48, 80, z)
    l2, u2 = _wilson_roots(56, 70, z)
    assert low == pytest.approx(0.2 - np.hypot(0.8 - l2, u1 - 0.6), abs=1e-12)
    assert high == pytest.approx(0.2 + np.hypot(u2 - 0.8, 0.6 - l1), abs=1e-12)
    assert (low, high) == pytest.approx((0.052431, 0.333873), abs=1e-6)


def test_newcombe_scalars_arrays_and_invalid_cells():
    d, low, high = newcombe_difference_ci(99, 100, 100, 100)
    assert isinstance(low, float) and low < 0 < high and -1 <= low and high <= 1
    d, low, high = newcombe_difference_ci([5, 5], [0, 10], [3, 3], [10, 10])
    assert np.isnan(d[0]) and np.isnan(low[0]) and np.isnan(high[0])
    assert np.isfinite(low[1])
    # A swap of the rounds mirrors the interval.
    d1, l1, h1 = newcombe_difference_ci(40, 50, 90, 100)
    d2, l2, h2 = newcombe_difference_ci(90, 100, 40, 50)
    assert (d1, l1, h1) == pytest.approx((-d2, -h2, -l2), abs=1e-15)


# ----------------------------------------------------------------------------- compare_rounds


def _round(rows):
    return pd.DataFrame(rows, columns=["level", "area_id", "indicator", "positive", "valid"])


def test_compare_rounds_items_from_counts():
    before = _round([
        ("district", 1, "satisfaction", 180, 200),
        ("district", 2, "satisfaction", 190, 200),
        ("district", 3, "satisfaction", 150, 160),
        ("district", 4, "satisfaction", 90, 100),
    ])
    after = _round([
        ("district", 1, "satisfaction", 197, 200),   # clearly up
        ("district", 2, "satisfaction", 160, 200),   # clearly down
        ("district", 3, "satisfaction", 151, 160),   # no evidence
        ("district", 5, "satisfaction", 50, 50),     # new area
    ])
    out = compare_rounds(before, after).set_index("area_id")
    assert list(out.index) == [1, 2, 3, 4, 5]
    assert out.loc[1, "direction"] == "up" and out.loc[1, "significant"]
    assert out.loc[2, "direction"] == "down" and out.loc[2, "significant"]
    assert out.loc[3, "direction"] == "none" and not out.loc[3, "significant"]
    assert out.loc[1, "change"] == pytest.approx(197 / 200 - 180 / 200)
    d, low, high = newcombe_difference_ci(180, 200, 197, 200)
    assert (out.loc[1, "ci_low"], out.loc[1, "ci_high"]) == pytest.approx((low, high), rel=1e-14)
    for area, present in ((4, "rate_before"), (5, "rate_after")):
        row = out.loc[area]
        assert np.isfinite(row[present])
        assert np.isnan(row["change"]) and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
        assert not row["significant"] and row["direction"] == "none"
    assert out["significant"].dtype == bool


def _indicator_round(rng, n, items, p):
    """Pooled indicator sums for one area with strongly correlated items."""
    prop = rng.beta(p * 2.0, (1 - p) * 2.0, size=n)
    pos = (rng.random((n, items)) < prop[:, None]).sum(axis=1).astype(float)
    x = np.full(n, float(items))
    return {"respondents": n, "valid": x.sum(), "positive": pos.sum(), "valid_sq": (x * x).sum(),
            "positive_sq": (pos * pos).sum(), "valid_positive": (x * pos).sum()}


def test_compare_rounds_uses_effective_counts_for_indicators():
    rng = np.random.default_rng(9)
    keys = {"level": "district", "area_id": 1, "indicator": "satisfaction"}
    before = add_indicator_rates(pd.DataFrame([{**keys, **_indicator_round(rng, 150, 8, 0.85)}]))
    after = add_indicator_rates(pd.DataFrame([{**keys, **_indicator_round(rng, 150, 8, 0.90)}]))
    out = compare_rounds(before, after).iloc[0]
    b, a = before.iloc[0], after.iloc[0]
    assert b["n_eff"] < b["valid"]  # correlated items: fewer than one unit per answer
    d, low, high = newcombe_difference_ci(b["rate"] * b["n_eff"], b["n_eff"], a["rate"] * a["n_eff"], a["n_eff"])
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((low, high), rel=1e-12)
    assert out["n_before"] == pytest.approx(b["n_eff"])
    assert out["change"] == pytest.approx(a["rate"] - b["rate"], abs=1e-15)
    # Treating every answer as independent would give a narrower interval.
    _, nl, nh = newcombe_difference_ci(b["positive"], b["valid"], a["positive"], a["valid"])
    assert nh - nl < high - low


def test_compare_rounds_rejects_duplicate_keys():
    before = _round([("district", 1, "support", 9, 10), ("district", 1, "support", 8, 10)])
    with pytest.raises(ValueError, match="duplicate"):
        compare_rounds(before, before.iloc[:1])


def test_compare_rounds_custom_keys_and_empty_round():
    before = pd.DataFrame({"area_id": [1, 2], "item": ["q1", "q1"], "positive": [0, 10], "valid": [0, 10]})
    after = pd.DataFrame({"area_id": [1, 2], "item": ["q1", "q1"], "positive": [5, 10], "valid": [10, 10]})
    out = compare_rounds(before, after, keys=("area_id", "item"))
    assert list(out.columns[:2]) == ["area_id", "item"]
    assert np.isnan(out.loc[0, "rate_before"]) and not out.loc[0, "significant"]
    assert out.loc[1, "change"] == 0 and out.loc[1, "direction"] == "none"
