"""Forecast of the official evaluation: the chance that its own sample reaches each target (达标概率).

The official evaluation (测评) draws its own sample of residents and compares its rate with the
target, without any interval. What leaders want to know before it is not whether the mock round's
interval clears the target but how likely the official sample is to. This module answers that from
the mock round's effective counts with a beta-binomial posterior predictive distribution
(:func:`pass_probability`), for the city and each district (:func:`official_forecast`), and says how
much the probability would rise if one weak item (短板) alone reached its indicator's target
(:func:`weak_item_gains`).

Pure functions over numpy and pandas; no Streamlit, no database.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy import special

from .proportion import _as_float

__all__ = [
    "PRIORS",
    "DEFAULT_OFFICIAL_SAMPLE_SIZE",
    "pass_probability",
    "official_sample_sizes",
    "official_forecast",
    "weak_item_gains",
]

# Beta(a, b) priors for the true rate. Jeffreys is the default: invariant, and the prior of the
# Jeffreys interval the dashboard offers, so a forecast and an interval start from the same place.
PRIORS: Mapping[str, tuple[float, float]] = {"jeffreys": (0.5, 0.5), "uniform": (1.0, 1.0)}
# Interviews the official evaluation is assumed to hold in the whole city when a round does not say.
DEFAULT_OFFICIAL_SAMPLE_SIZE = 600
# Floating-point slack when turning "rate >= target" into "count >= k": 0.99 * 600 is 593.9999….
_EPS = 1e-9


def _prior(prior: str) -> tuple[float, float]:
    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; choose one of {', '.join(PRIORS)}")
    return PRIORS[prior]


def pass_probability(successes, n, official_n, target, prior: str = "jeffreys") -> np.ndarray:
    """Posterior predictive probability that an official sample's rate reaches the target.

    Parameters
    ----------
    successes : array_like
        Effective positive answers in the mock round (``rate × n_eff``); need not be whole.
    n : array_like
        Effective sample size of the mock round (``n_eff``).
    official_n : array_like
        Effective size of the official sample (whole numbers; rounded).
    target : array_like
        Target rate; nan gives nan.
    prior : {"jeffreys", "uniform"}
        Beta prior of the true rate: Beta(1/2, 1/2) or Beta(1, 1).

    Returns
    -------
    ndarray
        ``P(K / m >= target)`` where ``m = official_n`` and ``K`` follows the posterior
        predictive distribution. nan where the target is nan or ``m < 1``.

    Notes
    -----
    With prior Beta(a0, b0) and ``s`` effective successes out of ``n``, the true rate has
    posterior Beta(a, b), ``a = a0 + s``, ``b = b0 + n - s``. The official sample of ``m``
    answers then has ``K ~ BetaBinomial(m, a, b)``,

    .. math::

        P(K = k) = \\binom{m}{k} \\frac{B(k + a, m - k + b)}{B(a, b)},

    and the official rate reaches the target when ``K >= k* = ceil(t m)``. The tail is summed
    from log-probabilities (``betaln`` only), over the shorter side of ``k*``, which keeps
    probabilities near 0 and near 1 accurate. The forecast carries both the uncertainty of the
    true rate (the mock round's sample) and the official sample's own chance; it assumes the
    official sample is drawn from the same population as the mock round, by the same questions
    (Gelman et al. 2013, section 2.4; Bernardo & Smith 1994, section 5.2).

    References
    ----------
    .. [1] Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., section 2.4
       (posterior predictive distribution of a binomial count). CRC Press.
    .. [2] Bernardo, J. M. & Smith, A. F. M. (1994). Bayesian Theory, section 5.2. Wiley.
    """
    a0, b0 = _prior(prior)
    s, n, m, t = np.broadcast_arrays(_as_float(successes), _as_float(n), np.rint(_as_float(official_n)),
                                     _as_float(target))
    shape = s.shape
    s, n, m, t = (v.ravel() for v in (s, n, m, t))
    if np.any((s < 0) | (n < 0) | (s > n + _EPS)):
        raise ValueError("需满足 0 <= successes <= n / successes must satisfy 0 <= successes <= n")
    out = np.full(s.shape, np.nan)
    a, b = a0 + s, b0 + np.maximum(n - s, 0.0)
    k_star = np.ceil(t * m - _EPS)
    for i in np.flatnonzero(np.isfinite(t) & (m >= 1)):
        out[i] = _tail(a[i], b[i], int(m[i]), int(min(max(k_star[i], 0), m[i] + 1)))
    return out.reshape(shape)


def _tail(a: float, b: float, m: int, k_star: int) -> float:
    """P(K >= k_star) for K ~ BetaBinomial(m, a, b), summed over the shorter side."""
    if k_star <= 0:
        return 1.0
    if k_star > m:
        return 0.0
    upper = m - k_star + 1 <= k_star  # fewer terms above k* than below
    k = np.arange(k_star, m + 1) if upper else np.arange(0, k_star)
    # log C(m, k) = -log(m + 1) - log B(k + 1, m - k + 1): betaln keeps its precision for large
    # arguments, where three gammaln terms of ~m log m would cancel away about 1e-9 of it.
    log_pmf = (-np.log(m + 1.0) - special.betaln(k + 1.0, m - k + 1.0)
               + special.betaln(k + a, m - k + b) - special.betaln(a, b))
    mass = float(np.exp(log_pmf).sum())
    return min(mass, 1.0) if upper else max(1.0 - mass, 0.0)


def official_sample_sizes(indicators: pd.DataFrame, total: int, shares: Mapping[int, float] | None = None
                          ) -> np.ndarray:
    """Official interviews per row of ``indicators`` (city and district rows).

    The city row gets ``total``; a district row gets ``total`` times the district's share: from
    ``shares`` (district ``area_id`` -> share, e.g. from the round's quotas) when given, else the
    district's share of the indicator's respondents in the mock round (the mock round's
    allocation is the best guess of where the official interviewers will go). At least 1 where
    the share is positive, rounded to whole interviews.
    """
    if isinstance(total, bool) or not 1 <= total:
        raise ValueError(f"正式测评样本量须为正整数 / the official sample size must be at least 1, got {total!r}")
    rows = indicators.reset_index(drop=True)
    is_city = rows["level"].to_numpy() == "city"
    if shares is not None:
        share = rows["area_id"].map(dict(shares)).to_numpy(dtype=float)
    else:
        city = rows[is_city].set_index("indicator")["respondents"]
        city_n = rows["indicator"].map(city).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = rows["respondents"].to_numpy(dtype=float) / city_n
    share = np.where(is_city, 1.0, share)
    return np.where(np.isfinite(share) & (share > 0), np.maximum(np.rint(total * share), 1), 0).astype(np.int64)


def official_forecast(indicators: pd.DataFrame, official_total: int, prior: str = "jeffreys",
                      shares: Mapping[int, float] | None = None) -> pd.DataFrame:
    """达标概率 for the city and each district's indicators.

    Parameters
    ----------
    indicators : DataFrame
        Indicator results (``RoundResults.indicators``): ``level``, ``area_id``, ``indicator``,
        ``respondents``, ``rate``, ``n_eff`` and ``target``. Rows of levels other than city and
        district are ignored.
    official_total : int
        Interviews of the official evaluation in the whole city (the round's
        ``official_sample_size``).
    prior : {"jeffreys", "uniform"}
        As for :func:`pass_probability`.
    shares : mapping of int to float, optional
        Each district's share of the official sample, as for :func:`official_sample_sizes`.

    Returns
    -------
    DataFrame
        The city and district rows with ``official_n`` (official interviews in the area, see
        :func:`official_sample_sizes`), ``official_n_eff`` (their effective size: ``official_n ×
        n_eff / respondents``, the mock round's effective information per respondent, which
        carries how many items the indicator pools and how alike one person's answers are) and
        ``pass_probability`` (nan without a target or data).
    """
    rows = indicators[indicators["level"].isin(["city", "district"])].reset_index(drop=True)
    official_n = official_sample_sizes(rows, official_total, shares)
    respondents = rows["respondents"].to_numpy(dtype=float)
    n_eff = rows["n_eff"].to_numpy(dtype=float)
    rate = rows["rate"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_person = np.where(respondents > 0, n_eff / respondents, np.nan)
    official_eff = np.where(np.isfinite(per_person) & (official_n > 0),
                            np.maximum(np.rint(official_n * np.nan_to_num(per_person)), 1), 0)
    has_data = np.isfinite(rate) & (n_eff > 0)
    probability = pass_probability(np.where(has_data, rate * n_eff, 0.0), np.where(has_data, n_eff, 0.0),
                                   official_eff, np.where(has_data, rows["target"].to_numpy(dtype=float), np.nan),
                                   prior)
    return rows.assign(official_n=official_n, official_n_eff=official_eff.astype(np.int64),
                       pass_probability=probability)


def weak_item_gains(forecast: pd.DataFrame, weak: pd.DataFrame, top: int = 3, prior: str = "jeffreys") -> pd.DataFrame:
    """How much each weak item (短板) alone would raise the 达标概率.

    Parameters
    ----------
    forecast : DataFrame
        Output of :func:`official_forecast`.
    weak : DataFrame
        Output of :func:`analysis.ranking.weak_items`: item rows with ``level``, ``area_id``,
        ``indicator``, ``item``, ``rate``, ``target`` and ``cost`` (what the indicator's rate
        would gain were the item at the target).
    top : int
        Items kept per area × indicator, the costliest first; items that cost nothing are left out.
    prior : str
        As for :func:`pass_probability`.

    Returns
    -------
    DataFrame
        ``level, area_id, indicator, item, item_rate, cost, pass_probability`` (as it is),
        ``probability_if_met`` and ``gain`` (their difference).

    Notes
    -----
    Item ``j`` holding the share ``w_j`` of the indicator's valid answers and reaching the target
    ``t`` would raise the indicator's rate by ``cost_j = w_j (t - r_j)``. The forecast is then
    recomputed with the rate ``r + cost_j`` and the same effective sample sizes, so the gain is
    the item's own effect, everything else unchanged.
    """
    weak = weak[(weak["cost"] > 0) & weak["level"].isin(["city", "district"])]
    weak = weak.sort_values(["level", "area_id", "indicator", "cost"], ascending=[True, True, True, False],
                            kind="stable").groupby(["level", "area_id", "indicator"], sort=False).head(top)
    base = forecast[["level", "area_id", "indicator", "rate", "n_eff", "target", "official_n_eff",
                     "pass_probability"]]
    rows = weak[["level", "area_id", "indicator", "item", "rate", "cost"]].rename(columns={"rate": "item_rate"})
    rows = rows.merge(base, on=["level", "area_id", "indicator"], how="inner")
    rate = np.minimum(rows["rate"].to_numpy(dtype=float) + rows["cost"].to_numpy(dtype=float), 1.0)
    n_eff = rows["n_eff"].to_numpy(dtype=float)
    improved = pass_probability(rate * n_eff, n_eff, rows["official_n_eff"], rows["target"], prior)
    rows = rows.assign(probability_if_met=improved, gain=improved - rows["pass_probability"].to_numpy())
    return rows[["level", "area_id", "indicator", "item", "item_rate", "cost", "pass_probability",
                 "probability_if_met", "gain"]].reset_index(drop=True)
