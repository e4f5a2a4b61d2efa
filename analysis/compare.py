"""Change between two survey rounds, with an interval for the difference.

Analysts ask "did district X's satisfaction rate really go up since the last
mock round, or is it noise?". The answer here is Newcombe's hybrid score
interval for the difference of two independent proportions, which, unlike
the Wald interval, behaves well for rates near 1 and small samples - the
normal case for satisfaction and awareness rates.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .proportion import _as_float, _check_confidence, proportion_ci

__all__ = ["newcombe_difference_ci", "compare_rounds"]

COMPARE_COLUMNS = (
    "rate_before", "rate_after", "n_before", "n_after", "change", "ci_low", "ci_high",
    "significant", "direction",
)


def newcombe_difference_ci(x1, n1, x2, n2, confidence: float = 0.95):
    """Newcombe's hybrid score interval for the change ``p2 - p1``.

    Parameters
    ----------
    x1, n1 : float or array_like
        Positive answers and valid answers in round 1 (before). May be
        fractional effective counts.
    x2, n2 : float or array_like
        The same for round 2 (after).
    confidence : float
        Two-sided confidence level in (0, 1).

    Returns
    -------
    diff, low, high : float or ndarray
        ``p2 - p1`` and its interval; Python floats for scalar input. Cells
        where either round has ``n <= 0`` or an impossible count give nan.

    Notes
    -----
    With ``p_j = x_j / n_j`` and Wilson score limits ``(l_j, u_j)`` of each
    round at the same confidence level (:func:`analysis.proportion.proportion_ci`),
    the interval for ``d = p2 - p1`` is

    .. math::

        \\left(d - \\sqrt{(p_2 - l_2)^2 + (u_1 - p_1)^2},\\;
               d + \\sqrt{(u_2 - p_2)^2 + (p_1 - l_1)^2}\\right),

    method 10 of Newcombe (1998), written there for ``p1 - p2``. It stays
    inside [-1, 1], is never degenerate at rates of 0 or 1, and agrees with
    ``statsmodels.stats.proportion.confint_proportions_2indep(x2, n2, x1,
    n1, method="newcomb", compare="diff")`` (note the order: statsmodels
    gives ``p_first - p_second``).

    References
    ----------
    .. [1] Newcombe, R. G. (1998). Interval estimation for the difference
       between independent proportions: comparison of eleven methods.
       Statistics in Medicine 17, 873-890.
    """
    _check_confidence(confidence)
    scalar = all(np.ndim(a) == 0 for a in (x1, n1, x2, n2))
    x1, n1, x2, n2 = np.broadcast_arrays(*(_as_float(a) for a in (x1, n1, x2, n2)))
    l1, u1 = proportion_ci(x1, n1, "wilson", confidence)
    l2, u2 = proportion_ci(x2, n2, "wilson", confidence)
    # proportion_ci already gives nan for invalid cells; nan then propagates.
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = np.where(np.isnan(l1), np.nan, x1 / np.where(n1 > 0, n1, 1.0))
        p2 = np.where(np.isnan(l2), np.nan, x2 / np.where(n2 > 0, n2, 1.0))
    d = p2 - p1
    low = d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    if scalar:
        return float(d), float(low), float(high)
    return d, low, high


def _effective_counts(frame: pd.DataFrame):
    """Rate, effective positives and effective n for one round's rows.

    Pooled indicator rows carry ``n_eff`` (respondent as the unit): use
    ``x = rate * n_eff``, ``n = n_eff``. Item rows (or rows whose ``n_eff``
    is missing) use the plain counts ``positive`` / ``valid``.
    """
    pos, valid = _as_float(frame["positive"]), _as_float(frame["valid"])
    with np.errstate(invalid="ignore", divide="ignore"):
        plain = np.where(valid > 0, pos / np.where(valid > 0, valid, 1.0), np.nan)
    rate = _as_float(frame["rate"]) if "rate" in frame.columns else plain
    rate = np.where(np.isnan(rate), plain, rate)
    if "n_eff" in frame.columns:
        n_eff = _as_float(frame["n_eff"])
        has = ~np.isnan(n_eff)
        n = np.where(has, n_eff, valid)
        x = np.where(has, rate * n_eff, pos)
    else:
        n, x = valid, pos
    return rate, x, n


def compare_rounds(
    before: pd.DataFrame,
    after: pd.DataFrame,
    keys: Sequence[str] = ("level", "area_id", "indicator"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change of each area's rate from one round to the next.

    Parameters
    ----------
    before, after : DataFrame
        Results of the earlier and the later round, one row per ``keys``
        combination, with ``positive`` and ``valid``; pooled indicator rows
        also ``rate`` and ``n_eff`` (as produced by
        :func:`analysis.rates.add_indicator_rates`), in which case the
        effective counts ``rate * n_eff`` out of ``n_eff`` are compared so
        that the respondent, not the answer, is the unit.
    keys : sequence of str
        Columns identifying an area (and indicator or item).
    confidence : float
        Two-sided confidence level of the interval for the change.

    Returns
    -------
    DataFrame
        One row per key combination present in either round: ``keys``,
        ``rate_before``, ``rate_after``, ``n_before``, ``n_after`` (the
        (effective) sample sizes used), ``change`` (after - before),
        ``ci_low``, ``ci_high`` (Newcombe interval, see
        :func:`newcombe_difference_ci`), ``significant`` (the interval
        excludes 0) and ``direction`` (``"up"``, ``"down"`` or ``"none"``;
        ``"none"`` unless significant). Areas present in one round only get
        nan for the missing side, the change and the interval, and
        ``significant = False``.

    Raises
    ------
    ValueError
        When a key combination appears more than once in a round.

    Notes
    -----
    The two rounds are treated as independent samples (different
    respondents). With many areas compared at once some will show a
    "significant" change by chance (about 5 % at 95 % confidence); see
    :func:`analysis.interviewer_checks.benjamini_hochberg` for a correction.
    """
    keys = list(keys)
    for name, frame in (("before", before), ("after", after)):
        if frame.duplicated(keys).any():
            raise ValueError(f"{name} 中有重复的键 {keys} / {name} has duplicate rows for keys {keys}")

    def side(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        rate, x, n = _effective_counts(frame)
        out = frame[keys].copy()
        out[f"rate_{suffix}"], out[f"x_{suffix}"], out[f"n_{suffix}"] = rate, x, n
        return out

    merged = pd.merge(side(before, "before"), side(after, "after"), on=keys, how="outer", sort=True)
    x1, n1 = _as_float(merged["x_before"]), _as_float(merged["n_before"])
    x2, n2 = _as_float(merged["x_after"]), _as_float(merged["n_after"])
    change, low, high = newcombe_difference_ci(x1, n1, x2, n2, confidence)
    # Report the stated rates' difference; for pooled rows it equals the
    # effective counts' difference up to rounding.
    change = np.where(np.isnan(change), np.nan, _as_float(merged["rate_after"]) - _as_float(merged["rate_before"]))
    significant = (low > 0) | (high < 0)  # nan compares False: one-round areas are not significant
    out = merged[keys].reset_index(drop=True)
    out["rate_before"] = _as_float(merged["rate_before"])
    out["rate_after"] = _as_float(merged["rate_after"])
    out["n_before"], out["n_after"] = n1, n2
    out["change"], out["ci_low"], out["ci_high"] = change, low, high
    out["significant"] = significant
    out["direction"] = np.select([significant & (change > 0), significant & (change < 0)], ["up", "down"], "none")
    return out
