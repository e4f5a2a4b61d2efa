"""What the fieldwork, quality and CLI pages read about a round's responses: counts, completed
interviews by grouping, the responses themselves, and the exclusions by reason.  Reads only.

Every function takes the session first and never commits (see ``data.areas``).
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Area, Response
from data.scope import Scope, community_filter


def count_responses(session: Session, round_id: int, *, eligible_only: bool = True) -> int:
    query = select(func.count()).select_from(Response).where(
        Response.round_id == round_id, Response.status == "included"
    )
    if eligible_only:
        query = query.where(Response.eligible.is_(True))
    return session.scalar(query)



def exclusion_summary(session: Session, round_id: int, *, scope: Scope) -> pd.DataFrame:
    """How many responses of the round (within the scope) are excluded, by reason (the dashboard says so)."""
    query = select(Response.exclusion_reason, func.count()).where(
        Response.round_id == round_id, Response.status == "excluded", community_filter(scope, Response.community_id)
    ).group_by(Response.exclusion_reason)
    return pd.DataFrame(session.execute(query).all(), columns=["reason", "responses"])


def round_responses(session: Session, round_id: int, *, scope: Scope, with_answers: bool = True) -> pd.DataFrame:
    """The round's responses within the scope with their areas, for data-quality checks and fieldwork views."""
    columns = [Response.id, Response.community_id, Area.street_id, Area.district_id, Response.interviewer,
               Response.channel, Response.started_at, Response.submitted_at, Response.eligible,
               Response.age_group, Response.sex, Response.status, Response.exclusion_reason]
    if with_answers:
        columns += [Response.answers, Response.scores]
    rows = session.execute(
        select(*columns).select_from(Response).join(Area, Area.id == Response.community_id)
        .where(Response.round_id == round_id, community_filter(scope, Response.community_id))
        .order_by(Response.submitted_at)
    ).all()
    return pd.DataFrame(rows, columns=[c.key for c in columns])


def completes(session: Session, round_id: int, by: str, *, scope: Scope, district_ids: Iterable[int] | None = None,
              community_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Completed (eligible, included) interviews counted in the database, by one of: district,
    community, interviewer, day, cell (district × age group × sex); only within the scope (a
    district office's or a street office's communities), and ``district_ids`` and
    ``community_ids`` when given."""
    groupings = {
        "district": [Area.district_id],
        "community": [Response.community_id],
        "interviewer": [Response.interviewer, Area.district_id],
        "day": [func.date(Response.submitted_at).label("day")],
        "cell": [Area.district_id, Response.age_group, Response.sex],
    }
    if by not in groupings:
        raise ValueError(f"unknown grouping {by!r}")
    keys = groupings[by]
    query = (
        select(*keys, func.count().label("completes")).select_from(Response)
        .join(Area, Area.id == Response.community_id)
        .where(Response.round_id == round_id, Response.eligible.is_(True), Response.status == "included",
               community_filter(scope, Response.community_id))
        .group_by(*keys).order_by(*keys)
    )
    if district_ids is not None:
        query = query.where(Area.district_id.in_(list(district_ids)))
    if community_ids is not None:
        query = query.where(Response.community_id.in_(list(community_ids)))
    result = session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


