"""The pieces a round's results are cut from, kept free of statistics: each district's share of the
official sample, the cut of areas and tallies to a reader's area scope, and the levels a scope can
break results down by.  ``reports.snapshot.load_snapshot`` reads a round through these and hands
it to ``analysis``; pages, exports and the command line all go through it, so a district office
can never see another district's numbers by any of them."""

from __future__ import annotations

import pandas as pd


def official_shares(areas: pd.DataFrame, tally: pd.DataFrame, quotas: dict) -> dict:
    """Each district's share of the official sample: its share of the round's district quotas when
    the round has them, else its share of the round's respondents (read before any scope cut, so a
    district office's forecast uses the same share as the city's)."""
    districts = areas[areas["level"] == "district"]
    by_code = {code: quota for code, quota in (quotas.get("districts") or {}).items() if quota}
    if by_code:
        counts = {int(i): float(by_code.get(code, 0)) for i, code in zip(districts["id"], districts["code"])}
    else:
        pooled = tally[tally["item"] == ""]
        district_of = dict(zip(areas["id"], areas["district_id"]))
        # People per community: the most respondents of any indicator (some skip a whole indicator).
        people = pooled.groupby("community_id")["respondents"].max()
        per_district = people.groupby(people.index.map(district_of)).sum()
        counts = {int(i): float(per_district.get(i, 0)) for i in districts["id"]}
    total = sum(counts.values())
    return {i: c / total for i, c in counts.items()} if total > 0 else {}


def restrict_to_area(areas: pd.DataFrame, tally: pd.DataFrame, area_id: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The area and everything under it, nothing else (an unknown area leaves nothing)."""
    match = areas[areas["id"] == area_id]
    if match.empty:
        return areas.iloc[0:0], tally.iloc[0:0], "community"
    level = match["level"].iloc[0]
    if level == "district":
        keep = areas["district_id"] == area_id
    elif level == "street":
        keep = areas["street_id"] == area_id
    else:
        keep = areas["id"] == area_id
    inside = areas[keep]
    return inside.reset_index(drop=True), tally[tally["community_id"].isin(inside["id"])].reset_index(drop=True), level


def levels_below(scope_level: str) -> list[str]:
    """The area levels a reader with this scope can break results down by."""
    order = ["district", "street", "community"]
    return order if scope_level == "city" else order[order.index(scope_level):]
