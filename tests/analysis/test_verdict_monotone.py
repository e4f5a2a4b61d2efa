"""A better area never gets a worse verdict (issue 14): property-based tests over a grid.

For a round's correlation rho (one value shared by every area), turning a negative answer positive or
adding a positive answer (to a respondent or as a new respondent) never lowers the lower bound, and so
never turns "met" into anything else.  Checked for every method at the levels a round may use.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import add_indicator_rates, proportion_ci
from analysis.rates import VerdictRule, _indicator_stats, pooled_n_eff, verdicts, weighted_n_eff
from analysis.rollup import SUMS

RULES = [VerdictRule(m, c, s) for m in ("clopper-pearson", "wilson", "jeffreys")
         for c, s in ((0.95, "one"), (0.95, "two"), (0.90, "one"), (0.99, "one"))]
TARGETS = (0.8, 0.95, 0.99)


def _sums(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return {"respondents": int((x > 0).sum()), "valid": x.sum(), "positive": y.sum(), "valid_sq": (x * x).sum(),
            "positive_sq": (y * y).sum(), "valid_positive": (x * y).sum()}


@st.composite
def areas(draw):
    """Respondents with 1..10 valid answers each and mostly positive answers, as in a real round."""
    n = draw(st.integers(1, 60))
    x = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    negatives = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
    # Most respondents all positive, a few with negatives: rates between about 0.5 and 1.
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    y = [xi - (min(ni, xi) if k else 0) for xi, ni, k in zip(x, negatives, keep)]
    return np.array(x, float), np.array(y, float)


def _bounds(x, y, rule, rho):
    row = add_indicator_rates(pd.DataFrame([_sums(x, y)]), rule.method, rule.interval_confidence, rho=rho).iloc[0]
    return row["ci_low"], row["ci_high"]


def _many_bounds(versions, rule, rho):
    """Bounds of several versions of an area in one vectorised call (what add_indicator_rates does per row)."""
    sums = [_sums(x, y) for x, y in versions]
    r, _, _, n_eff = _indicator_stats(*(np.array([s[c] for s in sums]) for c in SUMS), rho=rho)
    return proportion_ci(r * n_eff, n_eff, rule.method, rule.interval_confidence)


def _better_versions(x, y):
    """The area with one negative answer turned positive, a positive answer added, a positive respondent added."""
    out = []
    worse = np.flatnonzero(y < x)
    if worse.size:
        y1 = y.copy()
        y1[worse[0]] += 1
        out.append((x, y1))
    x2, y2 = x.copy(), y.copy()
    x2[0] += 1
    y2[0] += 1
    out.append((x2, y2))
    out.append((np.append(x, x[0]), np.append(y, x[0])))
    return out


@settings(max_examples=200, deadline=None)
@given(area=areas(), rule=st.sampled_from(RULES), rho=st.sampled_from([0.0, 0.1, 0.3, 0.6, 0.9, 1.0]),
       target=st.sampled_from(TARGETS))
def test_a_better_area_never_gets_a_lower_bound_or_a_worse_verdict(area, rule, rho, target):
    x, y = area
    lows, highs = _many_bounds([(x, y), *_better_versions(x, y)], rule, rho)
    assert np.all(lows[1:] >= lows[0] - 1e-12)
    if verdicts(lows[0], highs[0], target) == "met":
        assert set(verdicts(lows[1:], highs[1:], target)) == {"met"}


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 3000), m=st.floats(1.0, 12.0), rho=st.floats(0.0, 1.0), extra=st.integers(1, 50))
def test_n_eff_grows_with_respondents_and_answers_and_stays_between_them(n, m, rho, extra):
    sx = n * m
    ne = pooled_n_eff(n, sx, rho)
    assert n - 1e-9 <= ne <= sx + 1e-9
    assert pooled_n_eff(n, sx + extra, rho) >= ne - 1e-9
    assert pooled_n_eff(n + extra, sx + extra, rho) >= ne - 1e-9
    # With given weights (Kish's share fixed), the weighted size moves the same way.
    kish = 0.7 * n
    assert weighted_n_eff(n, sx + extra, kish, rho) >= weighted_n_eff(n, sx, kish, rho) - 1e-9


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method}-{r.sided}-{r.confidence}")
def test_lower_bound_rises_with_the_effective_size_at_a_fixed_rate(rule):
    # Why "more respondents and a higher rate" can only help: at a fixed rate the lower bound grows with n_eff.
    sizes = np.linspace(1.0, 3000.0, 1500)
    for rate in (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0):
        low, _ = proportion_ci(rate * sizes, sizes, rule.method, rule.interval_confidence)
        assert np.all(np.diff(low) >= -1e-12), rate


def test_issue_example_perfect_area_is_not_worse_than_near_perfect():
    # Issue 14: 300 × 10 all positive was 待定 while one negative answer made it 达标.
    rule = VerdictRule()
    x = np.full(300, 10.0)
    one = x.copy()
    one[0] = 9.0
    for rho in (0.0, 0.3, 0.6, 1.0):
        perfect = _bounds(x, x, rule, rho)
        near = _bounds(x, one, rule, rho)
        assert perfect[0] > near[0]
        order = ("not_met", "undecided", "met")
        assert order.index(verdicts(*perfect, 0.99)) >= order.index(verdicts(*near, 0.99))


def test_299_interviews_without_a_negative_answer_meet_99_percent_at_the_default_rule():
    # The planner's promise (README): one-sided 95 % Clopper-Pearson, 299/299 >= 99 %; 298/298 is not enough.
    rule = VerdictRule()
    for n, expected in ((299, "met"), (298, "undecided")):
        x = np.ones(n)
        low, high = _bounds(x, x, rule, None)
        assert verdicts(low, high, 0.99) == expected
    # Reference: the one-sided bound alpha^(1/n) of a zero-failure sample.
    assert _bounds(np.ones(299), np.ones(299), rule, None)[0] == pytest.approx(0.05 ** (1 / 299), rel=1e-12)
