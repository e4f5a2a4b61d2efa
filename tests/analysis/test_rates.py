import numpy as np
import pandas as pd
import pytest

from analysis.rates import RHO_PRIOR_WEIGHT, within_respondent_correlation
from analysis.rollup import SUMS
from analysis import (
    METHODS,
    add_indicator_rates,
    add_item_rates,
    proportion_ci,
    verdicts,
)


def _respondents(n, items, p, rho, rng):
    """Per-respondent answers to `items` items sharing a latent propensity.

    A respondent-level beta propensity with intra-class correlation `rho`
    makes a respondent's answers positively correlated, as when one
    satisfied resident ticks 满意 on every item.
    """
    a = p * (1 - rho) / rho
    b = (1 - p) * (1 - rho) / rho
    prop = rng.beta(a, b, size=n)
    answered = rng.random((n, items)) < 0.9  # some 说不清 answers are not valid
    answered[:, 0] = True
    positive = (rng.random((n, items)) < prop[:, None]) & answered
    return answered.sum(axis=1).astype(float), positive.sum(axis=1).astype(float)


def _sums(x, y):
    return {
        "respondents": int((x > 0).sum()), "valid": x.sum(), "positive": y.sum(),
        "valid_sq": (x * x).sum(), "positive_sq": (y * y).sum(), "valid_positive": (x * y).sum(),
    }


@pytest.fixture(scope="module")
def groups():
    rng = np.random.default_rng(7)
    raw = {}
    for g, (n, items, p, rho) in enumerate([(200, 8, 0.9, 0.3), (150, 5, 0.95, 0.4), (1000, 3, 0.8, 0.2)]):
        raw[g] = _respondents(n, items, p, rho, rng)
    df = pd.DataFrame([{"group": g, **_sums(x, y)} for g, (x, y) in raw.items()])
    return raw, df


def test_indicator_rate_and_variance_match_direct_computation(groups):
    raw, df = groups
    out = add_indicator_rates(df)
    for g, (x, y) in raw.items():
        row = out.loc[out["group"] == g].iloc[0]
        n = x.size
        r = y.sum() / x.sum()
        # Ratio-estimator variance from the per-respondent residuals, computed directly.
        v = n / (n - 1) * np.sum((y - r * x) ** 2) / x.sum() ** 2
        assert row["rate"] == pytest.approx(r, rel=1e-12)
        assert row["se"] ** 2 == pytest.approx(v, rel=1e-9)
        # Same variance as the textbook form s^2_d / (n xbar^2), d_i = y_i - r x_i.
        d = y - r * x
        assert row["se"] ** 2 == pytest.approx(np.var(d, ddof=1) / (n * x.mean() ** 2), rel=1e-9)


def test_indicator_variance_matches_statsmodels_ratio_via_sandwich(groups):
    # Independent route: OLS of y on x without intercept has slope Σxy/Σx²,
    # not our ratio; instead use WLS with weights 1/x, whose slope is Σy/Σx,
    # and its HC0 sandwich variance Σ(y - r x)^2 / (Σx)^2.
    import statsmodels.api as sm

    raw, df = groups
    out = add_indicator_rates(df)
    for g, (x, y) in raw.items():
        fit = sm.WLS(y, x, weights=1.0 / x).fit(cov_type="HC0")
        n = x.size
        row = out.loc[out["group"] == g].iloc[0]
        assert row["rate"] == pytest.approx(fit.params[0], rel=1e-10)
        assert row["se"] ** 2 == pytest.approx(fit.cov_params()[0, 0] * n / (n - 1), rel=1e-8)


def test_positively_correlated_items_have_deff_above_one(groups):
    raw, df = groups
    out = add_indicator_rates(df)
    # The round's correlation, computed here straight from the respondents (residuals within each group).
    a = b = 0.0
    for x, y in raw.values():
        p, n = y.sum() / x.sum(), x.size
        a += n / (n - 1) * np.sum((y - p * x) ** 2) - p * (1 - p) * x.sum()
        b += p * (1 - p) * np.sum(x * (x - 1))
    rho = (a + RHO_PRIOR_WEIGHT) / (b + RHO_PRIOR_WEIGHT)
    assert 0.15 < rho < 0.45  # the groups were drawn with correlations 0.2 to 0.4
    assert within_respondent_correlation(*(df[c] for c in SUMS)) == pytest.approx(rho, rel=1e-9)
    for g, (x, y) in raw.items():
        row = out.loc[out["group"] == g].iloc[0]
        r = row["rate"]
        assert row["deff"] == pytest.approx(1 + (x.sum() / x.size - 1) * rho, rel=1e-9)
        assert row["n_eff"] == pytest.approx(x.sum() / row["deff"], rel=1e-12)
        assert x.size <= row["n_eff"] <= x.sum()
        low, high = proportion_ci(r * row["n_eff"], row["n_eff"])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-15)
    # Strongly clustered answers give a wider interval than counting answers as independent.
    naive = add_item_rates(df)
    assert ((out["ci_high"] - out["ci_low"]) > (naive["ci_high"] - naive["ci_low"])).all()


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6])
def test_correlation_estimate_recovers_the_simulated_one(rho):
    # Reference: the correlation the answers were drawn with (beta-binomial, 5 items, rate 0.9).
    rng = np.random.default_rng(11)
    n, m = 20000, 5
    if rho == 0:
        y = rng.binomial(m, 0.9, n).astype(float)
    else:
        scale = (1 - rho) / rho
        y = rng.binomial(m, rng.beta(0.9 * scale, 0.1 * scale, n)).astype(float)
    x = np.full(n, float(m))
    assert within_respondent_correlation(*_sums(x, y).values()) == pytest.approx(rho, abs=0.02)


def test_n_eff_between_respondents_and_valid():
    # Perfect clustering: each respondent answers 4 items all alike -> rho = 1, deff = 4 = items per respondent.
    x = np.full(100, 4.0)
    y = np.where(np.arange(100) < 90, 4.0, 0.0)
    out = add_indicator_rates(pd.DataFrame([_sums(x, y)])).iloc[0]
    assert out["rate"] == 0.9
    assert out["n_eff"] == pytest.approx(100)
    assert out["deff"] == pytest.approx(4.0)
    # Negative clustering: every respondent 3 of 4 positive -> rho < 0 is taken as 0, n_eff = Σx.
    y = np.full(100, 3.0)
    out = add_indicator_rates(pd.DataFrame([_sums(x, y)])).iloc[0]
    assert out["se"] == 0
    assert out["n_eff"] == pytest.approx(400) and out["deff"] == pytest.approx(1.0)
    # A given correlation is used as it is: 1/n_eff = (1 - rho)/Σx + rho/n.
    out = add_indicator_rates(pd.DataFrame([_sums(x, y)]), rho=0.5).iloc[0]
    assert out["n_eff"] == pytest.approx(1 / (0.5 / 400 + 0.5 / 100))


def test_rate_one_without_information_counts_each_respondent_once():
    # No negative answer anywhere: the data say nothing about the correlation, so rho = 1.
    x = np.array([3.0, 2.0, 3.0, 1.0])
    out = add_indicator_rates(pd.DataFrame([_sums(x, x), _sums(x[:1], x[:1])]))
    assert list(out["rate"]) == pytest.approx([1.0, 1.0])
    assert list(out["n_eff"]) == pytest.approx([4, 1])
    assert out["deff"].tolist() == pytest.approx([9 / 4, 3.0])
    assert np.isnan(out["se"].iloc[1])
    low, high = proportion_ci(4, 4)
    assert (out["ci_low"].iloc[0], out["ci_high"].iloc[0]) == pytest.approx((low, high))


def test_one_negative_answer_moves_n_eff_continuously():
    # Issue 14: 300 respondents × 10 items; all positive gave n_eff 300, one negative 2,999.
    x = np.full(300, 10.0)
    y_all = x.copy()
    y_one = x.copy()
    y_one[0] = 9.0
    rho = 0.3
    both = add_indicator_rates(pd.DataFrame([_sums(x, y_all), _sums(x, y_one)]), "clopper-pearson", 0.9, rho=rho)
    assert both["n_eff"].iloc[0] == both["n_eff"].iloc[1] == pytest.approx(1 / (0.7 / 3000 + 0.3 / 300))
    assert both["ci_low"].iloc[0] > both["ci_low"].iloc[1]


def test_empty_group_is_nan():
    empty = {k: 0 for k in ("respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive")}
    out = add_indicator_rates(pd.DataFrame([empty])).iloc[0]
    assert np.isnan(out["rate"]) and np.isnan(out["ci_low"]) and np.isnan(out["ci_high"])
    assert out["n_eff"] == 0
    items = add_item_rates(pd.DataFrame({"valid": [0, 10], "positive": [0, 9], "q": ["a", "b"]}))
    assert np.isnan(items["rate"].iloc[0]) and np.isnan(items["ci_low"].iloc[0])
    assert items["rate"].iloc[1] == 0.9 and list(items["q"]) == ["a", "b"]


@pytest.mark.parametrize("method", METHODS)
def test_item_rates_are_proportion_ci(method):
    df = pd.DataFrame({"valid": [50, 200, 3], "positive": [49, 180, 3]})
    out = add_item_rates(df, method, 0.9)
    low, high = proportion_ci(df["positive"], df["valid"], method, 0.9)
    np.testing.assert_array_equal(out["ci_low"], low)
    np.testing.assert_array_equal(out["ci_high"], high)
    assert "rate" not in df.columns  # a copy, the input is untouched


def test_verdict_truth_table():
    nan = np.nan
    low = [0.96, 0.95, 0.90, 0.90, 0.80, nan, 0.96, nan]
    high = [0.99, 0.99, 0.99, 0.95, 0.949, nan, 0.99, nan]
    target = [0.95, 0.95, 0.95, 0.95, 0.95, 0.95, None, None]
    assert list(verdicts(low, high, target)) == [
        "met", "met", "undecided", "undecided", "not_met", "no_data", "no_target", "no_data",
    ]
    assert verdicts(0.96, 0.99, 0.95) == "met"
    assert verdicts(0.9, 0.99, None) == "no_target"
    assert list(verdicts(np.array([0.96, 0.9]), np.array([0.99, 0.94]), 0.95)) == ["met", "not_met"]
    assert list(verdicts(pd.Series([0.96]), pd.Series([0.99]), pd.Series([0.99]))) == ["undecided"]
