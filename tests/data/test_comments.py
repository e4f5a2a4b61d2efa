"""Residents' suggestions in storage: masked before they are stored, read per round and area, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select, text

from data.comments import round_comments
from data.db import read_session, write_session
from data.demo import DEMO_DISTRICTS, build_city, load_demo, synthetic_answers
from data.imports import bulk_import
from data.models import Area, Response
from data.questionnaire_versions import load_questionnaire_version, save_questionnaire
from data.rounds import create_round, round_by_code
from questionnaires import INDICATORS, load_default
from questionnaires.privacy import MASKS


def _round_with(engine, texts_by_community: dict[str, list[str]]):
    questionnaire = load_default()
    rng = np.random.default_rng(7)
    with write_session(engine) as session:
        version = save_questionnaire(session, questionnaire)
        build_city(session, DEMO_DISTRICTS[:2])
        survey_round = create_round(
            session, "T-1", "测试轮", version, {"satisfaction": 0.99}, status="open",
            opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
        codes = {a.code: a.id for a in session.scalars(select(Area))}
        records = []
        for community, texts in texts_by_community.items():
            for comment in texts:
                answers = synthetic_answers(questionnaire, rng, dict.fromkeys(INDICATORS, 0.9))
                answers["suggestion"] = comment
                answers["sat_traffic_order"] = "dissatisfied"
                records.append({"community_id": codes[community], "answers": answers, "channel": "paper",
                                "submitted_at": datetime.now()})
        # One response without a suggestion: it has no row.
        records.append({"community_id": codes["CD0101"], "channel": "paper", "submitted_at": datetime.now(),
                        "answers": synthetic_answers(questionnaire, rng, dict.fromkeys(INDICATORS, 0.9))})
        bulk_import(session, survey_round, questionnaire, records)
        return survey_round.id, questionnaire, codes


def test_suggestions_are_masked_before_storage_and_read_back_by_area(engine):
    round_id, questionnaire, codes = _round_with(engine, {
        "CD0101": ["停车难，请联系13812345678", "垃圾桶太少"],
        "CX0201": ["浙A12345 天天占用消防通道"],
    })
    with read_session(engine) as session:
        stored = [r.answers.get("suggestion") for r in session.scalars(select(Response))]
        everything = round_comments(session, round_id, questionnaire)
        cd_only = round_comments(session, round_id, questionnaire, [codes["CD0101"]])
        nothing = round_comments(session, round_id, questionnaire, [])
    assert not any("13812345678" in (s or "") or "浙A12345" in (s or "") for s in stored)
    assert sorted(everything["text"]) == sorted(
        [f"停车难，请联系{MASKS['phone']}", "垃圾桶太少", f"{MASKS['plate']} 天天占用消防通道"])
    assert set(cd_only["text"]) == {f"停车难，请联系{MASKS['phone']}", "垃圾桶太少"}
    assert nothing.empty
    assert set(everything["sat_traffic_order"]) == {"dissatisfied"}
    assert set(everything["question"]) == {"suggestion"}


def test_the_raw_database_never_holds_the_typed_number(engine):
    _round_with(engine, {"CD0101": ["我的手机 １３９ １２３４ ５６７８ 身份证11010519491231002X"]})
    with engine.connect() as connection:
        raw = " ".join(json.dumps(row[0], ensure_ascii=False) if not isinstance(row[0], str) else row[0]
                       for row in connection.execute(text("SELECT answers FROM response")))
    assert "１３９" not in raw and "11010519491231002X" not in raw
    assert MASKS["phone"] in raw and MASKS["id_number"] in raw


def test_the_demo_holds_realistic_suggestions(sqlite_engine):
    load_demo(sqlite_engine, per_community=(6, 8))
    with read_session(sqlite_engine) as session:
        survey_round = round_by_code(session, "2026-R2")
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        comments = round_comments(session, survey_round.id, questionnaire)
        respondents = session.scalar(select(text("count(*)")).select_from(Response).where(
            Response.round_id == survey_round.id))
    assert 0.15 < len(comments) / respondents < 0.45
    assert comments["text"].nunique() > 20
    assert not comments["text"].str.contains("138 1234 5678", regex=False).any()
    assert isinstance(comments, pd.DataFrame)
