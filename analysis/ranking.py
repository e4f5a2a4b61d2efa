"""Weak items (短板), the red and black lists (红黑榜) and breakdowns by age group and sex."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.rates import add_indicator_rates

SUMS = ["respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive"]


def weak_items(items: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Items ranked by how much they cost their indicator against its target.

    Notes
    -----
    The indicator pools its items, so item *j* with share w_j = valid_j / valid_indicator of the
    indicator's valid answers contributes w_j · rate_j to the indicator's rate.  Were the item at
    the target t instead, the indicator would gain ``cost_j = w_j · (t − rate_j)`` (only shortfalls
    count).  Sorting by this cost puts first the items whose improvement would lift the indicator
    most — a rarely answered item far below target can matter less than a common one just below.

    Returns ``items`` (rows with a target) with ``share`` and ``cost`` added, sorted by area and
    descending cost.
    """
    pooled = indicators[["level", "area_id", "indicator", "valid"]].rename(columns={"valid": "indicator_valid"})
    frame = items[items["target"].notna()].merge(pooled, on=["level", "area_id", "indicator"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["share"] = frame["valid"] / frame["indicator_valid"]
    frame["cost"] = (frame["share"] * (frame["target"] - frame["rate"])).clip(lower=0).fillna(0.0)
    return frame.drop(columns="indicator_valid").sort_values(
        ["level", "area_id", "cost"], ascending=[True, True, False], kind="stable").reset_index(drop=True)


def red_black_list(indicators: pd.DataFrame, level: str, indicator: str, min_respondents: int = 30) -> pd.DataFrame:
    """Areas of one level ranked on one indicator (1 = best).

    Areas with too few respondents are listed last without a rank: their rates are too unstable to
    rank.  ``list`` is "red" for areas whose target is shown met, "black" for areas shown not met
    and "" for undecided ones, so the lists only name areas the data can actually judge.
    """
    rows = indicators[(indicators["level"] == level) & (indicators["indicator"] == indicator)].copy()
    rankable = rows["respondents"] >= min_respondents
    rows["rank"] = pd.Series(pd.NA, index=rows.index, dtype="Int64")
    rows.loc[rankable, "rank"] = rows.loc[rankable, "rate"].rank(ascending=False, method="min").astype("Int64")
    rows["list"] = np.select([rows["verdict"] == "met", rows["verdict"] == "not_met"], ["red", "black"], "")
    rows.loc[~rankable, "list"] = ""
    return rows.sort_values(["rank", "rate"], ascending=[True, False], na_position="last").reset_index(drop=True)


def breakdown(cell_tally: pd.DataFrame, by: list[str], method: str = "wilson", confidence: float = 0.95,
              district_ids=None, correlations: dict | None = None) -> pd.DataFrame:
    """Indicator rates by age group and/or sex (respondent as unit), from the cell tally.

    ``cell_tally`` has district_id, age_group, sex, indicator, item and the six sums; only the
    indicators' pooled rows (item == '') are used.  ``district_ids`` limits it to some districts.
    ``correlations`` (indicator → within-respondent correlation, the round's) is used for each
    indicator's effective sample size; without it each indicator's is estimated from these rows.
    """
    rows = cell_tally[cell_tally["item"] == ""]
    if district_ids is not None:
        rows = rows[rows["district_id"].isin(list(district_ids))]
    grouped = rows.groupby([*by, "indicator"], as_index=False)[SUMS].sum()
    parts = [add_indicator_rates(part, method=method, confidence=confidence,
                                 rho=None if correlations is None else correlations.get(indicator, 1.0))
             for indicator, part in grouped.groupby("indicator", sort=False)]
    if not parts:
        return add_indicator_rates(grouped, method=method, confidence=confidence)
    return pd.concat(parts).sort_index()
