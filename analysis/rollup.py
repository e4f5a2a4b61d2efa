"""Roll community-level tallies up the area tree and compute a round's results.

The tally holds, per community, indicator and item, the six respondent-level
sums that :func:`analysis.rates.add_indicator_rates` needs. Sums add up along
the tree, so every level is one ``bincount`` away from the community rows, and
the respondent-level variance stays exact at every level. The work is done on
integer positions and numpy arrays; string columns are only taken from small
catalogues at the end, because pandas string merges cost milliseconds each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .proportion import proportion_ci
from .rates import VERDICTS, _indicator_stats, _ratio, _verdict_codes, within_respondent_correlation
from .sample_size import extra_interviews_needed

__all__ = ["LEVELS", "SUMS", "RoundResults", "roll_up", "round_correlations", "round_results"]

LEVELS = ("city", "district", "street", "community")
SUMS = ("respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive")
INDICATOR_ORDER = ("awareness", "support", "participation", "satisfaction")
CITY = {"area_id": 0, "area_code": "city", "area_name_zh": "全市", "area_name_en": "Whole city"}

_VERDICT_STR = pd.array(list(VERDICTS), dtype="str")
_AREA_COLUMNS = ["area_id", "area_code", "area_name_zh", "area_name_en", "parent_name_zh", "parent_name_en"]
# Column of a community's row in `areas` that names its ancestor at each level.
_ANCESTOR = {"community": "id", "street": "street_id", "district": "district_id"}

INDICATOR_COLUMNS = [
    "level", *_AREA_COLUMNS, "indicator", "respondents", "valid", "positive", "rate", "se",
    "deff", "n_eff", "ci_low", "ci_high", "target", "verdict", "extra_needed", "too_small",
]
ITEM_COLUMNS = [
    "level", *_AREA_COLUMNS, "indicator", "item", "valid", "positive", "rate", "ci_low",
    "ci_high", "target", "gap", "verdict",
]


@dataclass(frozen=True)
class RoundResults:
    """Results of one survey round at every requested level.

    Attributes
    ----------
    indicators : DataFrame
        One row per level × area × indicator, columns :data:`INDICATOR_COLUMNS`.
    items : DataFrame
        One row per level × area × item, columns :data:`ITEM_COLUMNS`, the
        weakest items of each area first.
    """

    indicators: pd.DataFrame
    items: pd.DataFrame


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    return level


def _rank_of(indicator) -> np.ndarray:
    """Display rank of indicator names: the four known ones in order, then the rest."""
    rank = {name: i for i, name in enumerate(INDICATOR_ORDER)}
    return np.array([rank.get(name, len(INDICATOR_ORDER)) for name in indicator], dtype=np.int64)


def _str_array(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def _level_areas(areas: pd.DataFrame, level: str) -> dict:
    """Id, code, names and parent names of every area at ``level``, in code order, as arrays."""
    if level == "city":
        return {**{k: np.array([v], dtype=object) for k, v in CITY.items()},
                "area_id": np.array([CITY["area_id"]]),
                "parent_name_zh": np.array([None], dtype=object), "parent_name_en": np.array([None], dtype=object)}
    # Positional look-ups on object arrays instead of merges and string sorts in
    # pandas: areas are few, but each pandas string operation costs milliseconds.
    own = np.flatnonzero((areas["level"] == level).to_numpy())
    ids = areas["id"].to_numpy()
    codes = areas["code"].to_numpy(dtype=object)[own]
    own = own[np.lexsort((ids[own], np.array([str(c) for c in codes])))]
    parent = pd.Index(ids).get_indexer(areas["parent_id"].to_numpy()[own])
    names = {col: areas[col].to_numpy(dtype=object) for col in ("name_zh", "name_en")}
    out = {
        "area_id": ids[own],
        "area_code": areas["code"].to_numpy(dtype=object)[own],
        "area_name_zh": names["name_zh"][own],
        "area_name_en": names["name_en"][own],
    }
    for col in ("name_zh", "name_en"):
        # Districts hang off the city, which `areas` need not list.
        missing = CITY[f"area_{col}"] if level == "district" else None
        out[f"parent_{col}"] = np.where(parent >= 0, names[col][parent], missing)
    return out


def _clean(tally: pd.DataFrame) -> pd.DataFrame:
    # A missing item code means the pooled row; grouping would silently drop it as a key.
    return tally.assign(item=tally["item"].fillna("").astype(str))


@dataclass(frozen=True)
class _Rolled:
    """Sums on the grid level × area × key, kept as small catalogues plus positions.

    Row ``j`` of the grid is area ``area_pos[j]`` of ``areas`` (all requested
    levels stacked, each in code order) and key ``key_pos[j]`` of ``keys``
    (indicator, item in display order). Building frames by taking from the
    catalogues is far cheaper than merging string columns.
    """

    areas: pd.DataFrame
    keys: pd.DataFrame
    area_pos: np.ndarray
    key_pos: np.ndarray
    sums: dict

    def frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        area_pos = self.area_pos if rows is None else self.area_pos[rows]
        key_pos = self.key_pos if rows is None else self.key_pos[rows]
        cols = {"level": self.areas["level"].array.take(area_pos)}
        cols["area_id"] = self.areas["area_id"].to_numpy()[area_pos]
        for col in _AREA_COLUMNS[1:]:
            cols[col] = self.areas[col].array.take(area_pos)
        for col in ("indicator", "item"):
            cols[col] = self.keys[col].array.take(key_pos)
        for col in SUMS:
            cols[col] = self.sums[col] if rows is None else self.sums[col][rows]
        return pd.DataFrame(cols)


def _roll_levels(tally: pd.DataFrame, areas: pd.DataFrame, levels: Sequence[str],
                 indicators: Sequence[str] = ()) -> _Rolled:
    if not levels:
        raise ValueError(f"levels must name at least one of {', '.join(LEVELS)}")
    tally = _clean(tally)
    ind_code, ind_names = pd.factorize(tally["indicator"])
    item_code, item_names = pd.factorize(tally["item"])
    width = max(len(item_names), 1)
    pair_code, pairs = pd.factorize(ind_code * width + item_code)
    key_ind = list(np.asarray(ind_names, dtype=object)[pairs // width])
    key_item = list(np.asarray(item_names, dtype=object)[pairs % width])
    # Indicators expected but never answered still get a pooled row ("no data").
    present = {(i, it) for i, it in zip(key_ind, key_item)}
    for name in indicators:
        if (name, "") not in present:
            key_ind.append(name)
            key_item.append("")
            present.add((name, ""))
    # Keys in display order: known indicators first, the pooled row ('') before its items.
    rank = _rank_of(key_ind)
    order = sorted(range(len(key_ind)), key=lambda k: (rank[k], key_ind[k], key_item[k]))
    n_keys = len(order)
    key_of_pair = np.empty(n_keys, dtype=np.int64)
    key_of_pair[order] = np.arange(n_keys)
    keys = pd.DataFrame({
        "indicator": _str_array([key_ind[k] for k in order]),
        "item": _str_array([key_item[k] for k in order]),
    })
    key = key_of_pair[pair_code] if len(pairs) else pair_code.astype(np.int64)

    # Rows of communities missing from `areas` are dropped at every level, city
    # included, so that the levels add up to one another.
    communities = areas.loc[(areas["level"] == "community").to_numpy()]
    comm = pd.Index(communities["id"]).get_indexer(tally["community_id"])
    known = comm >= 0
    comm, key = comm[known], key[known]
    # A missing sum (<NA>) adds nothing rather than poisoning the whole area.
    values = {col: tally[col].to_numpy(dtype=float, na_value=0.0)[known] for col in SUMS}

    tables, area_pos, key_pos, sums = [], [], [], {col: [] for col in SUMS}
    offset = 0
    for level in levels:
        table = _level_areas(areas, level)
        n_areas = len(table["area_id"])
        table["level"] = np.full(n_areas, level, dtype=object)
        if level == "city":
            ancestor = np.zeros(len(communities), dtype=np.int64)
        else:
            ancestor = pd.Index(table["area_id"]).get_indexer(communities[_ANCESTOR[level]].to_numpy())
        where = ancestor[comm]
        ok = where >= 0
        cell = where[ok] * n_keys + key[ok]
        # Every area × key gets a cell, so an area without interviews shows up as "no data".
        for col in SUMS:
            sums[col].append(np.bincount(cell, weights=values[col][ok], minlength=n_areas * n_keys))
        area_pos.append(offset + np.repeat(np.arange(n_areas), n_keys))
        key_pos.append(np.tile(np.arange(n_keys), n_areas))
        tables.append(table)
        offset += n_areas

    out_sums = {}
    for col in SUMS:
        total = np.concatenate(sums[col]) if sums[col] else np.zeros(0)
        # bincount adds in float64, exact for integer counts below 2**53.
        out_sums[col] = total.astype(np.int64) if pd.api.types.is_integer_dtype(tally[col].dtype) else total
    cat = {col: np.concatenate([t[col] for t in tables]) for col in ["level", *_AREA_COLUMNS]}
    cat = pd.DataFrame({col: cat[col] if col == "area_id" else _str_array(cat[col]) for col in cat})
    return _Rolled(
        areas=cat, keys=keys,
        area_pos=np.concatenate(area_pos) if area_pos else np.zeros(0, dtype=np.int64),
        key_pos=np.concatenate(key_pos) if key_pos else np.zeros(0, dtype=np.int64),
        sums=out_sums,
    )


def roll_up(tally: pd.DataFrame, areas: pd.DataFrame, level: str) -> pd.DataFrame:
    """Sum community tallies to every area of one level.

    Parameters
    ----------
    tally : DataFrame
        Columns ``community_id``, ``indicator``, ``item`` (``''`` for the
        indicator's pooled row, otherwise a question code) and the sums
        ``respondents, valid, positive, valid_sq, positive_sq,
        valid_positive``.
    areas : DataFrame
        Columns ``id, code, name_zh, name_en, level, parent_id, street_id,
        district_id``; a community's ``street_id``/``district_id`` are its
        ancestors.
    level : {"city", "district", "street", "community"}
        Level to sum to.

    Returns
    -------
    DataFrame
        Columns ``level, area_id, area_code, area_name_zh, area_name_en,
        parent_name_zh, parent_name_en, indicator, item`` and the six sums,
        one row per area of ``level`` in ``areas`` × (indicator, item) pair in
        ``tally``. Areas without data get zero sums. The city is
        ``area_id = 0``, code ``"city"``, named 全市 / Whole city. Rows are
        ordered by area code, then indicator (awareness, support,
        participation, satisfaction, others), then item.

    Notes
    -----
    All six sums are additive over disjoint sets of respondents, so the sum
    of community sums is the area's sum, and the variance of
    :func:`~analysis.rates.add_indicator_rates` stays exact at every level.
    Tally rows whose ``community_id`` is not a community in ``areas`` are
    ignored at every level, city included, so that the levels add up.
    """
    return _roll_levels(tally, areas, [_check_level(level)]).frame()


def _targets_series(targets: Mapping[str, float | None] | None) -> pd.Series:
    # dtype=float turns None into nan: "no target".
    return pd.Series(dict(targets or {}), dtype=float)


def round_correlations(tally: pd.DataFrame) -> dict[str, float]:
    """Within-respondent correlation of each indicator, from the pooled rows of every community.

    One value per round and indicator, shared by every area: an area's effective sample size then
    depends only on its respondents and answers, so a better area never gets a worse verdict.
    Residuals are taken within communities (:func:`~analysis.rates.within_respondent_correlation`).
    """
    pooled = _clean(tally)
    pooled = pooled[pooled["item"] == ""]
    out = {}
    for indicator, rows in pooled.groupby("indicator", sort=False):
        out[str(indicator)] = within_respondent_correlation(
            *(rows[col].to_numpy(dtype=float, na_value=0.0) for col in SUMS))
    return out


def _indicator_results(rolled: _Rolled, rows, target, method, confidence, min_respondents, rho):
    sums = {col: rolled.sums[col][rows] for col in SUMS}
    rate, se, deff, n_eff = _indicator_stats(*(sums[col] for col in SUMS), rho=rho)
    low, high = proportion_ci(rate * n_eff, n_eff, method, confidence)
    codes = _verdict_codes(low, high, target)
    extra = np.where(codes <= 1, 0.0, np.nan)  # met, not_met
    # The search only runs where there is something to settle.
    undecided = np.flatnonzero(codes == VERDICTS.index("undecided"))
    if undecided.size:
        extra[undecided] = extra_interviews_needed(
            rate[undecided], n_eff[undecided], sums["respondents"][undecided], target[undecided],
            method, confidence,
        )
    out = rolled.frame(rows)
    out = out.assign(
        rate=rate, se=se, deff=deff, n_eff=n_eff, ci_low=low, ci_high=high, target=target,
        verdict=_VERDICT_STR.take(codes), extra_needed=extra,
        too_small=sums["respondents"] < min_respondents,
    )
    return out[INDICATOR_COLUMNS]


def _item_results(rolled: _Rolled, rows, target, method, confidence):
    valid, positive = rolled.sums["valid"][rows], rolled.sums["positive"][rows]
    rate = _ratio(positive, valid)
    # The items that pull an area down come first, empty items (nan rate) last;
    # area_pos already runs in level then code order, key_pos in indicator order.
    order = np.lexsort((rolled.key_pos[rows], np.where(np.isnan(rate), np.inf, rate), rolled.area_pos[rows]))
    rows, rate, target = rows[order], rate[order], target[order]
    low, high = proportion_ci(positive[order], valid[order], method, confidence)
    out = rolled.frame(rows).assign(
        rate=rate, ci_low=low, ci_high=high, target=target, gap=rate - target,
        verdict=_VERDICT_STR.take(_verdict_codes(low, high, target)),
    )
    return out[ITEM_COLUMNS]


def round_results(tally: pd.DataFrame, areas: pd.DataFrame, targets: Mapping[str, float | None] | None,
                  method: str = "wilson", confidence: float = 0.95, levels: Sequence[str] = LEVELS,
                  min_respondents: int = 30, correlations: Mapping[str, float] | None = None) -> RoundResults:
    """Indicator and item results with intervals and verdicts at every level.

    Parameters
    ----------
    tally : DataFrame
        Community-level sums, as for :func:`roll_up`.
    areas : DataFrame
        The area tree, as for :func:`roll_up`.
    targets : mapping of str to float or None
        Target per indicator name; None (or a missing name) means no target.
        Indicators named here but absent from ``tally`` still get rows
        (verdict ``no_data``).
    method, confidence
        As for :func:`~analysis.proportion.proportion_ci`.
    levels : sequence of str
        Levels to report, a subset of :data:`LEVELS`; output follows this order.
    min_respondents : int
        Indicator rows with fewer respondents are flagged ``too_small``.
    correlations : mapping of str to float, optional
        Within-respondent correlation per indicator (:func:`round_correlations`
        of the whole round, so that a reader's area scope never changes it);
        None estimates it from ``tally``. An indicator missing from it gets 1.

    Returns
    -------
    RoundResults
        ``indicators``: one row per level × area × indicator (the pooled
        ``item == ''`` rows) with the respondent-level interval of
        :func:`~analysis.rates.add_indicator_rates`, ``target``,
        ``verdict``, ``extra_needed`` (extra respondents that would settle an
        undecided verdict, 0 when decided, nan otherwise) and ``too_small``.
        ``items``: one row per level × area × item with the binomial
        interval of :func:`~analysis.rates.add_item_rates`, the indicator's
        ``target``, ``gap = rate - target`` and ``verdict``, sorted by level,
        area, then rate ascending.

    Notes
    -----
    Community tallies are mapped to their ancestors once; each level's sums
    are one ``bincount`` over area × key cells, and rates, intervals and
    verdicts are computed once on all levels together, so the whole call is
    a few tens of milliseconds for ~1,000 communities.
    """
    levels = [_check_level(level) for level in levels]
    targets_s = _targets_series(targets)
    rolled = _roll_levels(tally, areas, levels, indicators=list(targets_s.index))
    key_target = targets_s.reindex(rolled.keys["indicator"].to_numpy(dtype=object))
    target = key_target.to_numpy(dtype=float)[rolled.key_pos]
    is_item = (rolled.keys["item"].to_numpy(dtype=object) != "")[rolled.key_pos]
    ind_rows, item_rows = np.flatnonzero(~is_item), np.flatnonzero(is_item)
    if correlations is None:
        correlations = round_correlations(tally)
    key_rho = pd.Series(dict(correlations), dtype=float).reindex(
        rolled.keys["indicator"].to_numpy(dtype=object)).fillna(1.0).to_numpy()
    rho = key_rho[rolled.key_pos[ind_rows]]
    return RoundResults(
        indicators=_indicator_results(rolled, ind_rows, target[ind_rows], method, confidence, min_respondents, rho),
        items=_item_results(rolled, item_rows, target[item_rows], method, confidence),
    )
