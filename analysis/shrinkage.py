"""Empirical-Bayes stabilised rates for small areas.

A community with 12 interviews that shows 83 % satisfaction is mostly
noise; ranking communities by such raw rates puts the smallest ones at both
ends of every red and black list. Shrinking each small area's rate towards
its parent's rate (community towards street, street towards district), by an
amount the spread between sibling areas justifies, gives a steadier
estimate.

The result is a **stabilised estimate, not an observed rate**: it borrows
information from the sibling areas, so it must be labelled as such
(e.g. 稳定化估计 / stabilised estimate) and never compared with a target as
if it were the area's survey result. Verdicts against targets stay on the
observed rates and their intervals (:mod:`analysis.rates`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .proportion import _as_float

__all__ = ["empirical_bayes_shrinkage"]


def _moment_prior_strength(x, n, codes, groups, cap):
    """Method-of-moments beta-binomial prior strength ``M`` per parent group.

    See :func:`empirical_bayes_shrinkage`, Notes. Returns ``(M, estimated)``
    where ``estimated`` is False where the fallback (``cap``) was used.
    """
    has = (n > 0).astype(float)

    def s(v):
        return np.bincount(codes, v, groups)

    k, total, pos = s(has), s(n), s(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = pos / total
        p_i = np.where(n > 0, x / np.where(n > 0, n, 1.0), 0.0)
        spread = s(n * (p_i - pbar[codes]) ** 2)  # rows with n = 0 add 0
        denom = total - s(n * n) / total - (k - 1.0)
        binom = pbar * (1.0 - pbar)
        rho = (spread / binom - (k - 1.0)) / denom
        strength = 1.0 / rho - 1.0
    # Fewer than two siblings, a pooled rate of 0 or 1, or spread no larger
    # than binomial noise (rho <= 0) give no usable estimate of the
    # between-area variance: areas look alike, so pool strongly.
    estimated = (k >= 2) & (binom > 0) & (denom > 0) & (rho > 0)
    strength = np.where(estimated, np.clip(strength, 0.0, cap), cap)
    return strength, estimated


def empirical_bayes_shrinkage(
    positive,
    valid,
    parent_positive,
    parent_valid,
    parent=None,
    max_prior_strength=None,
) -> pd.DataFrame:
    """Shrink small-area rates towards their parent area's rate.

    Parameters
    ----------
    positive, valid : array_like
        Positive and valid answers per area. For a pooled indicator pass the
        effective counts ``rate * n_eff`` and ``n_eff`` so that the
        respondent is the unit (the binomial model below assumes
        independent answers).
    parent_positive, parent_valid : float or array_like
        The parent area's counts, per area (broadcast). The shrinkage target
        is the parent's rate ``parent_positive / parent_valid``.
    parent : array_like, optional
        Label of each area's parent; areas with the same label are siblings
        and share one prior strength. Default: all areas are siblings.
    max_prior_strength : float, optional
        Upper bound of the prior strength and its value when it cannot be
        estimated. Default: the siblings' total ``Σ valid``, i.e. a prior
        worth as much as all of the parent's sampled answers.

    Returns
    -------
    DataFrame
        One row per area (index of ``positive`` if it is a Series):
        ``rate_raw`` (observed ``positive / valid``, nan when ``valid`` is
        0), ``rate_shrunk`` (the stabilised estimate), ``parent_rate``,
        ``prior_strength`` (``M``), ``shrinkage`` (``M / (n + M)``, the
        weight given to the parent rate) and ``prior_estimated`` (False where
        the fallback strength was used).

    Notes
    -----
    Model: ``x_i ~ Binomial(n_i, p_i)`` with area rates
    ``p_i ~ Beta(M μ, M (1 - μ))`` around the parent rate ``μ``, so
    ``Var(p_i) = μ(1-μ) ρ`` with intra-class correlation ``ρ = 1/(M + 1)``.
    The posterior mean is

    .. math::

        \\tilde p_i = \\frac{x_i + M \\mu}{n_i + M}
                    = (1 - B_i) \\hat p_i + B_i \\mu,
        \\qquad B_i = \\frac{M}{n_i + M},

    between the raw rate and the parent rate; large areas barely move and
    an area with ``n_i = 0`` gets ``μ``.

    ``M`` is estimated per parent by the method of moments over the ``k``
    siblings with ``n_i > 0`` (``N = Σ n_i``, pooled rate
    ``p̄ = Σ x_i / N``). With ``S = Σ n_i (p̂_i - p̄)²``,

    .. math::

        E[S] = p̄(1-p̄) \\left[(k-1) + ρ \\left(N - \\frac{\\sum n_i^2}{N}
               - (k-1)\\right)\\right],

    hence ``ρ̂ = (S / (p̄(1-p̄)) - (k-1)) / (N - Σn_i²/N - (k-1))`` and
    ``M̂ = 1/ρ̂ - 1`` (the analysis-of-variance estimator of the intra-class
    correlation for binary data; Kleinman 1973, Fleiss 1981 ch. 13).
    ``M̂`` is clipped to ``[0, max_prior_strength]``. When ``ρ̂ <= 0`` (the
    sibling rates vary no more than binomial noise), when there are fewer
    than two siblings with data, or when ``p̄`` is 0 or 1, the spread says
    nothing and ``M = max_prior_strength``: a strong prior, since the data
    give no sign that the areas differ.

    The moments use the siblings' pooled rate, the shrinkage uses the
    parent's own rate; the two are equal when the parent's counts are the
    sum of its children's.

    References
    ----------
    .. [1] Kleinman, J. C. (1973). Proportions with extraneous variance:
       single and independent samples. JASA 68, 46-54.
    .. [2] Fleiss, J. L. (1981). Statistical Methods for Rates and
       Proportions, 2nd ed. Wiley.
    .. [3] Efron, B. & Morris, C. (1975). Data analysis using Stein's
       estimator and its generalizations. JASA 70, 311-319.
    """
    index = positive.index if isinstance(positive, pd.Series) else None
    x, n = (np.atleast_1d(_as_float(a)) for a in (positive, valid))
    x, n = np.broadcast_arrays(x, n)
    if np.any(~np.isfinite(n)) or np.any(n < 0) or np.any(x < 0) or np.any(x > n):
        raise ValueError("需满足 0 <= positive <= valid / counts must satisfy 0 <= positive <= valid")
    pp, pv = np.broadcast_to(_as_float(parent_positive), n.shape), np.broadcast_to(_as_float(parent_valid), n.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        parent_rate = np.where(pv > 0, pp / np.where(pv > 0, pv, 1.0), np.nan)
        raw = np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan)

    if parent is None:
        codes, groups = np.zeros(n.shape, dtype=np.intp), 1
    else:
        codes, uniques = pd.factorize(np.asarray(parent), use_na_sentinel=False)
        groups = len(uniques)
    total = np.bincount(codes, n, groups)
    cap = total if max_prior_strength is None else np.full(groups, float(max_prior_strength))
    strength, estimated = _moment_prior_strength(x, n, codes, groups, cap)
    m = strength[codes]

    with np.errstate(invalid="ignore", divide="ignore"):
        shrunk = (x + m * parent_rate) / (n + m)
        weight = np.where(n + m > 0, m / (n + m), 1.0)
    # M = 0 with n = 0 is 0/0: no data at all, so the parent's rate it is.
    shrunk = np.where(n > 0, shrunk, parent_rate)
    return pd.DataFrame(
        {
            "rate_raw": raw,
            "rate_shrunk": shrunk,
            "parent_rate": parent_rate,
            "prior_strength": m,
            "shrinkage": weight,
            "prior_estimated": estimated[codes],
        },
        index=index,
    )
