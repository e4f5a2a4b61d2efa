"""Respondent rows for a survey design with strata and clusters.

The tallies keep sums per community and per district × age group × sex, which is all the simple
weighted rates need; a clustered design needs each cluster's own weighted sums, so this reads the
round's responses (one row per response and indicator).  It is only called when an analyst picks a
design with clusters or strata on the weighting page, and its cost grows with the round (a few
seconds per 100,000 responses).
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Area, Response
from questionnaires import Questionnaire

COLUMNS = ["response_id", "district_id", "community_id", "interviewer", "age_group", "sex", "indicator",
           "valid", "positive"]


def design_rows(session: Session, round_id: int, questionnaire: Questionnaire,
                district_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per included, eligible response × indicator it answered: ``valid`` (x) and
    ``positive`` (y) answers to the indicator's items, from the scores stored at submit time (what
    the tallies were built from).  A response without an interviewer (filled in by the citizen)
    gets its own id as ``interviewer``: it is a cluster of one."""
    item_indicator = {q.code: q.indicator for q in questionnaire.indicator_items()}
    query = (
        select(Response.id, Area.district_id, Response.community_id, Response.interviewer, Response.age_group,
               Response.sex, Response.scores)
        .join(Area, Area.id == Response.community_id)
        .where(Response.round_id == round_id, Response.status == "included", Response.eligible.is_(True))
    )
    if district_ids is not None:
        query = query.where(Area.district_id.in_(list(district_ids)))
    rows = []
    for response_id, district_id, community_id, interviewer, age_group, sex, scores in session.execute(query):
        sums: dict[str, list[int]] = {}
        for item, score in (scores or {}).items():
            indicator = item_indicator.get(item)
            if indicator is None or score is None:
                continue
            pair = sums.setdefault(indicator, [0, 0])
            pair[0] += 1
            pair[1] += int(score)
        for indicator, (valid, positive) in sums.items():
            rows.append((response_id, district_id, community_id, interviewer or f"self:{response_id}",
                         age_group or "", sex or "", indicator, valid, positive))
    return pd.DataFrame(rows, columns=COLUMNS)
