"""Residents' free-text answers of a round, with what the analyst filters them by.

Only the text answers and the indicator items' answers are read, each pulled out of the stored JSON
by the database itself, so a round of 100,000 responses never brings whole answer sets into Python.
The texts were masked for personal data before they were stored (questionnaires.privacy).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from data.models import Response
from questionnaires import Questionnaire

COLUMNS = ["response_id", "community_id", "age_group", "sex", "submitted_at", "question", "text"]


def comment_questions(questionnaire: Questionnaire) -> list[str]:
    return [q.code for q in questionnaire.questions if q.type == "text"]


def answer_filter_items(questionnaire: Questionnaire) -> list[str]:
    """Indicator items a comment list can be filtered by (one stored option code each)."""
    return [q.code for q in questionnaire.questions if q.indicator and q.type != "multiple_choice"]


def round_comments(session: Session, round_id: int, questionnaire: Questionnaire,
                   community_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per non-empty text answer of the round's counted responses (included and eligible),
    in ``community_ids`` when given: the columns of ``COLUMNS`` plus one per indicator item holding
    the respondent's answer code (None when not answered)."""
    texts = comment_questions(questionnaire)
    items = answer_filter_items(questionnaire)
    if not texts or (community_ids is not None and not len(community_ids)):
        return pd.DataFrame(columns=COLUMNS + items)
    text_columns = [Response.answers[code].as_string().label(f"text:{code}") for code in texts]
    item_columns = [Response.answers[code].as_string().label(f"item:{code}") for code in items]
    query = (
        select(Response.id, Response.community_id, Response.age_group, Response.sex, Response.submitted_at,
               *text_columns, *item_columns)
        .where(Response.round_id == round_id, Response.status == "included", Response.eligible.is_(True))
        .where(or_(*[column.is_not(None) for column in
                     (Response.answers[code].as_string() for code in texts)]))
        .order_by(Response.submitted_at, Response.id)
    )
    if community_ids is not None:
        query = query.where(Response.community_id.in_([int(c) for c in community_ids]))
    wide = pd.DataFrame(session.execute(query).all(),
                        columns=["response_id", "community_id", "age_group", "sex", "submitted_at",
                                 *[f"text:{c}" for c in texts], *items])
    parts = []
    for code in texts:
        part = wide[["response_id", "community_id", "age_group", "sex", "submitted_at", *items]].copy()
        part.insert(5, "question", code)
        part.insert(6, "text", wide[f"text:{code}"])
        parts.append(part[part["text"].notna() & (part["text"].astype(str).str.strip() != "")])
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS + items)
    return frame.sort_values(["submitted_at", "response_id"], kind="stable").reset_index(drop=True)
