"""Confidence intervals for a binomial proportion.

One public function, :func:`proportion_ci`, with a ``method`` argument. Counts
may be fractional (effective counts from a design effect or from weights), and
scalars, lists, ndarrays and pandas Series all go through the same
broadcasting code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
# scipy.special rather than scipy.stats: the same Boost functions, at a fraction of the import time,
# which matters for a dashboard process's cold start.
from scipy import special

__all__ = ["METHODS", "proportion_ci"]

METHODS = ("wilson", "clopper-pearson", "jeffreys", "wald")
# Above this many cells the beta methods solve each distinct (x, n) pair once.
_DEDUP_MIN = 64


def _check_method(method: str) -> str:
    m = str(method).strip().lower().replace("_", "-")
    if m not in METHODS:
        raise ValueError(
            f"unknown confidence-interval method {method!r}; "
            f"choose one of {', '.join(METHODS)}"
        )
    return m


def _check_confidence(confidence: float) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return c


def _as_float(a) -> np.ndarray:
    # pandas nullable dtypes (Int64 with <NA>) refuse a plain np.asarray(float).
    if isinstance(a, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        return np.asarray(pd.Series(a).to_numpy(dtype=float, na_value=np.nan))
    return np.asarray(a, dtype=float)


def _wald(x, n, z):
    p = x / n
    half = z * np.sqrt(p * (1.0 - p) / n)
    return p - half, p + half


def _wilson(x, n, z):
    # Written as in statsmodels so both agree to the last few ulps.
    p = x / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = z * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    return center - half, center + half


def _beta_bounds(a_low, b_low, a_high, b_high, tail):
    # isf for the upper tail (not ppf(1 - tail)) keeps precision for small tails.
    return special.betaincinv(a_low, b_low, tail), special.betainccinv(a_high, b_high, tail)


def _clopper_pearson(x, n, tail):
    # beta(0, .) and beta(., 0) are degenerate: the bounds there are 0 and 1 by definition.
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = _beta_bounds(
            np.where(x > 0, x, 1.0), n - x + 1.0, x + 1.0, np.where(x < n, n - x, 1.0), tail
        )
    return np.where(x > 0, low, 0.0), np.where(x < n, high, 1.0)


def _jeffreys(x, n, tail):
    low, high = _beta_bounds(x + 0.5, n - x + 0.5, x + 0.5, n - x + 0.5, tail)
    # Brown, Cai & DasGupta (2001) set the bound to 0 (1) at x = 0 (x = n): the
    # equal-tailed posterior interval would otherwise exclude the observed rate.
    return np.where(x > 0, low, 0.0), np.where(x < n, high, 1.0)


def proportion_ci(successes, n, method: str = "wilson", confidence: float = 0.95):
    """Two-sided confidence interval for a binomial proportion.

    Parameters
    ----------
    successes : float or array_like
        Number of positive answers ``x``. May be non-integer (an effective
        count ``r * n_eff``).
    n : float or array_like
        Number of valid answers (or effective sample size). Broadcast against
        ``successes``.
    method : {"wilson", "clopper-pearson", "jeffreys", "wald"}
        Interval method, see Notes. Default ``"wilson"``.
    confidence : float
        Two-sided confidence level in (0, 1), e.g. 0.95.

    Returns
    -------
    low, high : float or ndarray
        Python floats when both inputs are scalars, otherwise ndarrays of the
        broadcast shape. Bounds are clipped to [0, 1]. Cells with ``n <= 0``,
        ``x < 0``, ``x > n`` or a missing value give ``(nan, nan)``.

    Raises
    ------
    ValueError
        For an unknown ``method`` or ``confidence`` outside (0, 1).

    Notes
    -----
    With ``p = x / n``, ``alpha = 1 - confidence`` and ``z = Phi^-1(1 - alpha/2)``:

    * Wilson score: ``(p + z^2/(2n) ± z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)``.
    * Clopper-Pearson: ``low = B^-1(alpha/2; x, n-x+1)``,
      ``high = B^-1(1-alpha/2; x+1, n-x)`` with ``low = 0`` at ``x = 0`` and
      ``high = 1`` at ``x = n``. The beta quantiles accept fractional ``x``.
    * Jeffreys: quantiles ``alpha/2`` and ``1-alpha/2`` of
      ``Beta(x + 1/2, n - x + 1/2)``, with ``low = 0`` at ``x = 0`` and
      ``high = 1`` at ``x = n`` (Brown, Cai & DasGupta 2001, section 4.1.2).
    * Wald: ``p ± z sqrt(p(1-p)/n)``. Kept for comparison only: it collapses
      to a zero-width interval at ``p = 1``, the normal case for satisfaction
      rates.

    Wilson, Clopper-Pearson and Wald agree with
    ``statsmodels.stats.proportion.proportion_confint`` (methods ``wilson``,
    ``beta``, ``normal``); Jeffreys agrees except for the boundary convention
    above.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession,
       and statistical inference. JASA 22, 209-212.
    .. [2] Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or
       fiducial limits illustrated in the case of the binomial. Biometrika 26,
       404-413.
    .. [3] Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation
       for a binomial proportion. Statistical Science 16, 101-133.
    .. [4] Newcombe, R. G. (1998). Two-sided confidence intervals for the
       single proportion: comparison of seven methods. Statistics in Medicine
       17, 857-872.
    """
    method = _check_method(method)
    alpha = 1.0 - _check_confidence(confidence)
    scalar = np.ndim(successes) == 0 and np.ndim(n) == 0
    x, nn = np.broadcast_arrays(_as_float(successes), _as_float(n))
    ok = (nn > 0) & (x >= 0) & (x <= nn)  # nan compares False, so missing cells drop out
    # Harmless stand-ins let the formulas run on every cell without warnings.
    x = np.where(ok, x, 0.5)
    nn = np.where(ok, nn, 1.0)

    if method == "wilson":
        low, high = _wilson(x, nn, -special.ndtri(alpha / 2.0))
    elif method == "wald":
        low, high = _wald(x, nn, -special.ndtri(alpha / 2.0))
    else:
        beta = _clopper_pearson if method == "clopper-pearson" else _jeffreys
        if x.size > _DEDUP_MIN:
            # Inverse beta calls cost ~1 µs each; tallies repeat the same
            # (x, n) pairs (30/30, 29/30 ...) many times, so solve each pair once.
            pairs, inverse = np.unique((x + 1j * nn).ravel(), return_inverse=True)
            low, high = beta(pairs.real, pairs.imag, alpha / 2.0)
            low, high = low[inverse].reshape(x.shape), high[inverse].reshape(x.shape)
        else:
            low, high = beta(x, nn, alpha / 2.0)

    low = np.where(ok, np.clip(low, 0.0, 1.0), np.nan)
    high = np.where(ok, np.clip(high, 0.0, 1.0), np.nan)
    if scalar:
        return float(low), float(high)
    return low, high
