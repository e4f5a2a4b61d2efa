"""Cached reads shared by all sessions, keyed by their real inputs.

Citizen pages must stay fast on a busy day, so the area tree and questionnaires (which rarely
change) are read once a few minutes rather than on every tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from analysis.comments import segment, theme_terms
from data.areas import areas_frame
from data.comments import round_comments
from data.db import read_session
from data.questionnaire_versions import load_questionnaire_version
from data.results import RoundSnapshot, load_snapshot, restrict_to_area
from data.rounds import accepts_responses, list_rounds, round_by_code
from questionnaires import Questionnaire
from questionnaires.comment_themes import load_comment_themes
from ui.state import engine


@dataclass(frozen=True)
class RoundInfo:
    id: int
    code: str
    name_zh: str
    name_en: str
    status: str
    accepting: bool
    questionnaire_id: int
    targets: dict
    quotas: dict
    requires_invitation: bool
    opens_at: datetime | None
    closes_at: datetime | None


@st.cache_data(ttl=60, show_spinner=False)
def rounds(db_url: str) -> list[RoundInfo]:
    now = datetime.now()
    with read_session(engine()) as session:
        return [
            RoundInfo(r.id, r.code, r.name_zh, r.name_en or r.name_zh, r.status, accepts_responses(r, now),
                      r.questionnaire_id, dict(r.targets), dict(r.quotas or {}), r.requires_invitation,
                      r.opens_at, r.closes_at)
            for r in list_rounds(session)
        ]


@st.cache_data(ttl=600, show_spinner=False)
def questionnaire(db_url: str, version_id: int) -> Questionnaire:
    with read_session(engine()) as session:
        return load_questionnaire_version(session, version_id)


@st.cache_data(ttl=300, show_spinner=False)
def areas(db_url: str) -> pd.DataFrame:
    with read_session(engine()) as session:
        return areas_frame(session)


def snapshot(db_url: str, round_code: str, scope_area_id: int | None) -> RoundSnapshot:
    # Not st.cache_data: load_snapshot itself reuses what it built while the round's tally version is
    # unchanged, so the numbers are always exactly current and unchanged ones cost one small query.
    return load_snapshot(engine(), round_code, scope_area_id)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def comments(db_url: str, round_code: str, scope_area_id: int | None, tally_version: int) -> pd.DataFrame:
    """The round's suggestions in the reader's scope, with their area ids and their terms cut once.
    ``tally_version`` is the round's (every stored or excluded response raises it): it keys the cache,
    so the words are cut again only when the round changed."""
    themes = load_comment_themes()
    with read_session(engine()) as session:
        survey_round = round_by_code(session, round_code)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        areas = areas_frame(session)
        if scope_area_id is not None:
            areas = restrict_to_area(areas, areas.iloc[0:0].assign(community_id=[]), scope_area_id)[0]
        community_ids = None if scope_area_id is None else areas.loc[areas["level"] == "community", "id"].tolist()
        frame = round_comments(session, survey_round.id, questionnaire, community_ids)
    where = areas.set_index("id")
    frame["street_id"] = frame["community_id"].map(where["street_id"])
    frame["district_id"] = frame["community_id"].map(where["district_id"])
    frame["terms"] = segment(frame["text"], theme_terms(themes))
    return frame
