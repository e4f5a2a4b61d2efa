"""Rates, intervals and verdicts against a target.

Item rates are plain binomial proportions (each respondent answers an item at
most once). Indicator rates pool several items answered by the same
respondent, so the respondent, not the answer, is the sampling unit: the
variance is that of a ratio estimator over respondents, turned into an
effective sample size that any :func:`~analysis.proportion.proportion_ci`
method can use.

How many interviews a group still needs, or a round should plan for, is in
:mod:`analysis.sample_size`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .proportion import _as_float, _check_confidence, _check_method, proportion_ci

__all__ = [
    "DEFAULT_RULE",
    "VerdictRule",
    "pooled_n_eff",
    "within_respondent_correlation",
    "add_item_rates",
    "add_indicator_rates",
    "verdicts",
]

# Order matters to callers that use the codes: decided verdicts first.
VERDICTS = ("met", "not_met", "undecided", "no_data", "no_target")
# Weight of the prior rho = 1 in within_respondent_correlation, in units of B = Σ p(1-p)(Σx² - Σx).
# Chosen with `python -m analysis.calibration` (docs/methods.*.md): B is about 0.9 per respondent
# at p = 0.99 with 10 items, so a round of 1,000 such respondents is weighed against a prior worth
# a few dozen of them.
RHO_PRIOR_WEIGHT = 30.0


@dataclass(frozen=True)
class VerdictRule:
    """How a round turns an interval into a verdict: method, confidence level and sidedness.

    ``sided="one"``: met when the one-sided lower bound at ``confidence`` is
    at or above the target, not met when the one-sided upper bound is below
    it; both bounds are the ends of the two-sided interval at ``2 confidence
    - 1`` (:attr:`interval_confidence`), so a wrong "met" at a true rate
    exactly on the target happens at most ``1 - confidence`` of the time.
    ``sided="two"``: the ends of the two-sided interval at ``confidence``
    (each one-sided at ``(1 + confidence)/2``).
    """

    method: str = "clopper-pearson"
    confidence: float = 0.95
    sided: str = "one"

    def __post_init__(self):
        object.__setattr__(self, "method", _check_method(self.method))
        object.__setattr__(self, "confidence", _check_confidence(self.confidence))
        if self.sided not in ("one", "two"):
            raise ValueError(f"sided must be 'one' or 'two', got {self.sided!r}")
        if self.method == "wald":
            raise ValueError("the Wald interval is for comparison only, never for verdicts")
        if self.sided == "one" and self.confidence <= 0.5:
            raise ValueError("a one-sided level must be above 50 %")

    @property
    def interval_confidence(self) -> float:
        """Two-sided level whose ends are this rule's bounds."""
        return self.confidence if self.sided == "two" else round(2.0 * self.confidence - 1.0, 12)

    @property
    def alpha(self) -> float:
        """Largest chance of a wrong "met" for an area exactly at its target."""
        return round(1.0 - self.interval_confidence, 12) / 2.0 if self.sided == "two" else round(1.0 - self.confidence, 12)

    def describe(self, language: str = "zh") -> str:
        name = METHOD_NAMES[self.method]
        if language == "en":
            side = "one-sided" if self.sided == "one" else "two-sided"
            return f"{name}, {side} {_percent_text(self.confidence)}"
        side = "单侧" if self.sided == "one" else "双侧"
        return f"{name}，{side} {_percent_text(self.confidence)}"

    def explain(self, language: str = "zh") -> str:
        """The rule in plain words, for pages, exports and reports."""
        bound, alpha = _percent_text(1.0 - self.alpha), _percent_text(self.alpha)
        if language == "en":
            return (f"Verdict rule of the round: {self.describe('en')}. Met: the one-sided {bound} lower "
                    f"confidence bound is at or above the target; not met: the one-sided {bound} upper bound is "
                    f"below it; otherwise undecided. An area exactly at its target is called met at most "
                    f"{alpha} of the time.")
        return (f"本轮判定规则：{self.describe('zh')}。达标：单侧 {bound} 置信下限不低于目标；未达标：单侧 {bound} "
                f"置信上限低于目标；否则待定。真实比率恰好等于目标的区域，被误判为达标的机会不超过 {alpha}。")


def _percent_text(value: float) -> str:
    return f"{round(100.0 * value, 2):g}%"


METHOD_NAMES = {"wilson": "Wilson", "clopper-pearson": "Clopper–Pearson", "jeffreys": "Jeffreys", "wald": "Wald"}
# The planner's convention: 299 interviews without a negative answer show >= 99 %.
DEFAULT_RULE = VerdictRule()


def _ratio(num, den):
    num, den = _as_float(num), _as_float(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def add_item_rates(df: pd.DataFrame, method: str = "wilson", confidence: float = 0.95) -> pd.DataFrame:
    """Add the rate and its interval to per-group item counts.

    Parameters
    ----------
    df : DataFrame
        Columns ``valid`` (valid answers) and ``positive`` (positive answers),
        plus any grouping columns, which are kept.
    method : str
        Interval method, one of :data:`analysis.proportion.METHODS`.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``rate`` (``positive / valid``, nan when
        ``valid == 0``), ``ci_low`` and ``ci_high``.

    Notes
    -----
    Each respondent answers an item once, so ``positive ~ Binomial(valid, p)``
    and the interval is ``proportion_ci(positive, valid)``.
    """
    out = df.copy()
    out["rate"] = _ratio(out["positive"], out["valid"])
    out["ci_low"], out["ci_high"] = proportion_ci(
        _as_float(out["positive"]), _as_float(out["valid"]), method, confidence
    )
    return out


def within_respondent_correlation(respondents, valid, positive, valid_sq, positive_sq, valid_positive,
                                  prior_weight: float | None = None) -> float:
    """Within-respondent correlation of an indicator's answers, pooled over units and shrunk towards 1.

    Parameters
    ----------
    respondents, valid, positive, valid_sq, positive_sq, valid_positive : array_like
        The six respondent-level sums of :func:`add_indicator_rates`, one
        entry per unit (community, weighting cell, group). Residuals are
        taken around each unit's own rate, so differences between units do
        not pass for correlation within respondents.
    prior_weight : float, optional
        Weight ``k0`` of the prior value 1, in the units of ``B`` below;
        default :data:`RHO_PRIOR_WEIGHT`.

    Returns
    -------
    float
        ``rho`` in [0, 1]; 1 when the data say nothing (no negative answer
        anywhere, or one item per respondent).

    Notes
    -----
    If a respondent with ``x_i`` valid answers has answers with mean ``p``
    and pairwise correlation ``rho``, ``Var(y_i - p x_i) = p(1-p) (x_i +
    rho x_i (x_i - 1))``. Summing over respondents of unit ``c``, with the
    usual ``n_c / (n_c - 1)`` correction for estimating ``p_c``, gives the
    moment (ANOVA-type) estimator ``rho = A / B`` with

    .. math::

        A = \\sum_c \\tfrac{n_c}{n_c-1} \\sum_{i \\in c}(y_i - p_c x_i)^2
            - \\sum_c p_c(1-p_c) \\textstyle\\sum x, \\qquad
        B = \\sum_c p_c(1-p_c) (\\textstyle\\sum x^2 - \\sum x).

    ``B`` measures how much the data can tell (it is 0 when every answer is
    positive). The value used is ``(A + k0) / (B + k0)`` clipped to [0, 1]:
    a data-poor round leans towards ``rho = 1`` (each respondent counts
    once, the conservative end), a data-rich round gets its own estimate.
    It moves continuously with the data: one negative answer more or less
    never makes it jump.

    References
    ----------
    .. [1] Fleiss, J. L., Levin, B. & Paik, M. C. (2003). Statistical
       Methods for Rates and Proportions, 3rd ed., section 15.5 (intraclass
       correlation of binary data). Wiley.
    .. [2] Ridout, M. S., Demétrio, C. G. B. & Firth, D. (1999). Estimating
       intraclass correlation for binary data. Biometrics 55, 137-148.
    """
    k0 = RHO_PRIOR_WEIGHT if prior_weight is None else float(prior_weight)
    a, b = _rho_terms(respondents, valid, positive, valid_sq, positive_sq, valid_positive)
    return float(_shrunk_rho(np.sum(a), np.sum(b), k0))


def _rho_terms(respondents, valid, positive, valid_sq, positive_sq, valid_positive):
    """Each unit's share ``(A_c, B_c)`` of :func:`within_respondent_correlation`'s A and B."""
    n = _as_float(respondents)
    sx, sy = _as_float(valid), _as_float(positive)
    sxx, syy, sxy = _as_float(valid_sq), _as_float(positive_sq), _as_float(valid_positive)
    use = (n >= 2) & (sx > 0)  # one respondent cannot show how his answers vary around the unit's rate
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(use, sy / np.where(use, sx, 1.0), 0.0)
        rss = np.maximum(syy - 2.0 * p * sxy + p * p * sxx, 0.0)
        spread = p * (1.0 - p)
        a = np.where(use, np.where(use, n / (n - 1.0), 0.0) * rss - spread * sx, 0.0)
        b = np.where(use, spread * (sxx - sx), 0.0)
    return a, b


def _shrunk_rho(a, b, k0):
    return np.clip((a + k0) / (b + k0), 0.0, 1.0)


def pooled_n_eff(respondents, valid, rho):
    """Effective sample size of a pooled indicator: ``1 / ((1 - rho)/Σx + rho/n)``.

    Parameters
    ----------
    respondents : array_like
        Respondents ``n`` with at least one valid answer.
    valid : array_like
        Valid answers ``Σx``.
    rho : float or array_like
        Within-respondent correlation, from :func:`within_respondent_correlation`.

    Returns
    -------
    ndarray or float
        ``Σx / (1 + (m - 1) rho)`` with ``m = Σx / n`` the mean answers per
        respondent (Kish's design effect of clusters of size ``m``); 0 where
        ``Σx = 0``.

    Notes
    -----
    Written as ``1/n_eff = (1 - rho)/Σx + rho/n``, the effective size grows
    with both ``n`` and ``Σx`` and does not depend on the rate: a positive
    answer more never lowers it, turning a negative answer positive leaves
    it alone, and nothing jumps at a rate of 0 or 1. It lies between ``n``
    (``rho = 1``) and ``Σx`` (``rho = 0``).
    """
    n, sx, rho = _as_float(respondents), _as_float(valid), _as_float(rho)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where((sx > 0) & (n > 0), 1.0 / ((1.0 - rho) / np.where(sx > 0, sx, 1.0)
                                                 + rho / np.where(n > 0, n, 1.0)), 0.0)
    return float(out) if out.ndim == 0 else out


def weighted_n_eff(respondents, valid, kish_n_eff, rho):
    """Effective sample size of a weighted pooled indicator: :func:`pooled_n_eff` × ``kish_n_eff / n``.

    The design effect of unequal weights (Kish's ``n Σw² / (Σw)²``) times
    that of answers clustered in respondents (``1 + (m̄ - 1) rho``), the
    model-based design effect of Gabler, Haeder & Lahiri (1999). It does not
    depend on the rate, so (for given weights) a positive answer more never
    lowers it and nothing jumps at a rate of 0 or 1.

    References
    ----------
    .. [1] Gabler, S., Haeder, S. & Lahiri, P. (1999). A model based
       justification of Kish's formula for design effects for weighting and
       clustering. Survey Methodology 25, 105-106.
    """
    n = _as_float(respondents)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, _as_float(kish_n_eff) / np.where(n > 0, n, 1.0), 0.0)
    out = pooled_n_eff(n, valid, rho) * share
    return float(out) if np.ndim(out) == 0 else out


def _indicator_stats(respondents, valid, positive, valid_sq, positive_sq, valid_positive, rho=None):
    """Ratio estimate, its linearised se, the design effect and the effective sample size.

    ``rho`` is the within-respondent correlation; None estimates it from
    these rows taken together (:func:`within_respondent_correlation`).
    """
    n = _as_float(respondents)
    sx, sy = _as_float(valid), _as_float(positive)
    sxx, syy, sxy = _as_float(valid_sq), _as_float(positive_sq), _as_float(valid_positive)
    if rho is None:
        rho = within_respondent_correlation(n, sx, sy, sxx, syy, sxy)
    r = _ratio(sy, sx)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Σ(y - r x)^2 from the sums; cancellation can leave a tiny negative.
        resid_ss = np.maximum(syy - 2.0 * r * sxy + r * r * sxx, 0.0)
        v = np.where(n >= 2, n / (n - 1.0) * resid_ss / (sx * sx), np.nan)
    # The area's own variance is shown (se) but not used for the interval: it is 0 at a rate of 1
    # and jumps with one negative answer, so a better area could get a worse verdict.
    n_eff = pooled_n_eff(n, sx, rho)
    n_eff = np.where(sx > 0, n_eff, 0.0)
    deff = _ratio(sx, n_eff)
    return r, np.sqrt(v), deff, n_eff


def add_indicator_rates(df: pd.DataFrame, method: str = "wilson", confidence: float = 0.95,
                        rho: float | None = None) -> pd.DataFrame:
    """Add the pooled indicator rate with a respondent-level interval.

    Parameters
    ----------
    df : DataFrame
        One row per group with sums over the group's respondents ``i`` of
        ``x_i`` (valid answers to the indicator's items) and ``y_i``
        (positive answers): ``respondents`` (count of respondents with
        ``x_i > 0``), ``valid`` (Σx), ``positive`` (Σy), ``valid_sq`` (Σx²),
        ``positive_sq`` (Σy²) and ``valid_positive`` (Σxy).
    method : str
        Interval method, one of :data:`analysis.proportion.METHODS`.
    confidence : float
        Two-sided confidence level.
    rho : float, optional
        Within-respondent correlation of the indicator's answers; None
        estimates it from all rows of ``df`` together
        (:func:`within_respondent_correlation`).

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``rate``, ``se``, ``deff``, ``n_eff``,
        ``ci_low`` and ``ci_high``.

    Notes
    -----
    The rate is the ratio estimator ``r = Σy / Σx``. Its linearised
    (Taylor) variance, with respondents as independent units, is

    .. math::

        v = \\frac{n}{n-1} \\frac{\\sum_i (y_i - r x_i)^2}{(\\sum_i x_i)^2}
          = \\frac{n}{n-1} \\frac{\\sum y^2 - 2r\\sum xy + r^2 \\sum x^2}{(\\sum x)^2},

    ``se = sqrt(v)``, shown for reference. The interval does not use ``v``:
    it is 0 when every answer is positive and jumps with the first negative
    answer, which let a 100 % area get a worse verdict than a 98.9 % one
    (issue 14). The effective sample size is instead the design-effect
    model of Kish (1965) with a within-respondent correlation ``rho``
    shared by all areas of the round (:func:`pooled_n_eff`),

    .. math::

        \\frac{1}{n_{eff}} = \\frac{1 - \\rho}{\\sum x} + \\frac{\\rho}{n},
        \\qquad deff = \\frac{\\sum x}{n_{eff}} = 1 + (\\bar m - 1)\\rho,

    with ``m̄ = Σx / n``; it grows with respondents and answers and does not
    depend on the rate, so the lower bound never falls when an answer turns
    positive or a positive answer is added. The interval is
    ``proportion_ci(r n_eff, n_eff)``, the effective-sample-size approach of
    Korn & Graubard (1998), which keeps Wilson/Clopper-Pearson/Jeffreys
    behaviour near 0 and 1 where a Wald interval ``r ± z se`` would not.
    Its coverage is shown by ``python -m analysis.calibration``.

    References
    ----------
    .. [1] Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for
       proportions with small expected number of positive counts estimated
       from survey data. Survey Methodology 24, 193-201.
    .. [2] Cochran, W. G. (1977). Sampling Techniques, 3rd ed., section 6.4
       (variance of the ratio estimator). Wiley.
    .. [3] Kish, L. (1965). Survey Sampling, section 8.2 (design effect). Wiley.
    """
    out = df.copy()
    r, se, deff, n_eff = _indicator_stats(
        out["respondents"], out["valid"], out["positive"],
        out["valid_sq"], out["positive_sq"], out["valid_positive"], rho=rho,
    )
    out["rate"], out["se"], out["deff"], out["n_eff"] = r, se, deff, n_eff
    out["ci_low"], out["ci_high"] = proportion_ci(r * n_eff, n_eff, method, confidence)
    return out


def _target_array(target) -> np.ndarray:
    if target is None:
        return np.array(np.nan)
    if isinstance(target, (pd.Series, pd.Index)):
        return target.to_numpy(dtype=float, na_value=np.nan)
    # dtype=float turns None into nan inside lists too.
    return np.asarray(target, dtype=float)


def verdicts(ci_low, ci_high, target):
    """Verdict of each interval against its target.

    Parameters
    ----------
    ci_low, ci_high : float or array_like
        Interval bounds.
    target : float, None or array_like
        Target rate; None or nan means the indicator has no target.

    Returns
    -------
    str or ndarray of str (object dtype)
        ``"met"`` when ``ci_low >= target``, ``"not_met"`` when
        ``ci_high < target``, ``"undecided"`` when the interval contains the
        target, ``"no_data"`` when the interval is nan (checked first) and
        ``"no_target"`` when the target is missing. A str when all inputs are
        scalars.

    Notes
    -----
    Met means the data reject ``p < target`` at level ``(1 - confidence)/2``;
    "at or above" follows the campaigns' wording (知晓率 ≥ 95 %).
    """
    codes = _verdict_codes(ci_low, ci_high, target)
    out = np.asarray(VERDICTS, dtype=object)[codes]
    return str(out) if np.ndim(codes) == 0 else out


def _verdict_codes(ci_low, ci_high, target) -> np.ndarray:
    """Positions in :data:`VERDICTS`; integer codes let callers build columns cheaply."""
    lo, hi, t = _as_float(ci_low), _as_float(ci_high), _target_array(target)
    scalar = lo.ndim == 0 and hi.ndim == 0 and t.ndim == 0
    lo, hi, t = np.broadcast_arrays(lo, hi, t)
    with np.errstate(invalid="ignore"):
        codes = np.select(
            [np.isnan(lo) | np.isnan(hi), np.isnan(t), lo >= t, hi < t],
            [VERDICTS.index(v) for v in ("no_data", "no_target", "met", "not_met")],
            default=VERDICTS.index("undecided"),
        )
    return codes[()] if scalar else codes
