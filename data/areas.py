"""The area tree: districts, streets and communities (a city has ~1,100 areas).

Like every storage module, each function takes the session first and never opens, commits or
rolls back one itself: the caller decides what one unit of work is (``data.db.write_session`` /
``data.db.read_session``).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Area


def add_area(
    session: Session, code: str, name_zh: str, level: str, parent: Area | None = None, name_en: str = ""
) -> Area:
    if level not in ("district", "street", "community"):
        raise ValueError(f"unknown area level {level!r}")
    area = Area(code=code, name_zh=name_zh, name_en=name_en, level=level, parent=parent)
    session.add(area)
    session.flush()
    if level == "district":
        area.district_id = area.id
    elif level == "street":
        area.street_id, area.district_id = area.id, parent.id
    else:
        area.street_id, area.district_id = parent.id, parent.district_id
    return area


def areas_frame(session: Session) -> pd.DataFrame:
    """The whole area tree as a small frame (a city has ~1,100 areas)."""
    columns = ["id", "code", "name_zh", "name_en", "level", "parent_id", "street_id", "district_id"]
    rows = session.execute(select(*(getattr(Area, c) for c in columns)).order_by(Area.id)).all()
    return pd.DataFrame(rows, columns=columns)


def child_areas(session: Session, parent_id: int | None, level: str) -> list[Area]:
    query = select(Area).where(Area.level == level).order_by(Area.code)
    if parent_id is not None:
        query = query.where(Area.parent_id == parent_id)
    return list(session.scalars(query))


def community_by_code(session: Session, code: str) -> Area | None:
    """The community with this code, or None (also for codes of streets and districts)."""
    if not isinstance(code, str) or not code or len(code) > 40:
        return None
    return session.scalar(select(Area).where(Area.code == code, Area.level == "community"))


def area_by_id(session: Session, area_id: int) -> Area | None:
    return session.get(Area, area_id)

