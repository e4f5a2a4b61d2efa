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
from data.results import restrict_to_area
from reports.snapshot import RoundSnapshot, load_snapshot
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


# --- Page parts that cost seconds to build and change only with the round's tallies -------------
# Measured by bench/page_profile.py (docs/performance.md): building the dashboard's four plotly
# figures was about two thirds of its rerun, plotly express most of 深入分析's, and the quality
# rules (run twice for the interviewer tests) most of 数据质量's.  Each is keyed by the round's
# tally version, which every submission, import and exclusion raises in the same transaction, so
# what is shown is never older than the data.


def tally_version(db_url: str, round_code: str) -> int:
    with read_session(engine()) as session:
        survey_round = round_by_code(session, round_code)
        return 0 if survey_round is None else int(survey_round.tally_version)


@st.cache_resource(max_entries=256, show_spinner=False)
def rate_figure(db_url: str, round_code: str, version: int, scope_area_id: int | None, level: str, indicator: str,
                method: str, confidence: float, language: str):
    """The dashboard's chart of one indicator (shared read-only by every session: never modified)."""
    from reports.results import results_for
    from ui.charts import rate_chart

    indicators = results_for(snapshot(db_url, round_code, scope_area_id), method, confidence).indicators
    rows = indicators[(indicators["level"] == level) & (indicators["indicator"] == indicator)]
    return rate_chart(rows, indicator, level, confidence, language)


@dataclass(frozen=True)
class QualityChecks:
    responses: pd.DataFrame  # id, interviewer, community_id, submitted_at, status, eligible
    flags: pd.DataFrame
    interviewers: pd.DataFrame
    suspicious: pd.DataFrame
    excluded: pd.DataFrame


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def quality_checks(db_url: str, round_code: str, version: int, scope_area_id: int | None) -> QualityChecks:
    """The data-quality rules on the round's responses (within the scope), areas named in both
    languages.  ``version`` (the round's tally version) is part of the key only."""
    from analysis.interviewer_checks import interviewer_summary
    from analysis.quality import flag_responses, suspicious_areas
    from data.area_labels import area_labels
    from data.reads import exclusion_summary, round_responses
    from data.results import restrict_to_area
    from data.scope import scope_of

    with read_session(engine()) as session:
        survey_round = round_by_code(session, round_code)
        scope = scope_of(session, scope_area_id)  # the data functions keep to it themselves
        responses = round_responses(session, survey_round.id, scope=scope)
        excluded = exclusion_summary(session, survey_round.id, scope=scope)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
    tree = areas(db_url)
    if scope_area_id is not None:
        tree, _, _ = restrict_to_area(tree, pd.DataFrame({"community_id": []}), scope_area_id)
        responses = responses[responses["community_id"].isin(tree["id"])]
    zh, en = area_labels(tree, "zh"), area_labels(tree, "en")
    names = {i: (zh[i], en.get(i, zh[i])) for i in zh}
    eligible = responses[responses["eligible"]]
    included = eligible[eligible["status"] == "included"]
    return QualityChecks(
        responses=responses[["id", "interviewer", "community_id", "submitted_at", "status", "eligible"]],
        flags=flag_responses(eligible, questionnaire, area_names=names),
        interviewers=interviewer_summary(included, questionnaire),
        suspicious=suspicious_areas(included, questionnaire, area_names=names),
        excluded=excluded,
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def breakdown_figure(table: pd.DataFrame, rate_title: str):
    """深入分析's age × sex chart, keyed by its (small) table's content."""
    from ui.charts import breakdown_chart

    return breakdown_chart(table, rate_title)


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
