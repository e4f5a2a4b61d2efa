"""Cached reads shared by all sessions, keyed by their real inputs.

Citizen pages must stay fast on a busy day, so the area tree and questionnaires (which rarely
change) are read once a few minutes rather than on every tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from data.areas import areas_frame
from data.db import read_session
from data.questionnaire_versions import load_questionnaire_version
from data.results import RoundSnapshot, load_snapshot
from data.rounds import accepts_responses, list_rounds
from questionnaires import Questionnaire
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
