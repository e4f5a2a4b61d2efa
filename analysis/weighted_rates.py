"""Weighted rates with design-based intervals, from respondents or from per-cell sums.

The weights come from :mod:`analysis.weighting`. A weighted rate is the ratio
``Σwy / Σwx``; its interval comes from the linearised (Taylor) variance of that
ratio and an effective sample size from Kish's design effects of weighting and
of answers clustered in respondents, never from treating the weights as if they
were counts (:func:`weighted_ratio`, :func:`weighted_rates_by_group`,
:func:`weighted_rates_from_cell_sums`). A stratified, clustered design is
:func:`analysis.design.design_rates`, built on the helpers here.

Error messages meant for analysts are bilingual: Chinese first, then English,
separated by `` / ``.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from .proportion import _as_float, _check_confidence, _check_method, proportion_ci
from .rates import weighted_n_eff, within_respondent_correlation

__all__ = [
    "CELL_SUMS",
    "WeightedRate",
    "weighted_ratio",
    "weighted_rates_by_group",
    "weighted_rates_from_cell_sums",
]

# Per-cell sums the app stores (see analysis.rollup.SUMS) plus the cell's weight.
CELL_SUMS = ("respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive")
RATE_COLUMNS = ("respondents", "valid", "positive", "rate", "se", "deff", "n_eff", "ci_low", "ci_high")


class WeightedRate(NamedTuple):
    """Result of :func:`weighted_ratio`."""

    rate: float
    variance: float
    se: float
    deff: float
    n_eff: float
    respondents: int


def _weighted_stats(respondents, valid, sw_x, sw_y, resid_ss, kish_sw, kish_sw2, rho=1.0):
    """Rate, se, deff and n_eff of the weighted ratio from group sums.

    ``resid_ss`` is ``Σ w²(y - r x)²``; ``kish_sw`` and ``kish_sw2`` are
    ``Σ w`` and ``Σ w²`` over the respondents with ``x > 0``; ``rho`` the
    within-respondent correlation (:func:`analysis.rates.weighted_n_eff`).
    """
    n = np.asarray(respondents, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sw_x > 0, sw_y / np.where(sw_x > 0, sw_x, 1.0), np.nan)
        v = np.where(n >= 2, n / (n - 1.0) * np.maximum(resid_ss, 0.0) / (sw_x * sw_x), np.nan)
        kish = kish_sw * kish_sw / kish_sw2
    n_eff = weighted_n_eff(n, valid, kish, rho)
    n_eff = np.where(sw_x > 0, n_eff, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        deff = np.where(n_eff > 0, valid / np.where(n_eff > 0, n_eff, 1.0), np.nan)
    return r, v, np.sqrt(v), deff, n_eff


def _check_answers(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> None:
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("权重必须是有限的非负数 / weights must be finite and non-negative")
    if np.any(x < 0) or np.any(y < 0) or np.any(y > x):
        raise ValueError("需满足 0 <= positive <= valid / answers must satisfy 0 <= positive <= valid")


def weighted_ratio(y, x, w, rho: float | None = None) -> WeightedRate:
    """Weighted rate ``Σwy / Σwx`` with its linearised (Taylor) variance.

    Parameters
    ----------
    y : array_like
        Positive answers per respondent.
    x : array_like
        Valid answers per respondent (0 or 1 for a single item, up to the
        number of items for a pooled indicator). Respondents with ``x = 0``
        did not answer and are left out.
    w : array_like
        Weight per respondent (any scale).
    rho : float, optional
        Within-respondent correlation of the answers; None estimates it from
        these respondents (:func:`analysis.rates.within_respondent_correlation`).

    Returns
    -------
    WeightedRate
        ``(rate, variance, se, deff, n_eff, respondents)``.

    Notes
    -----
    Over the ``n`` respondents with ``x_i > 0``, treated as drawn with
    replacement (no strata, no clusters),

    .. math::

        r = \\frac{\\sum w_i y_i}{\\sum w_i x_i}, \\qquad
        v = \\frac{n}{n-1} \\frac{\\sum w_i^2 (y_i - r x_i)^2}{(\\sum w_i x_i)^2},

    the Taylor linearisation of a ratio (Cochran 1977, section 6.4; Wolter
    2007, chapter 6). For a single item (``x_i = 1``) this is the usual
    variance of a weighted proportion. ``se = sqrt(v)``. The effective sample
    size does not come from ``v`` (0 at a rate of 1, jumping with the first
    negative answer) but from Kish's design effects of weighting and of
    answers clustered in respondents, :func:`analysis.rates.weighted_n_eff`;
    ``deff = Σx / n_eff``. Intervals should be
    ``proportion_ci(r n_eff, n_eff)`` (Korn & Graubard 1998), not
    ``proportion_ci(Σwy, Σwx)``, which treats weights as counts.

    References
    ----------
    .. [1] Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley.
    .. [2] Wolter, K. M. (2007). Introduction to Variance Estimation, 2nd ed.
       Springer.
    .. [3] Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for
       proportions with small expected number of positive counts estimated
       from survey data. Survey Methodology 24, 193-201.
    """
    y, x, w = np.broadcast_arrays(_as_float(y), _as_float(x), _as_float(w))
    _check_answers(y, x, w)
    keep = x > 0
    y, x, w = y[keep], x[keep], w[keep]
    sw_x, sw_y = np.sum(w * x), np.sum(w * y)
    r = sw_y / sw_x if sw_x > 0 else np.nan
    resid = np.sum(w * w * (y - r * x) ** 2)
    if rho is None:
        rho = within_respondent_correlation(keep.sum(), x.sum(), y.sum(), np.sum(x * x), np.sum(y * y), np.sum(x * y))
    rate, v, se, deff, n_eff = _weighted_stats(
        keep.sum(), x.sum(), sw_x, sw_y, resid, w.sum(), np.sum(w * w), rho
    )
    return WeightedRate(float(rate), float(v), float(se), float(deff), float(n_eff), int(keep.sum()))


def _group_codes(frame: pd.DataFrame, group_cols: Sequence[str]):
    """Group number per row and the sorted group keys (one row per group)."""
    cols = list(group_cols)
    if not cols:
        return np.zeros(len(frame), dtype=np.intp), pd.DataFrame(index=pd.RangeIndex(1))
    grouped = frame.groupby(cols, sort=True, observed=True, dropna=False)
    codes = grouped.ngroup().to_numpy()
    keys = grouped.size().reset_index()[cols]
    return codes, keys


def _finish(keys, respondents, valid, positive, stats, method, confidence) -> pd.DataFrame:
    rate, _, se, deff, n_eff = stats
    out = keys.reset_index(drop=True).copy()
    # Counts of people: integers whenever the input was (it always is from the app).
    out["respondents"] = respondents.astype(np.int64) if np.all(respondents % 1 == 0) else respondents
    out["valid"] = valid
    out["positive"] = positive
    out["rate"], out["se"], out["deff"], out["n_eff"] = rate, se, deff, n_eff
    out["ci_low"], out["ci_high"] = proportion_ci(rate * n_eff, n_eff, method, confidence)
    return out


def weighted_rates_by_group(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    y: str = "positive",
    x: str = "valid",
    w: str = "weight",
    method: str = "wilson",
    confidence: float = 0.95,
    rho: float | None = None,
) -> pd.DataFrame:
    """Weighted rates with intervals per group, from per-respondent rows.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent (for one indicator or item): the
        ``group_cols``, positive answers ``y``, valid answers ``x`` and
        weight ``w``.
    group_cols : sequence of str
        Grouping columns (may be empty: one overall row).
    y, x, w : str
        Column names.
    method, confidence
        Interval method and level, as in
        :func:`analysis.proportion.proportion_ci`.
    rho : float, optional
        Within-respondent correlation; None estimates it from all groups,
        residuals taken within each group.

    Returns
    -------
    DataFrame
        One row per group (sorted by the keys): ``group_cols``,
        ``respondents`` (with ``x > 0``), ``valid`` (Σx) and ``positive``
        (Σy) unweighted, then ``rate``, ``se``, ``deff``, ``n_eff``,
        ``ci_low`` and ``ci_high``.

    Notes
    -----
    Per group exactly :func:`weighted_ratio`; the interval is
    ``proportion_ci(rate * n_eff, n_eff, method, confidence)``. The residual
    sum ``Σ w²(y - r x)²`` is computed in two passes (rate first) to avoid
    cancellation when ``r`` is close to 1.
    """
    _check_method(method)
    _check_confidence(confidence)
    yy, xx, ww = _as_float(frame[y]), _as_float(frame[x]), _as_float(frame[w])
    _check_answers(yy, xx, ww)
    codes, keys = _group_codes(frame, group_cols)
    g = len(keys)
    # Respondents who gave no valid answer are outside the rate's domain.
    ans = (xx > 0).astype(float)
    ww = ww * ans

    def s(v):
        return np.bincount(codes, v, g)

    sw_x, sw_y = s(ww * xx), s(ww * yy)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sw_x > 0, sw_y / sw_x, np.nan)
    r_row = np.nan_to_num(r[codes])
    resid = s(ww * ww * (yy - r_row * xx) ** 2)
    if rho is None:
        rho = within_respondent_correlation(s(ans), s(xx), s(yy), s(xx * xx), s(yy * yy), s(xx * yy))
    stats = _weighted_stats(s(ans), s(xx), sw_x, sw_y, resid, s(ww), s(ww * ww), rho)
    return _finish(keys, s(ans), s(xx), s(yy), stats, method, confidence)


def weighted_rates_from_cell_sums(
    cells: pd.DataFrame,
    group_cols: Sequence[str],
    method: str = "wilson",
    confidence: float = 0.95,
    rho: float | None = None,
) -> pd.DataFrame:
    """Weighted rates with intervals per group, from per-cell sums.

    The app stores, per weighting cell (e.g. community × age group × sex),
    sums over the cell's respondents rather than the respondents
    themselves. Every respondent in a cell has the cell's weight, so the
    weighted ratio and its linearised variance follow from those sums
    exactly.

    Parameters
    ----------
    cells : DataFrame
        One row per cell: ``group_cols`` plus ``respondents`` (respondents
        with ``x > 0``), ``valid`` (Σx), ``positive`` (Σy), ``valid_sq``
        (Σx²), ``positive_sq`` (Σy²), ``valid_positive`` (Σxy) and
        ``weight`` (the cell's weight ``w_c``).
    group_cols : sequence of str
        Grouping columns (may be empty: one overall row).
    method, confidence
        Interval method and level, as in
        :func:`analysis.proportion.proportion_ci`.
    rho : float, optional
        Within-respondent correlation; None estimates it from the cells,
        residuals taken within each cell.

    Returns
    -------
    DataFrame
        As :func:`weighted_rates_by_group`.

    Notes
    -----
    With sums over cells ``c`` of the group,

    .. math::

        r = \\frac{\\sum_c w_c \\Sigma y}{\\sum_c w_c \\Sigma x}, \\qquad
        \\sum_i w_i^2 (y_i - r x_i)^2
          = \\sum_c w_c^2 (\\Sigma y^2 - 2 r \\Sigma xy + r^2 \\Sigma x^2),

    and Kish's respondent-level quantities are ``Σ_c n_c w_c`` and
    ``Σ_c n_c w_c²``; the rest is :func:`weighted_ratio`. Cancellation in
    the expanded residual can leave a tiny negative number, which is set
    to 0.
    """
    _check_method(method)
    _check_confidence(confidence)
    n_c = _as_float(cells["respondents"])
    sx, sy = _as_float(cells["valid"]), _as_float(cells["positive"])
    sxx, syy, sxy = (_as_float(cells[c]) for c in ("valid_sq", "positive_sq", "valid_positive"))
    wc = _as_float(cells["weight"])
    used = n_c > 0
    if np.any(~np.isfinite(wc[used])) or np.any(wc[used] < 0):
        raise ValueError("有受访者的单元权重必须是有限的非负数 / cells with respondents need a finite, non-negative weight")
    wc = np.where(used, wc, 0.0)  # empty cells may lack a weight; they contribute nothing
    codes, keys = _group_codes(cells, group_cols)
    g = len(keys)

    def s(v):
        return np.bincount(codes, v, g)

    sw_x, sw_y = s(wc * sx), s(wc * sy)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sw_x > 0, sw_y / sw_x, np.nan)
    w2 = wc * wc
    r0 = np.nan_to_num(r)
    resid = s(w2 * syy) - 2.0 * r0 * s(w2 * sxy) + r0 * r0 * s(w2 * sxx)
    if rho is None:
        rho = within_respondent_correlation(n_c, sx, sy, sxx, syy, sxy)
    stats = _weighted_stats(s(n_c), s(sx), sw_x, sw_y, resid, s(n_c * wc), s(n_c * w2), rho)
    return _finish(keys, s(n_c), s(sx), s(sy), stats, method, confidence)
