"""Weighted rates with the variance of a stratified, clustered design (Taylor linearisation).

Respondents interviewed in the same community, or by the same interviewer, answer alike, which a
variance computed as if every respondent were drawn independently
(:mod:`analysis.weighted_rates`) ignores. :func:`design_rates` takes the strata (districts) and
clusters (communities or interviewers) into account, as R's survey package does, and narrows the
degrees of freedom of the interval to the design's. The weighting page reads its respondent rows with
``data.design.design_rows``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .proportion import _as_float, _check_confidence, _check_method, proportion_ci
from .weighted_rates import _check_answers, _finish, _group_codes, _weighted_stats

__all__ = ["DESIGNS", "design_rates"]

DESIGNS = ("none", "strata", "strata_community", "strata_interviewer")


def design_rates(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    y: str = "positive",
    x: str = "valid",
    w: str = "weight",
    strata: str | None = None,
    clusters: str | None = None,
    method: str = "wilson",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Weighted rates per group with the variance of a stratified, clustered design.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent of the whole design (respondents with no
        valid answer included: they keep their cluster in the count).
    group_cols : sequence of str
        Domains to report (may be empty: one overall row).
    y, x, w : str
        Positive answers, valid answers and weight columns.
    strata : str, optional
        Stratum column (the district). None: one stratum.
    clusters : str, optional
        Primary sampling unit column (community or interviewer), nested in
        its stratum: the same code in two strata is two clusters. None: each
        respondent is its own cluster.
    method, confidence
        As for :func:`analysis.proportion.proportion_ci`.

    Returns
    -------
    DataFrame
        As :func:`~analysis.weighted_rates.weighted_rates_by_group`, plus ``df`` (the design's degrees
        of freedom in the domain: clusters minus strata).

    Notes
    -----
    For domain ``g`` with ratio ``r_g = Σ_g w y / Σ_g w x``, each respondent
    gets the linearised score ``z_i = w_i (y_i - r_g x_i) / Σ_g w x`` (0
    outside the domain), cluster totals ``Z_hc = Σ_{i ∈ hc} z_i``, and with
    ``n_h`` clusters in stratum ``h`` (of the whole design)

    .. math::

        v_g = \\sum_h \\frac{n_h}{n_h - 1} \\sum_c (Z_{hc} - \\bar Z_h)^2,

    the with-replacement Taylor linearisation of ``svydesign(ids = ~cluster,
    strata = ~stratum, weights = ~w, nest = TRUE)`` followed by ``svyratio``
    (``svymean`` for a single item) or ``svyby`` for domains in R's survey
    package (Lumley 2010, sections 2.2 and 3.4; Wolter 2007, chapter 6). A
    stratum with a single cluster adds nothing (R's
    ``survey.lonely.psu = "certainty"``). Without strata and clusters this
    is :func:`~analysis.weighted_rates.weighted_rates_by_group`. The effective sample size
    ``r(1-r)/v`` (capped and with the fall-backs of
    :func:`~analysis.weighted_rates.weighted_ratio`) is then scaled by ``(t_{n-1} / t_{df})²`` at the
    interval's level, ``df`` = clusters − strata of the domain, before the
    interval ``proportion_ci(r n*, n*)``: Korn & Graubard's (1998) degrees
    of freedom adjustment, as ``svyciprop(method = "beta")`` does, so a
    design with few clusters gets the wider interval it deserves.

    References
    ----------
    .. [1] Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R.
       Wiley.
    .. [2] Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for
       proportions with small expected number of positive counts estimated
       from survey data. Survey Methodology 24, 193-201.
    """
    from scipy import stats

    _check_method(method)
    confidence = _check_confidence(confidence)
    yy, xx, ww = _as_float(frame[y]), _as_float(frame[x]), _as_float(frame[w])
    _check_answers(yy, xx, ww)
    codes, keys = _group_codes(frame, group_cols)
    g = len(keys)
    ans = (xx > 0).astype(float)
    ww_ans = ww * ans

    def s(v):
        return np.bincount(codes, v, g)

    sw_x, sw_y = s(ww_ans * xx), s(ww_ans * yy)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sw_x > 0, sw_y / np.where(sw_x > 0, sw_x, 1.0), np.nan)
        z = ww_ans * (yy - np.nan_to_num(r)[codes] * xx) / np.where(sw_x > 0, sw_x, 1.0)[codes]

    stratum = (pd.factorize(frame[strata])[0] if strata else np.zeros(len(frame), dtype=np.intp)).astype(np.int64)
    if clusters:
        psu = pd.factorize(pd.MultiIndex.from_arrays([stratum, frame[clusters].to_numpy()]))[0].astype(np.int64)
    else:
        psu = np.arange(len(frame), dtype=np.int64)
    n_psu = int(psu.max()) + 1 if len(psu) else 0
    n_strata = int(stratum.max()) + 1 if len(stratum) else 0
    stratum_of_psu = np.zeros(n_psu, dtype=np.int64)
    stratum_of_psu[psu] = stratum
    n_h = np.bincount(stratum_of_psu, minlength=n_strata).astype(float)

    # Cluster totals per domain: only (domain, cluster) pairs with members are non-zero.
    pair, pair_codes = np.unique(codes.astype(np.int64) * n_psu + psu, return_inverse=True)
    z_pair = np.bincount(pair_codes, z, len(pair))
    pair_group, pair_psu = pair // max(n_psu, 1), pair % max(n_psu, 1)
    pair_stratum = stratum_of_psu[pair_psu]
    cell = pair_group * n_strata + pair_stratum
    s1 = np.bincount(cell, z_pair, g * n_strata).reshape(g, n_strata)
    s2 = np.bincount(cell, z_pair * z_pair, g * n_strata).reshape(g, n_strata)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n_h > 1, n_h / (n_h - 1.0), 0.0)
        within = np.maximum(s2 - s1 * s1 / np.where(n_h > 0, n_h, 1.0), 0.0)
    v = (within * factor).sum(axis=1)

    # Degrees of freedom of each domain: its clusters minus its strata.
    in_domain = ans > 0
    dom_pairs = np.unique(codes[in_domain].astype(np.int64) * n_psu + psu[in_domain])
    dom_strata = np.unique(codes[in_domain].astype(np.int64) * n_strata + stratum[in_domain])
    df = (np.bincount(dom_pairs // max(n_psu, 1), minlength=g)
          - np.bincount(dom_strata // max(n_strata, 1), minlength=g)).astype(float)

    n_resp, valid = s(ans), s(xx)
    # _weighted_stats takes the with-replacement residual sum; hand it the one whose variance is v,
    # so the fall-backs (rate 0 or 1, one respondent) and the cap stay those of the simple path.
    with np.errstate(invalid="ignore", divide="ignore"):
        resid = np.where(n_resp >= 2, v * sw_x * sw_x * (n_resp - 1.0) / n_resp, 0.0)
    rate, var, se, _, model_n_eff = _weighted_stats(n_resp, valid, sw_x, sw_y, resid, s(ww_ans), s(ww_ans * ww_ans))
    # The design's own effective size r(1-r)/v, as svyciprop(method = "beta") takes it; where v is 0
    # (a rate of 0 or 1) the design says nothing and the model's (rho and Kish) size stands in.
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where((var > 0) & np.isfinite(var), rate * (1.0 - rate) / np.where(var > 0, var, 1.0),
                         model_n_eff)
        n_eff = np.minimum(n_eff, valid)
        deff = np.where(n_eff > 0, valid / np.where(n_eff > 0, n_eff, 1.0), np.nan)
    stats_ = (rate, var, se, deff, n_eff)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where((df >= 1) & (n_resp >= 2),
                         stats.t.ppf(alpha / 2, np.maximum(n_resp - 1, 1)) / stats.t.ppf(alpha / 2, np.maximum(df, 1)),
                         1.0)
    n_ci = n_eff * ratio * ratio
    out = _finish(keys, n_resp, valid, s(yy), stats_, method, confidence)
    out["ci_low"], out["ci_high"] = proportion_ci(rate * n_ci, n_ci, method, confidence)
    out["df"] = df
    return out
