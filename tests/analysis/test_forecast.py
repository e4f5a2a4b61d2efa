"""The forecast of the official evaluation against scipy's beta-binomial and Monte Carlo simulation."""

from decimal import Decimal, getcontext

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.forecast import PRIORS, official_forecast, official_sample_sizes, pass_probability, weak_item_gains
from analysis.ranking import weak_items
from analysis.rollup import round_results

CASES = [  # successes, n, official m, target
    (291.0, 300.0, 600, 0.95), (297.5, 300.0, 600, 0.99), (300.0, 300.0, 600, 0.99),
    (985.3, 1000.0, 2400, 0.99), (38.0, 40.0, 120, 0.95), (2950.0, 3000.0, 6000, 0.99),
    (180.0, 200.0, 600, 0.80), (0.0, 50.0, 100, 0.5), (49.2, 50.0, 1, 0.99),
]


@pytest.mark.parametrize("prior", list(PRIORS))
@pytest.mark.parametrize("successes,n,m,target", CASES)
def test_pass_probability_equals_scipy_betabinom(successes, n, m, target, prior):
    a0, b0 = PRIORS[prior]
    a, b = a0 + successes, b0 + n - successes
    k_star = int(np.ceil(target * m - 1e-9))
    expected = stats.betabinom.sf(k_star - 1, m, a, b)
    got = pass_probability(successes, n, m, target, prior)
    # scipy's own tail loses about 1e-9 of its value at m = 6,000 (see the exact sum below).
    assert got == pytest.approx(expected, rel=1e-8, abs=1e-13)
    assert got == pytest.approx(_exact_tail(a, b, m, k_star), rel=1e-10, abs=1e-15)


def _exact_tail(a, b, m, k_star):
    """P(K >= k*) in 50-digit decimals from the pmf's ratio p(k+1)/p(k), normalised by the total."""
    getcontext().prec = 50
    a, b = Decimal(repr(a)), Decimal(repr(b))
    weights = [Decimal(1)]
    for k in range(m):
        weights.append(weights[-1] * (m - k) / (k + 1) * (k + a) / (m - k - 1 + b))
    return float(sum(weights[k_star:]) / sum(weights))


def test_target_reached_exactly_counts_as_met():
    # 0.99 * 600 = 593.99999…: 594 of 600 reach 99 %, so k* is 594, not 595.
    a, b = 0.5 + 297.0, 0.5 + 3.0
    assert pass_probability(297.0, 300.0, 600, 0.99) == pytest.approx(stats.betabinom.sf(593, 600, a, b), rel=1e-10)


@pytest.mark.parametrize("successes,n,m,target", CASES[:6])
def test_pass_probability_matches_monte_carlo(successes, n, m, target):
    # Independent: draw the true rate from the posterior, then the official sample from it.
    rng = np.random.default_rng(14)
    draws = 200_000
    p = rng.beta(0.5 + successes, 0.5 + n - successes, draws)
    official = rng.binomial(m, p)
    simulated = np.mean(official / m >= target - 1e-12)
    expected = pass_probability(successes, n, m, target)
    se = np.sqrt(max(expected * (1 - expected), 1e-6) / draws)
    assert abs(simulated - expected) < 5 * se


def test_pass_probability_is_vectorised_and_handles_missing_targets():
    s = np.array([c[0] for c in CASES])
    n = np.array([c[1] for c in CASES])
    m = np.array([c[2] for c in CASES])
    t = np.array([c[3] for c in CASES])
    got = pass_probability(s, n, m, t)
    singles = [pass_probability(*c) for c in CASES]
    np.testing.assert_allclose(got, singles, rtol=0, atol=0)
    assert np.isnan(pass_probability(10, 20, 100, np.nan))
    assert np.isnan(pass_probability(10, 20, 0, 0.5))
    with pytest.raises(ValueError):
        pass_probability(21, 20, 100, 0.5)
    with pytest.raises(ValueError, match="prior"):
        pass_probability(1, 2, 3, 0.5, prior="haldane")


def test_a_better_mock_round_never_lowers_the_probability():
    n = 300.0
    probabilities = pass_probability(np.linspace(280, 300, 81), n, 600, 0.99)
    assert np.all(np.diff(probabilities) >= -1e-12)
    # More official interviews sharpen the forecast: below 50 % it falls, above it rises.
    assert pass_probability(290, 300, 6000, 0.99) < pass_probability(290, 300, 600, 0.99)
    assert pass_probability(299, 300, 6000, 0.95) > pass_probability(299, 300, 600, 0.95)


# ----------------------------------------------------------------------------- tables


def _round():
    """Two districts, one community each; awareness pools two items."""
    areas = pd.DataFrame({
        "id": [1, 2, 11, 12, 101, 102], "code": ["D1", "D2", "S1", "S2", "C1", "C2"],
        "name_zh": ["甲区", "乙区", "甲街", "乙街", "甲社区", "乙社区"], "name_en": ["A", "B", "SA", "SB", "CA", "CB"],
        "level": ["district", "district", "street", "street", "community", "community"],
        "parent_id": [None, None, 1, 2, 11, 12], "street_id": [None, None, None, None, 11, 12],
        "district_id": [None, None, 1, 2, 1, 2],
    })

    def rows(community, respondents, k1, k2):
        # every respondent answers both items; x = 2, y in {0, 1, 2}; items independent here
        y = np.r_[np.ones(k1), np.zeros(respondents - k1)] + np.r_[np.ones(k2), np.zeros(respondents - k2)][::-1]
        pooled = [community, "awareness", "", respondents, 2 * respondents, y.sum(), 4 * respondents,
                  (y * y).sum(), 2 * y.sum()]
        item1 = [community, "awareness", "a1", respondents, respondents, k1, respondents, k1, k1]
        item2 = [community, "awareness", "a2", respondents, respondents, k2, respondents, k2, k2]
        return [pooled, item1, item2]

    tally = pd.DataFrame(rows(101, 300, 297, 280) + rows(102, 100, 99, 98),
                         columns=["community_id", "indicator", "item", "respondents", "valid", "positive",
                                  "valid_sq", "positive_sq", "valid_positive"])
    return round_results(tally, areas, {"awareness": 0.95})


def test_official_sample_is_shared_by_the_districts_respondents():
    results = _round()
    rows = results.indicators[results.indicators["level"].isin(["city", "district"])].reset_index(drop=True)
    assert official_sample_sizes(rows, 600).tolist() == [600, 450, 150]
    with pytest.raises(ValueError, match="official sample size"):
        official_sample_sizes(rows, 0)


def test_official_forecast_uses_the_effective_counts():
    results = _round()
    forecast = official_forecast(results.indicators, 600)
    assert list(forecast["level"]) == ["city", "district", "district"]
    for row in forecast.itertuples():
        m = round(row.official_n * row.n_eff / row.respondents)
        assert row.official_n_eff == m
        expected = stats.betabinom.sf(np.ceil(0.95 * m - 1e-9) - 1, m, 0.5 + row.rate * row.n_eff,
                                      0.5 + (1 - row.rate) * row.n_eff)
        assert row.pass_probability == pytest.approx(expected, rel=1e-9)
    assert 0 < forecast["pass_probability"].min() and forecast["pass_probability"].max() < 1


def test_weak_item_gain_is_the_probability_with_that_item_at_target():
    results = _round()
    forecast = official_forecast(results.indicators, 600)
    gains = weak_item_gains(forecast, weak_items(results.items, results.indicators))
    # Only item a2 of district 1 (280/300 = 93.3 %) and of the city (378/400) is below 95 %.
    assert set(gains["item"]) == {"a2"}
    row = gains[gains["level"] == "district"].iloc[0]
    base = forecast[(forecast["level"] == "district") & (forecast["area_id"] == 1)].iloc[0]
    new_rate = base["rate"] + 0.5 * (0.95 - 280 / 300)
    expected = pass_probability(new_rate * base["n_eff"], base["n_eff"], base["official_n_eff"], 0.95)
    assert row["probability_if_met"] == pytest.approx(expected, rel=1e-12)
    assert row["gain"] == pytest.approx(expected - base["pass_probability"], rel=1e-12)
    assert row["gain"] > 0


def test_official_sample_follows_given_shares():
    results = _round()
    rows = results.indicators[results.indicators["level"].isin(["city", "district"])].reset_index(drop=True)
    assert official_sample_sizes(rows, 1000, shares={1: 0.5, 2: 0.5}).tolist() == [1000, 500, 500]
    # A district without a share gets no official interviews and no forecast.
    forecast = official_forecast(results.indicators, 1000, shares={1: 1.0})
    assert forecast["official_n"].tolist() == [1000, 1000, 0]
    assert np.isnan(forecast["pass_probability"].iloc[2])


def test_the_example_in_the_methods_docs():
    # docs/methods.*.md, "Forecast of the official evaluation": 300 respondents × 8 items, 99.2 %.
    assert f"{pass_probability(0.992 * 2400, 2400, 4800, 0.99):.0%}" == "81%"
    assert f"{pass_probability(0.992 * 2400, 2400, 4800, 0.99, 'uniform'):.0%}" == "78%"
    assert f"{pass_probability((0.992 + (0.99 - 0.96) / 8) * 2400, 2400, 4800, 0.99):.1%}" == "99.7%"
    assert f"{pass_probability(0.992 * 300, 300, 600, 0.99):.0%}" == "64%"
