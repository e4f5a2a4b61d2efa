"""Survey weights: post-stratification, raking, population-scaled weights, and Kish's design effect.

Mock survey rounds over-sample whoever is easy to reach (retired people in the
daytime, people near the community office). This module re-weights
respondents to a district's known population by age group and sex
(:func:`poststratification_weights`, :func:`raking_weights`) and reports what
the weighting costs in precision (:func:`kish_deff`,
:func:`effective_sample_size`). The rates computed with these weights, with
intervals from the linearised variance of a weighted ratio (never from
treating the weights as if they were counts), are in
:mod:`analysis.weighted_rates`; the variance of a stratified, clustered design
in :mod:`analysis.design`.

:func:`poststratification_weights` and :func:`raking_weights` return
*relative* weights: mean 1 over the sample (``Σ n w = Σ n``). A rate, its
standard error and its effective sample size do not change when all weights
of a group are multiplied by one constant, but a group that pools several
weighting strata (the whole city pools its districts) needs weights on one
common scale. :func:`population_weights` gives them: each stratum's weights
add up to its population, so every level above the weighting cells is
weighted by population, not by the number of interviews.

Error messages meant for analysts are bilingual: Chinese first, then English,
separated by `` / ``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .proportion import _as_float

__all__ = [
    "EmptyCellError",
    "population_weights",
    "poststratification_weights",
    "raking_weights",
    "kish_deff",
    "effective_sample_size",
]

# At most this many offending cells are spelled out in an error message.
_MAX_NAMED = 5


# ----------------------------------------------------------------------------- helpers


class EmptyCellError(ValueError):
    """A weighting cell (or raking category) with population but no respondents, or the reverse.

    The message is bilingual, as for every ValueError here; ``cells`` holds
    the offending cells (one row each, the cell columns) so that a page can
    name them with area names in the reader's language, and ``kind`` says
    which side is empty: ``"no_sample"`` or ``"no_population"``. The remedy
    is the same for both: collapse the cell with a neighbouring one (e.g.
    merge two adjacent age groups of the district) or weight by fewer
    variables; any weight given to such a cell would be invented.
    """

    def __init__(self, message: str, cells: pd.DataFrame, kind: str):
        super().__init__(message)
        self.cells = cells.reset_index(drop=True)
        self.kind = kind


def _cell_label(row: Mapping, cells: Sequence[str]) -> str:
    return ", ".join(f"{c}={row[c]}" for c in cells)


def _cell_list(frame: pd.DataFrame, cells: Sequence[str]) -> str:
    labels = [_cell_label(r, cells) for r in frame[list(cells)].to_dict("records")[:_MAX_NAMED]]
    more = len(frame) - len(labels)
    return "; ".join(labels) + (f" (+{more})" if more > 0 else "")


def _check_unique(frame: pd.DataFrame, cells: Sequence[str], zh: str, en: str) -> None:
    dup = frame[frame.duplicated(list(cells), keep=False)]
    if len(dup):
        cell = _cell_list(dup.drop_duplicates(list(cells)), cells)
        raise ValueError(f"{zh}中单元重复：{cell} / {en} lists cell(s) more than once: {cell}")


def _nonnegative(values: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{what} 必须是有限的非负数 / {what} must be finite and non-negative")
    return values


# ----------------------------------------------------------------------------- weights


def poststratification_weights(
    sample_counts: pd.DataFrame,
    population: pd.DataFrame,
    cells: Sequence[str] = ("age_group", "sex"),
) -> pd.DataFrame:
    """Post-stratification weights: population share over sample share per cell.

    Parameters
    ----------
    sample_counts : DataFrame
        One row per cell: the ``cells`` columns and ``n`` (respondents
        interviewed in the cell).
    population : DataFrame
        One row per cell: the same ``cells`` columns and ``population``
        (residents in the cell, e.g. from the census or the household
        register).
    cells : sequence of str
        Columns that define a cell. Include ``district_id`` to post-stratify
        each district to its own population: rates inside a district only
        depend on the weights' ratios within the district.

    Returns
    -------
    DataFrame
        One row per cell with ``n > 0``: the ``cells`` columns, ``n``,
        ``population`` and ``weight``.

    Raises
    ------
    ValueError
        When a cell with respondents has no (or zero) population, when a
        populated cell has no respondents, when a cell is listed twice, or
        when counts are negative. The message names the cells in Chinese and
        English. Such cells must be collapsed with a neighbouring cell before
        weighting: any weight given to them would be invented.

    Notes
    -----
    With ``n_c`` respondents and ``N_c`` residents in cell ``c``,
    ``n = Σ n_c`` and ``N = Σ N_c``,

    .. math::

        w_c = \\frac{N_c / N}{n_c / n},

    so ``Σ_c n_c w_c = n Σ_c N_c / N = n``: the weights have mean 1 over
    respondents and the weighted sample reproduces the population's cell
    shares exactly (Kish 1965, section 11.7; Holt & Smith 1979).

    References
    ----------
    .. [1] Kish, L. (1965). Survey Sampling, section 11.7. Wiley.
    .. [2] Holt, D. & Smith, T. M. F. (1979). Post stratification. JRSS A
       142, 33-46.
    """
    cells = list(cells)
    _check_unique(sample_counts, cells, "样本数据", "sample_counts")
    _check_unique(population, cells, "人口数据", "population")
    merged = pd.merge(
        sample_counts[[*cells, "n"]], population[[*cells, "population"]],
        on=cells, how="outer", indicator=True, sort=True,
    )
    n = merged["n"].to_numpy(dtype=float, na_value=0.0)
    pop = merged["population"].to_numpy(dtype=float, na_value=0.0)
    _nonnegative(n, "n")
    _nonnegative(pop, "population")

    no_pop = merged[(n > 0) & (pop <= 0)]
    if len(no_pop):
        cell = _cell_list(no_pop, cells)
        raise EmptyCellError(
            f"人口数据缺少单元 {cell}（该单元有受访者）；请与相邻单元合并或补充人口数 / "
            f"population has no cell {cell} although the sample has respondents there; "
            f"merge it with a neighbouring cell or supply its population",
            no_pop[cells], "no_population",
        )
    no_sample = merged[(pop > 0) & (n <= 0)]
    if len(no_sample):
        cell = _cell_list(no_sample, cells)
        raise EmptyCellError(
            f"样本缺少单元 {cell}（该单元有人口）；请与相邻单元合并 / "
            f"sample has no respondents in cell {cell} although it has population; "
            f"merge it with a neighbouring cell",
            no_sample[cells], "no_sample",
        )
    if n.sum() <= 0:
        raise ValueError("样本为空 / the sample is empty")

    keep = n > 0
    out = merged.loc[keep, cells].reset_index(drop=True)
    n, pop = n[keep], pop[keep]
    out["n"] = n
    out["population"] = pop
    out["weight"] = (pop / pop.sum()) / (n / n.sum())
    return out


def raking_weights(
    sample: pd.DataFrame,
    margins: Mapping[str, pd.Series],
    max_iter: int = 100,
    tol: float = 1e-8,
    trim: tuple[float | None, float | None] | None = None,
    base_weights=None,
) -> pd.Series:
    """Raking (iterative proportional fitting) weights to known margins.

    Parameters
    ----------
    sample : DataFrame
        One row per respondent, or one row per cell with a column ``n``
        (respondents in the cell). Must hold a column for every variable in
        ``margins``.
    margins : mapping of str to Series
        ``variable -> target totals by category`` (Series indexed by
        category), e.g. ``{"sex": pd.Series({"male": 512_000, "female":
        498_000}), "age_group": ...}``. Only each margin's shares matter, so
        totals from different tables need not agree exactly.
    max_iter : int
        Maximum number of raking cycles (one cycle adjusts every variable
        once).
    tol : float
        Convergence criterion: the largest gap between a weighted sample
        share and its target share, over all categories of all variables.
    trim : (lower, upper) or None
        Bounds for the weights as multiples of the mean weight (which is 1),
        e.g. ``(0.3, 3.0)``. ``None`` for either bound leaves that side open.
        After each cycle the weights are clipped to the bounds and raking
        continues until the margins are met (within ``tol``) with every
        weight inside the bounds.
    base_weights : array_like, optional
        Starting weights per row (design weights). Default all 1.

    Returns
    -------
    Series
        ``weight`` per row of ``sample`` (same index), scaled to mean 1 over
        respondents: ``Σ n w = Σ n``.

    Raises
    ------
    ValueError
        When a category with a positive target has no respondents, when a
        sample category is missing from (or has a zero target in) its margin,
        when trimming bounds exclude the mean weight 1, or when raking does
        not converge within ``max_iter`` cycles (bounds too tight, or margins
        that the sample cannot meet).

    Notes
    -----
    With row counts ``n_i``, the target total of category ``k`` of variable
    ``v`` rescaled to the sample size, ``T_{vk} = n · M_{vk} / Σ_k M_{vk}``,
    each step of a cycle multiplies the weights of the rows in category ``k``
    by

    .. math::

        f_{vk} = T_{vk} / \\sum_{i \\in k} n_i w_i ,

    which meets margin ``v`` exactly and disturbs the others a little less
    each cycle (Deming & Stephan 1940). The fixed point minimises the raking
    (multiplicative) distance to the base weights subject to the margins
    (Deville & Särndal 1992). With a single variable, or with a full
    cross-classification as the only "margin", raking is post-stratification.
    With two variables it equals post-stratification on the cross-table
    exactly when the population-to-sample ratio of the cross-table factorises
    (no interaction), e.g. when both the sample and the population tables are
    independent.

    Trimming follows the usual trim-and-rerake scheme (Izrael, Hoaglin &
    Battaglia 2000): extreme weights cost more in variance (see
    :func:`kish_deff`) than the small bias they remove.

    References
    ----------
    .. [1] Deming, W. E. & Stephan, F. F. (1940). On a least squares
       adjustment of a sampled frequency table when the expected marginal
       totals are known. Ann. Math. Statist. 11, 427-444.
    .. [2] Deville, J.-C. & Särndal, C.-E. (1992). Calibration estimators in
       survey sampling. JASA 87, 376-382.
    .. [3] Izrael, D., Hoaglin, D. C. & Battaglia, M. P. (2000). A SAS macro
       for balancing a weighted sample. Proceedings of SUGI 25, paper 275.
    """
    if not margins:
        raise ValueError("没有给出任何边际 / no margins given")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}")
    counts = _as_float(sample["n"]) if "n" in sample.columns else np.ones(len(sample))
    _nonnegative(counts, "n")
    total = counts.sum()
    if total <= 0:
        raise ValueError("样本为空 / the sample is empty")

    w = np.ones(len(sample)) if base_weights is None else _as_float(base_weights).copy()
    if w.shape != counts.shape:
        raise ValueError("base_weights must have one value per row of sample")
    _nonnegative(w, "base_weights")
    if np.sum(counts * w) <= 0:
        raise ValueError("base_weights are all zero")
    w *= total / np.sum(counts * w)

    lower, upper = (None, None) if trim is None else trim
    lower = 0.0 if lower is None else float(lower)
    upper = np.inf if upper is None else float(upper)
    if not 0.0 <= lower <= 1.0 <= upper:
        raise ValueError(
            f"修剪界限必须包含平均权重 1：{trim!r} / trim bounds must satisfy "
            f"0 <= lower <= 1 <= upper (multiples of the mean weight), got {trim!r}"
        )

    plan = []  # (variable, codes, target totals on the sample scale)
    for var, margin in margins.items():
        plan.append((var, *_margin_codes(sample[var], counts, margin, var, total)))

    def gap() -> float:
        return max(
            np.max(np.abs(np.bincount(codes, counts * w, target.size) - target)) / total
            for _, codes, target in plan
        )

    for _ in range(max_iter):
        for _, codes, target in plan:
            achieved = np.bincount(codes, counts * w, target.size)
            # Target-0 categories hold no respondents (checked above): factor 1 is a no-op.
            factor = np.divide(target, achieved, out=np.ones_like(target), where=achieved > 0)
            w *= factor[codes]
        if trim is not None:
            # The last step left Σ n w = Σ n, so the mean weight is 1 and the
            # bounds are absolute; clipping moves the mean by less than tol.
            w = np.clip(w, lower, upper)
        # Checked after clipping, so the weights returned are inside the bounds
        # and the margins are met: both hold at the fixed point.
        worst = gap()
        if worst < tol:
            return pd.Series(w, index=sample.index, name="weight")

    hint_zh = "（修剪界限可能过紧）" if trim is not None else ""
    hint_en = " (the trimming bounds may be too tight)" if trim is not None else ""
    raise ValueError(
        f"加权迭代 {max_iter} 次后未收敛，边际最大偏差 {worst:.3g}{hint_zh} / "
        f"raking did not converge after {max_iter} iterations; largest margin gap "
        f"{worst:.3g} > tol {tol:g}{hint_en}"
    )


def _margin_codes(values: pd.Series, counts: np.ndarray, margin: pd.Series, var: str, total: float):
    """Category codes of each row against ``margin`` and targets on the sample scale."""
    margin = pd.Series(margin)
    if margin.index.has_duplicates:
        raise ValueError(f"边际 {var} 的类别重复 / margin {var} lists a category more than once")
    target = _nonnegative(_as_float(margin), f"margin {var}")
    if target.sum() <= 0:
        raise ValueError(f"边际 {var} 的总数为 0 / margin {var} sums to zero")
    codes = margin.index.get_indexer(pd.Index(values))
    unknown = (codes < 0) & (counts > 0)
    if unknown.any():
        cats = ", ".join(f"{var}={c}" for c in pd.unique(values[unknown])[:_MAX_NAMED])
        raise ValueError(f"边际中缺少样本类别 {cats} / margin {var} has no target for sample category {cats}")
    codes = np.where(codes < 0, 0, codes)  # rows with n = 0 only; they never count
    achieved = np.bincount(codes, counts, target.size)
    empty = (target > 0) & (achieved <= 0)
    if empty.any():
        cats = ", ".join(f"{var}={c}" for c in margin.index[empty][:_MAX_NAMED])
        raise EmptyCellError(
            f"样本缺少类别 {cats}；请与相邻类别合并 / sample has no respondents in category {cats}; "
            f"merge it with a neighbouring category",
            pd.DataFrame({var: list(margin.index[empty])}), "no_sample",
        )
    zero = (target <= 0) & (achieved > 0)
    if zero.any():
        cats = ", ".join(f"{var}={c}" for c in margin.index[zero][:_MAX_NAMED])
        raise ValueError(f"边际中类别 {cats} 的目标为 0 但有受访者 / margin {var} has a zero target for sample category {cats}")
    return codes, target / target.sum() * total


def _margin_key(frame: pd.DataFrame, spec) -> tuple[str, pd.Series]:
    """Name and per-row category of one raking margin: a column, or a tuple of crossed columns."""
    if isinstance(spec, str):
        return spec, frame[spec]
    columns = list(spec)
    labels = frame[columns[0]].astype(str)
    for column in columns[1:]:
        labels = labels + "|" + frame[column].astype(str)
    return " × ".join(columns), labels


def population_weights(
    sample: pd.DataFrame,
    population: pd.DataFrame,
    scheme: str = "poststratification",
    strata: str | None = "district_id",
    cells: Sequence[str] = ("age_group", "sex"),
    margins: Sequence[str | tuple[str, ...]] | None = None,
    trim: tuple[float | None, float | None] | None = None,
) -> pd.DataFrame:
    """Cell weights that add up to each stratum's population.

    Parameters
    ----------
    sample : DataFrame
        One row per cell: ``strata`` (if any), the ``cells`` columns and
        ``n`` (respondents).
    population : DataFrame
        One row per cell: the same columns and ``population``.
    scheme : {"poststratification", "raking"}
        Post-stratification on the full cross-classification of ``cells``
        (:func:`poststratification_weights`), or raking to the ``margins``
        (:func:`raking_weights`), each within its stratum.
    strata : str or None
        Column of the weighting strata (the district): each stratum is
        weighted to its own population. None: one stratum.
    cells : sequence of str
        Columns of a weighting cell inside a stratum.
    margins : sequence of str or tuple of str, optional
        Raking margins: a column name, or a tuple of columns raked as one
        crossed margin. Default: each column of ``cells`` on its own.
    trim : (lower, upper) or None
        Raking only: bounds as multiples of the stratum's mean weight, as in
        :func:`raking_weights`.

    Returns
    -------
    DataFrame
        The rows of ``sample`` with ``n > 0``: ``strata``, ``cells``, ``n``
        and ``weight``, where ``Σ n w`` over a stratum equals the stratum's
        population ``N_h``.

    Raises
    ------
    EmptyCellError
        A cell (or raking category) of a stratum with population but no
        respondents, or the reverse; its ``cells`` name the stratum too.
    ValueError
        As :func:`poststratification_weights` and :func:`raking_weights`.

    Notes
    -----
    Inside stratum ``h`` the relative weights ``w_c`` (mean 1 over the
    stratum's ``n_h`` respondents) are scaled by ``N_h / n_h``, the
    expansion factor. Rates inside a stratum do not change; a rate over
    several strata (the whole city) then weights each stratum by its
    population share, as post-stratification on stratum × cell does:

    .. math::

        r = \\frac{\\sum_h \\sum_{c \\in h} w_c \\Sigma y_c}{\\sum_h \\sum_{c \\in h} w_c \\Sigma x_c}.

    Relative weights pooled without this scaling weight a stratum by its
    number of interviews instead. Post-stratification is raking on one
    crossed margin (``margins=[tuple(cells)]``), so the two schemes give the
    same weights there, and also with separate margins whenever the
    stratum's population-to-sample ratio factorises over them
    (Deming & Stephan 1940; Deville & Särndal 1992).
    """
    if scheme not in ("poststratification", "raking"):
        raise ValueError(f"unknown weighting scheme {scheme!r}; choose poststratification or raking")
    cells = list(cells)
    keys = ([strata] if strata else []) + cells
    _check_unique(sample, keys, "样本数据", "sample_counts")
    _check_unique(population, keys, "人口数据", "population")
    if strata:
        # Strata on one side only are empty cells of a whole stratum.
        ps = pd.merge(sample.groupby(strata)["n"].sum().reset_index(),
                      population.groupby(strata)["population"].sum().reset_index(), on=strata, how="outer")
        lonely = ps[(ps["n"].fillna(0) > 0) & ~(ps["population"].fillna(0) > 0)]
        if len(lonely):
            cell = _cell_list(lonely, [strata])
            raise EmptyCellError(
                f"人口数据缺少 {cell}（有受访者）；请补充人口数 / population has no rows for {cell} "
                f"although the sample has respondents there; supply its population",
                lonely[[strata]], "no_population",
            )
        groups = [(key, sample[sample[strata] == key], population[population[strata] == key])
                  for key in sorted(ps.loc[ps["n"].fillna(0) > 0, strata])]
    else:
        groups = [(None, sample, population)]

    parts = []
    for key, part, people in groups:
        try:
            part = _weights_in_stratum(part.reset_index(drop=True), people, scheme, cells, margins, trim)
        except EmptyCellError as problem:
            if strata is None:
                raise
            labelled = problem.cells.copy()
            labelled.insert(0, strata, key)
            raise EmptyCellError(f"{strata}={key}: {problem}", labelled, problem.kind) from None
        except ValueError as problem:
            if strata is None:
                raise
            raise ValueError(f"{strata}={key}: {problem}") from None
        # Expansion: relative weights (mean 1) times N_h / n_h, so Σ n w = N_h.
        part["weight"] = part["weight"] * people["population"].sum() / part["n"].sum()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[[*keys, "n", "weight"]]


def _weights_in_stratum(part, people, scheme, cells, margins, trim) -> pd.DataFrame:
    if scheme == "poststratification":
        weights = poststratification_weights(part[[*cells, "n"]], people[[*cells, "population"]], cells=cells)
        return part.merge(weights[[*cells, "weight"]], on=cells, how="inner")
    part = part[part["n"] > 0].reset_index(drop=True)
    # A populated cell with no respondents is legitimate for raking (its
    # margins can be met through other cells), only a whole empty category is not.
    targets = {}
    rows = {}
    for spec in margins or cells:
        name, categories = _margin_key(people, spec)
        rows[name] = _margin_key(part, spec)[1]
        targets[name] = people["population"].groupby(categories.to_numpy()).sum()
    frame = pd.DataFrame({**rows, "n": part["n"].to_numpy()})
    part["weight"] = raking_weights(frame, targets, trim=trim).to_numpy()
    return part


def kish_deff(weights, counts=None) -> float:
    """Kish's design effect due to unequal weights.

    Parameters
    ----------
    weights : array_like
        One weight per respondent, or per cell when ``counts`` is given.
    counts : array_like, optional
        Respondents per cell; each cell's weight counts ``counts`` times.

    Returns
    -------
    float
        ``deff = n Σ w² / (Σ w)²`` with ``n = Σ counts`` and the sums over
        respondents (``Σ c w²`` and ``Σ c w`` over cells). At least 1, equal
        to 1 for equal weights; nan for an empty sample.

    Notes
    -----
    ``deff = 1 + CV²(w)`` (population coefficient of variation of the
    weights): the variance inflation of a weighted mean when the weights are
    unrelated to the answers (Kish 1965, section 11.7; Kish 1992).

    References
    ----------
    .. [1] Kish, L. (1992). Weighting for unequal P_i. Journal of Official
       Statistics 8, 183-200.
    """
    w = _as_float(weights)
    c = np.ones_like(w) if counts is None else _as_float(counts)
    sw = np.sum(c * w)
    return float(np.sum(c) * np.sum(c * w * w) / (sw * sw)) if sw > 0 else float("nan")


def effective_sample_size(weights, counts=None) -> float:
    """Kish's effective sample size ``(Σ w)² / Σ w²`` (= ``n / kish_deff``).

    Parameters and sums as in :func:`kish_deff`. Returns 0 for an empty
    sample.
    """
    w = _as_float(weights)
    c = np.ones_like(w) if counts is None else _as_float(counts)
    sw2 = np.sum(c * w * w)
    return float(np.sum(c * w) ** 2 / sw2) if sw2 > 0 else 0.0
