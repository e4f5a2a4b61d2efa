"""Extra interviews to settle a verdict and interviews to plan (analysis.sample_size), against brute force."""

import numpy as np
import pytest
from scipy import stats

from analysis import METHODS, proportion_ci
from analysis.sample_size import extra_interviews_needed, required_sample_size


def _interval_after(rate, n_eff, resp, m, method="wilson", confidence=0.95):
    n_new = n_eff / resp * (resp + m)
    return proportion_ci(rate * n_new, n_new, method, confidence)


@pytest.mark.parametrize("method", METHODS)
def test_extra_interviews_settle_exactly(method):
    rate = np.array([0.97, 0.93, 0.99, 0.96, 0.951, 0.9])
    n_eff = np.array([150.0, 300.0, 80.0, 500.0, 1000.0, 40.0])
    resp = np.array([100, 150, 80, 200, 400, 30])
    target = 0.95
    m = extra_interviews_needed(rate, n_eff, resp, target, method)
    assert m.shape == rate.shape
    for i in range(rate.size):
        settled = lambda k: (  # noqa: E731
            _interval_after(rate[i], n_eff[i], resp[i], k, method)[0] >= target
            if rate[i] > target
            else _interval_after(rate[i], n_eff[i], resp[i], k, method)[1] < target
        )
        assert np.isfinite(m[i]) and m[i] == int(m[i])
        assert settled(m[i])
        if m[i] > 0:
            assert not settled(m[i] - 1)


def test_extra_interviews_edge_cases():
    # Decided now, rate equal to target, no data, no target, beyond the cap.
    got = extra_interviews_needed(
        [0.99, 0.95, np.nan, 0.97, 0.9500001], [5000, 100, 0, 100, 100], [5000, 100, 0, 100, 100],
        [0.95, 0.95, 0.95, np.nan, 0.95],
    )
    assert got[0] == 0
    assert np.isnan(got[1:]).all()
    assert isinstance(extra_interviews_needed(0.97, 100, 100, 0.95), float)
    # Per-respondent effective size matters: clustered answers need more people.
    a = extra_interviews_needed(0.97, 300, 100, 0.95)
    b = extra_interviews_needed(0.97, 100, 100, 0.95)
    assert a < b


def test_required_sample_size_zero_failures_rule():
    # Hanley & Lippman-Hand (1983): with no failures the one-sided exact bound
    # is alpha^(1/n); 0.05^(1/n) >= 0.99 first at n = 299.
    assert required_sample_size(1.0, 0.99, 0.95, "clopper-pearson", sided="one") == 299
    assert 0.05 ** (1 / 299) >= 0.99 > 0.05 ** (1 / 298)
    # Two-sided 95 %: alpha/2 = 0.025 -> ceil(ln 0.025 / ln 0.99) = 368.
    assert required_sample_size(1.0, 0.99, 0.95, "clopper-pearson") == 368
    # A design effect of 2 doubles the interviews.
    assert required_sample_size(1.0, 0.99, 0.95, "clopper-pearson", deff=2.0, sided="one") == 597  # n/2 >= 298.07


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("p, target", [(0.995, 0.99), (0.98, 0.95), (0.9, 0.8)])
def test_required_sample_size_planning_brute_force(method, p, target):
    n = required_sample_size(p, target, 0.95, method)
    lows = proportion_ci(p * np.arange(1, n + 1), np.arange(1, n + 1), method, 0.95)[0]
    assert lows[-1] >= target and lows[-2] < target


@pytest.mark.parametrize("method", ["clopper-pearson", "wilson"])
def test_required_sample_size_with_power_brute_force(method):
    p, target, power = 0.97, 0.9, 0.8
    n = required_sample_size(p, target, 0.95, method, sided="one", power=power)

    def prob(size):
        x = np.arange(size + 1)
        if method == "clopper-pearson":
            # One-sided 95 % exact lower bound straight from the beta quantile.
            low = np.where(x > 0, stats.beta.ppf(0.05, np.maximum(x, 1), size - x + 1), 0.0)
        else:
            low = proportion_ci(x, size, method, 0.9)[0]
        return stats.binom.pmf(x, size, p)[low >= target].sum()

    assert prob(n) >= power
    assert all(prob(k) < power for k in range(1, n))
    # Demanding power costs more than the planning answer.
    assert n > required_sample_size(p, target, 0.95, method, sided="one")


def test_required_sample_size_errors():
    with pytest.raises(ValueError, match="not above target"):
        required_sample_size(0.95, 0.95)
    with pytest.raises(ValueError, match="not above target"):
        required_sample_size(0.9, 0.95)
    with pytest.raises(ValueError, match="sided"):
        required_sample_size(0.99, 0.95, sided="left")
    with pytest.raises(ValueError, match="power"):
        required_sample_size(0.99, 0.95, power=1.5)
    with pytest.raises(ValueError, match="method"):
        required_sample_size(0.99, 0.95, method="exact")
