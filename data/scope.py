"""A staff member's area scope, checked where data is stored and read, not only where it is shown.

An analyst or organiser limited to a district or a street may read and change only that area and
what lies under it.  Pages hand their user's ``Scope`` to the data functions (``import_paper``,
``save_population``, ``set_response_status``, ``completes`` …), which refuse anything outside it
with ``OutOfScope`` before a single row is written, or leave it out of what they return.  A page
that forgot to cut its lists therefore still cannot write or show another district's data.

A Scope is made from the user's area id by ``scope_of`` (one small query); ``CITY`` is the whole
city (admins and unscoped staff, the command line without accounts, tests of other things).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd
from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from data.models import Area


class OutOfScope(ValueError):
    """Something outside the user's area scope was asked for; the message is in Chinese and English."""


@dataclass(frozen=True)
class Scope:
    """What a user may read and change: the whole city, or one area and everything under it."""

    area_id: int | None = None  # None: the whole city
    level: str = "city"  # city | district | street | community
    area_code: str = ""
    community_ids: frozenset[int] | None = None  # None: every community
    district_id: int | None = None  # the district the scope lies in (None for the city)

    @property
    def whole_city(self) -> bool:
        return self.area_id is None

    def allows_community(self, community_id: object) -> bool:
        if self.community_ids is None:
            return True
        try:
            return community_id in self.community_ids
        except TypeError:  # a forged, unhashable value (a list): not one of ours
            return False

    def allows_district_figures(self, district_id: object) -> bool:
        """District-level figures (populations, age × sex cells) belong to whoever holds the whole
        district: a street office would see, or change, the rest of its district through them."""
        return self.whole_city or (self.level == "district" and district_id == self.area_id)


CITY = Scope()


def scope_of(session: Session, area_id: int | None) -> Scope:
    """The scope of a user whose account is limited to ``area_id`` (None: the whole city).  An area
    that no longer exists leaves an empty scope, never the whole city."""
    if area_id is None:
        return CITY
    area = session.get(Area, area_id)
    if area is None:
        return Scope(area_id=area_id, level="community", community_ids=frozenset())
    if area.level == "community":
        inside = [area.id]
    else:
        column = Area.district_id if area.level == "district" else Area.street_id
        inside = session.scalars(select(Area.id).where(column == area.id, Area.level == "community"))
    district_id = area.id if area.level == "district" else area.district_id
    return Scope(area_id=area.id, level=area.level, area_code=area.code, community_ids=frozenset(inside),
                 district_id=district_id)


def check_communities(scope: Scope, community_ids: Iterable[object], codes: dict | None = None) -> None:
    """Raise ``OutOfScope`` naming (up to ten of) the communities outside the scope."""
    if scope.community_ids is None:
        return
    outside = sorted({c for c in community_ids if c is not None and c not in scope.community_ids}, key=str)
    if outside:
        raise OutOfScope(_outside_message(scope, [str((codes or {}).get(c, c)) for c in outside]))


def check_districts(scope: Scope, district_ids: Iterable[object], codes: dict | None = None) -> None:
    """Raise ``OutOfScope`` unless the scope holds each of these whole districts."""
    outside = sorted({d for d in district_ids if not scope.allows_district_figures(d)}, key=str)
    if outside:
        raise OutOfScope(_outside_message(scope, [str((codes or {}).get(d, d)) for d in outside]))


def check_city_wide(scope: Scope, what_zh: str, what_en: str) -> None:
    """Raise ``OutOfScope`` for a change that affects every district (a round's targets, quotas…)."""
    if not scope.whole_city:
        raise OutOfScope(f"{what_zh}影响全市，只能由不限范围的账号操作 / {what_en} affects the whole city: only an "
                         f"account without an area limit can do it")


def _outside_message(scope: Scope, names: list[str]) -> str:
    shown = "、".join(names[:10]) + ("…" if len(names) > 10 else "")
    return (f"超出您的数据范围（{scope.area_code}）：{shown}；未写入任何数据 / outside your data scope "
            f"({scope.area_code}): {shown.replace('、', ', ')}; nothing was written")


def restrict_areas(scope: Scope, areas: pd.DataFrame) -> pd.DataFrame:
    """The rows of an area frame (id, level, street_id, district_id) inside the scope, with the
    district and street rows above it that name it (so names and roll-ups still resolve)."""
    if scope.whole_city or areas is None or len(areas) == 0:
        return areas
    communities = areas["id"].isin(scope.community_ids) & (areas["level"] == "community")
    inside = areas[communities]
    above = set(inside["street_id"].dropna().astype(int)) | set(inside["district_id"].dropna().astype(int))
    if scope.level in ("district", "street"):
        above.add(scope.area_id)
    keep = communities | (areas["id"].isin(above) & (areas["level"] != "community"))
    return areas[keep].reset_index(drop=True)


def community_filter(scope: Scope, column):
    """A WHERE clause keeping the rows of ``column`` (a community id column) inside the scope."""
    if scope.community_ids is None:
        return true()
    if not scope.community_ids:
        return false()
    return column.in_(sorted(scope.community_ids))
