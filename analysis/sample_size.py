"""Sample sizes: the extra interviews that would settle a verdict, and the interviews to plan.

:func:`extra_interviews_needed` answers, for each undecided group of a round (see
:func:`analysis.rates.verdicts`), how many more respondents would settle it if the rate stayed
where it is; :func:`required_sample_size` answers, before a round, how many interviews show that
a rate believed true reaches its target, with or without a required power. Both use the
intervals of :func:`analysis.proportion.proportion_ci`.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .proportion import _as_float, _check_confidence, _check_method, proportion_ci
from .rates import _target_array

__all__ = ["extra_interviews_needed", "required_sample_size"]

# Beyond this many extra interviews a group is reported as "cannot be settled".
MAX_EXTRA = 1_000_000
# Search ceiling for the planner; a rate above its target is always shown well before it.
_MAX_PLAN = 1 << 30


def _settled(rate, per_resp, resp, target, m, method, confidence):
    """Whether the interval at the current rate, with ``m`` more respondents, excludes the target."""
    n_new = per_resp * (resp + m)
    x = rate * n_new
    above = rate > target
    if method in ("wilson", "wald"):
        low, high = proportion_ci(x, n_new, method, confidence)
        return np.where(above, low >= target, high < target)
    above = np.broadcast_to(above, np.broadcast_shapes(np.shape(x), np.shape(target)))
    # Beta methods: compare the beta CDF at the target with the tail instead of
    # inverting it (quantile >= t  <=>  CDF(t) <= tail); the forward function
    # is several times cheaper than the inverse and this runs ~10 times per group.
    tail = (1.0 - confidence) / 2.0
    shift = 0.0 if method == "clopper-pearson" else 0.5
    x, n_new, target = np.broadcast_arrays(x, n_new, target)
    out = np.zeros(x.shape, dtype=bool)
    up, dn = np.flatnonzero(above), np.flatnonzero(~above)
    # Only one bound matters per group; evaluate just that one.
    xu, nu, tu = x[up], n_new[up], target[up]
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = special.betainc(np.maximum(xu + shift, 1e-300), nu - xu + 1.0 - shift, tu)
    out[up] = np.where(xu > 0, cdf <= tail, tu <= 0)
    xd, nd, td = x[dn], n_new[dn], target[dn]
    with np.errstate(invalid="ignore", divide="ignore"):
        sf = special.betaincc(xd + 1.0 - shift, np.maximum(nd - xd + shift, 1e-300), td)
    out[dn] = (xd < nd) & (sf < tail)
    return out


def _first_guess(rate, per_resp, resp, target, confidence):
    """Extra respondents after which the score (Wilson) interval just excludes the target.

    The Wilson interval is the set of p with (r - p)^2 <= z^2 p(1-p)/N, so it
    excludes t once N >= z^2 t(1-t)/(r-t)^2: exact for Wilson up to rounding,
    a close starting point for the other methods.
    """
    z = -special.ndtri((1.0 - confidence) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_star = z * z * target * (1.0 - target) / (rate - target) ** 2
        guess = np.ceil(n_star / per_resp - resp)
    return np.clip(np.nan_to_num(guess, nan=1.0), 1.0, MAX_EXTRA - 1.0)


def extra_interviews_needed(rate, n_eff, respondents, target, method: str = "wilson",
                            confidence: float = 0.95):
    """Additional respondents that would settle an undecided verdict.

    Parameters
    ----------
    rate : float or array_like
        Current rate of each group.
    n_eff : float or array_like
        Current effective sample size (``valid`` for an item).
    respondents : float or array_like
        Current number of respondents.
    target : float, None or array_like
        Target rate.
    method, confidence
        As for :func:`~analysis.proportion.proportion_ci`.

    Returns
    -------
    float or ndarray
        Smallest ``m >= 0`` such that, if the rate stayed the same and each
        new respondent brought ``n_eff / respondents`` effective
        observations, the interval would exclude the target (lower bound
        ``>= target`` when ``rate > target``, upper bound ``< target`` when
        ``rate < target``). 0 when already decided; nan when the rate equals
        the target, data or target are missing, or ``m`` would exceed
        1,000,000.

    Notes
    -----
    With ``k = n_eff / respondents`` the group after ``m`` more interviews
    has ``N(m) = k (respondents + m)`` effective observations and
    ``x = rate N(m)`` successes. The settling condition is monotone in
    ``m`` (intervals shrink as ``N`` grows at a fixed rate). The search,
    vectorised over groups, starts from the Wilson solution
    ``N = z^2 t(1-t)/(r-t)^2``, gallops away from it with doubling steps
    until the answer is bracketed, then bisects to the smallest integer.
    This is a planning figure: it assumes the rate stays where it is.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession,
       and statistical inference. JASA 22, 209-212.
    """
    method = _check_method(method)
    _check_confidence(confidence)
    arrays = [_as_float(rate), _as_float(n_eff), _as_float(respondents), _target_array(target)]
    scalar = all(a.ndim == 0 for a in arrays)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    r, ne, resp, t = (a.ravel() for a in np.broadcast_arrays(*arrays))
    out = np.full(r.shape, np.nan)

    usable = np.isfinite(r) & np.isfinite(t) & (ne > 0) & (resp > 0) & (r != t)
    idx = np.flatnonzero(usable)
    if idx.size:
        r, resp, t = r[idx], resp[idx], t[idx]
        per = ne[idx] / resp

        def settled(m, sel):
            return _settled(r[sel], per[sel], resp[sel], t[sel], m, method, confidence)

        now = settled(0.0, slice(None))
        out[idx[now]] = 0.0
        # Groups that cannot be settled within the cap stay nan.
        todo = np.flatnonzero(~now)
        todo = todo[settled(float(MAX_EXTRA), todo)]
        if todo.size:
            guess = _first_guess(r[todo], per[todo], resp[todo], t[todo], confidence)
            # The guess is exact for Wilson up to rounding; the others land within a few per cent.
            step = np.ones(todo.size) if method == "wilson" else np.maximum(1.0, np.ceil(0.02 * guess))
            out[idx[todo]] = _search(todo, settled, guess, step)
    out = out.reshape(shape)
    return float(out) if scalar else out


def _search(todo, settled, guess, step):
    """Smallest m in (0, MAX_EXTRA] with settled(m), given not settled at 0 and settled at the cap."""
    lo = np.zeros(todo.size)
    hi = np.full(todo.size, float(MAX_EXTRA))
    down = settled(guess, todo)  # the guess is past the answer: look below it
    hi = np.where(down, guess, hi)
    lo = np.where(down, lo, guess)
    going = np.ones(todo.size, dtype=bool)
    while True:
        probe = np.where(down, hi - step, lo + step)
        going &= (probe > lo) & (probe < hi)
        if not going.any():
            break
        s = settled(probe[going], todo[going])
        hi[going] = np.where(s, probe[going], hi[going])
        lo[going] = np.where(s, lo[going], probe[going])
        # Keep galloping while still on the guess's side of the answer.
        going[going] = s == down[going]
        step *= 2.0
    gap = hi - lo > 1
    while gap.any():
        mid = np.floor((lo[gap] + hi[gap]) / 2.0)
        s = settled(mid, todo[gap])
        hi[gap] = np.where(s, mid, hi[gap])
        lo[gap] = np.where(s, lo[gap], mid)
        gap = hi - lo > 1
    return hi


def _lower_bound(successes, n, method, confidence, sided):
    conf = confidence if sided == "two" else 2.0 * confidence - 1.0
    return proportion_ci(successes, n, method, conf)[0]


def _first_true(pred, start: int = 1, cap: int = _MAX_PLAN) -> int | None:
    """Smallest integer n >= start with pred(n), assuming pred is monotone."""
    if pred(start):
        return start
    lo, hi = start, 2 * start
    while not pred(hi):
        lo, hi = hi, 2 * hi
        if hi > cap:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if pred(mid) else (mid, hi)
    return hi


def _power_curve(n_max: int, p: float, target: float, method, confidence, sided) -> np.ndarray:
    """P(lower bound >= target) under Binomial(N, p) for N = 0..n_max."""
    ns = np.arange(1, n_max + 1, dtype=float)
    # The lower bound rises with x at fixed N, so the successes form {x >= x_min(N)};
    # bisect x_min for all N at once. Invariant: x = lo fails, x = hi succeeds
    # (hi = N + 1 stands for "no x succeeds").
    lo = np.full(ns.shape, -1.0)
    hi = ns + 1.0
    gap = hi - lo > 1
    while gap.any():
        mid = np.floor((lo[gap] + hi[gap]) / 2.0)
        ok = _lower_bound(mid, ns[gap], method, confidence, sided) >= target
        hi[gap] = np.where(ok, mid, hi[gap])
        lo[gap] = np.where(ok, lo[gap], mid)
        gap = hi - lo > 1
    from scipy import stats  # only the power calculation needs it; kept off the import path

    power = stats.binom.sf(hi - 1.0, ns, p)
    return np.concatenate([[0.0], power])


def required_sample_size(expected_rate: float, target: float, confidence: float = 0.95,
                         method: str = "wilson", deff: float = 1.0, sided: str = "two",
                         power: float | None = None) -> int:
    """Interviews needed to show a rate is at or above its target.

    Parameters
    ----------
    expected_rate : float
        Rate believed true (e.g. 0.995).
    target : float
        Target the lower confidence bound must reach (e.g. 0.99).
    confidence : float
        Confidence level of the bound.
    method : str
        Interval method, one of :data:`analysis.proportion.METHODS`.
    deff : float
        Design effect: ``n`` interviews count as ``n / deff`` observations.
    sided : {"two", "one"}
        ``"two"``: lower end of the two-sided interval at ``confidence``;
        ``"one"``: one-sided lower bound at ``confidence``, i.e. the two-sided
        interval at ``2 confidence - 1``.
    power : float or None
        None gives the planning answer (the observed rate equals
        ``expected_rate``). A number in (0, 1) asks for the probability of
        showing the target, over the sampling distribution, to reach
        ``power``.

    Returns
    -------
    int
        Smallest number of interviews ``n``.

    Raises
    ------
    ValueError
        When ``expected_rate <= target`` (the target can never be shown),
        or for invalid arguments.

    Notes
    -----
    Without power: smallest ``n`` with ``L(p n / deff, n / deff) >= target``
    where ``L`` is the lower bound. For ``p = 1`` and the one-sided
    Clopper-Pearson bound, ``L = alpha^(1/n)``, giving the "zero failures"
    rule: ``n = ceil(ln alpha / ln target)``, 299 for ``alpha = 0.05`` and
    target 0.99.

    With power: with ``N = round(n / deff)`` and ``X ~ Binomial(N, p)``,
    smallest ``n`` with ``P(L(X, N) >= target) = Σ_{x: L(x,N) >= target}
    Binom(x; N, p) >= power``. Because of the binomial's discreteness this
    probability saw-tooths in ``N``; the smallest qualifying ``n`` is
    returned, found on the full curve rather than by bisection.

    References
    ----------
    .. [1] Hanley, J. A. & Lippman-Hand, A. (1983). If nothing goes wrong,
       is everything all right? JAMA 249, 1743-1745.
    .. [2] Chow, S.-C., Shao, J. & Wang, H. (2008). Sample Size Calculations
       in Clinical Research, 2nd ed., chapter 12 (exact binomial). Chapman &
       Hall.
    """
    method = _check_method(method)
    confidence = _check_confidence(confidence)
    if sided not in ("one", "two"):
        raise ValueError(f"sided must be 'one' or 'two', got {sided!r}")
    p, t, deff = float(expected_rate), float(target), float(deff)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"expected_rate must be in [0, 1], got {expected_rate!r}")
    if not np.isfinite(t):
        raise ValueError(f"target must be a number, got {target!r}")
    if p <= t:
        raise ValueError(
            f"expected_rate {p:g} is not above target {t:g}: no sample size can show "
            "the target is met (the lower bound stays below the true rate)"
        )
    if not (np.isfinite(deff) and deff > 0):
        raise ValueError(f"deff must be positive, got {deff!r}")

    if power is None:
        def shown(n: int) -> bool:
            ne = n / deff
            return bool(_lower_bound(p * ne, ne, method, confidence, sided) >= t)

        n = _first_true(shown)
        if n is None:
            raise ValueError("target cannot be shown within 2^30 interviews")
        return int(n)

    power = float(power)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be strictly between 0 and 1, got {power!r}")
    n_max = 64
    while n_max <= 1 << 24:
        curve = _power_curve(n_max, p, t, method, confidence, sided)
        # Interviews whose effective size falls inside the curve computed so far.
        ns = np.arange(1, int(np.floor((n_max + 0.5) * deff)) + 2)
        big_n = np.rint(ns / deff).astype(np.int64)
        keep = big_n <= n_max
        hit = np.flatnonzero(curve[big_n[keep]] >= power)
        if hit.size:
            return int(ns[keep][hit[0]])
        n_max *= 2
    raise ValueError("power cannot be reached within 2^24 effective observations")
