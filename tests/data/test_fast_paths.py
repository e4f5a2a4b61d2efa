"""Each fast path of ``data.fast_paths`` against its plain path, on the same rows, on SQLite and
PostgreSQL: what the database holds afterwards (read back as raw text, so a date written
differently shows) and what reads return must be the same."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text

from data import fast_paths as fast
from data.db import json_text, read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city, synthetic_answers
from data.imports import bulk_import
from data.models import Response, Tally
from data.questionnaire_versions import save_questionnaire
from data.responses import new_response_id
from data.rounds import create_round, round_by_code
from questionnaires import load_default
from questionnaires.answer_rules import AnswerRules

QUESTIONNAIRE = load_default()
RATES = {"awareness": 0.9, "support": 0.9, "participation": 0.6, "satisfaction": 0.8}
STORED_AS_TEXT = ("round_id", "community_id", "channel", "interviewer", "started_at", "submitted_at", "eligible",
                  "age_group", "sex", "status", "answers", "scores")


@pytest.fixture
def round_and_communities(engine):
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        communities = [c.id for c in build_city(session)]
        create_round(session, "R1", "第一轮", version, DEFAULT_TARGETS,
                     opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
    return engine, survey_round, communities


def response_rows(survey_round, communities, count: int, seed: int) -> list[dict]:
    """Rows as the submission path makes them: datetimes (with and without microseconds, one
    missing), JSON objects with Chinese text, booleans, None."""
    rng = np.random.default_rng(seed)
    rules = AnswerRules(QUESTIONNAIRE)
    rows = []
    for i in range(count):
        answers = synthetic_answers(QUESTIONNAIRE, rng, RATES)
        answers["suggestion"] = "垃圾分类做得好 \"引号\""
        started = datetime(2026, 11, 23, 9, 30) + timedelta(minutes=i, microseconds=i * 7)
        _, row = rules.row(new_response_id(), survey_round.id, survey_round.questionnaire_id,
                           communities[i % len(communities)], answers, "self", None if i % 2 else "张三",
                           None if i == 1 else started, started + timedelta(seconds=90), "zh")
        rows.append(row)
    return rows


def stored(session, ids: list[str]) -> list[tuple]:
    """The rows as the database holds them, cast to text, in the order of ``ids``."""
    columns = ", ".join(f"CAST({name} AS TEXT)" for name in STORED_AS_TEXT)
    found = {}
    for response_id in ids:
        found[response_id] = session.execute(
            text(f"SELECT {columns} FROM response WHERE id = :id"), {"id": response_id}).one()
    return [tuple(found[i]) for i in ids]


def same_rows_with_new_ids(rows: list[dict]) -> list[dict]:
    return [{**row, "id": new_response_id()} for row in rows]


def test_the_bind_plan_writes_what_sqlalchemy_writes(round_and_communities):
    engine, survey_round, communities = round_and_communities
    fast_rows = response_rows(survey_round, communities, 40, seed=1)
    plain_rows = same_rows_with_new_ids(fast_rows)
    statement = Response.__table__.insert()
    with write_session(engine) as session:
        fast.driver_execute(session, statement, fast_rows).close()
        fast.driver_execute(session, statement, same_rows_with_new_ids(fast_rows[:1])).close()  # one row: execute
        fast.plain_execute(session, statement, plain_rows)
    with read_session(engine) as session:
        assert stored(session, [r["id"] for r in fast_rows]) == stored(session, [r["id"] for r in plain_rows])


def test_columns_ready_for_the_driver_are_written_as_the_plain_path_writes_rows(round_and_communities):
    """The import's path: values given column by column, the JSON already text."""
    engine, survey_round, communities = round_and_communities
    fast_rows = response_rows(survey_round, communities, 30, seed=2)
    plain_rows = same_rows_with_new_ids(fast_rows)
    columns = {key: [row[key] for row in fast_rows] for key in fast_rows[0]}
    columns["answers"] = [json_text(value) for value in columns["answers"]]
    columns["scores"] = [json_text(value) for value in columns["scores"]]
    with write_session(engine) as session:
        fast.driver_execute_columns(session, Response.__table__.insert(), columns, ready=("answers", "scores")).close()
        fast.plain_execute(session, Response.__table__.insert(), plain_rows)
    with read_session(engine) as session:
        assert stored(session, [r["id"] for r in fast_rows]) == stored(session, [r["id"] for r in plain_rows])


def test_plain_rows_read_what_sqlalchemy_reads(round_and_communities):
    engine, survey_round, communities = round_and_communities
    with write_session(engine) as session:
        bulk_import(session, survey_round, QUESTIONNAIRE,
                    [{"community_id": c, "answers": synthetic_answers(QUESTIONNAIRE, np.random.default_rng(c), RATES)}
                     for c in communities])
    query = (select(Tally.community_id, Tally.indicator, Tally.item, Tally.respondents, Tally.positive)
             .where(Tally.round_id == survey_round.id).order_by(Tally.community_id, Tally.indicator, Tally.item))
    with read_session(engine) as session:
        quick, plain = fast.plain_rows(session, query), fast.plain_read(session, query)
    assert len(plain) > 50
    assert [tuple(row) for row in quick] == plain


def test_an_import_with_the_collector_paused_stores_what_one_without_stores(round_and_communities):
    engine, survey_round, communities = round_and_communities
    rng = np.random.default_rng(3)
    records = [{"id": new_response_id(), "community_id": communities[i % len(communities)],
                "answers": synthetic_answers(QUESTIONNAIRE, rng, RATES),
                "submitted_at": datetime(2026, 11, 23, 10) + timedelta(seconds=i)} for i in range(60)]
    twins = [{**record, "id": new_response_id()} for record in records]
    assert gc.isenabled()
    with write_session(engine) as session:
        assert bulk_import(session, survey_round, QUESTIONNAIRE, records) == 60
        assert gc.isenabled()  # given back
        assert bulk_import.__wrapped__(session, survey_round, QUESTIONNAIRE, twins) == 60
    with read_session(engine) as session:
        assert stored(session, [r["id"] for r in records]) == stored(session, [r["id"] for r in twins])


def test_the_rules_kept_per_questionnaire_object_answer_as_fresh_rules():
    questionnaire = load_default()
    kept = fast.rules_for(questionnaire)
    assert fast.rules_for(questionnaire) is kept
    assert fast.rules_for(load_default()) is not kept  # another object, another entry
    rng = np.random.default_rng(4)
    for _ in range(30):
        answers = synthetic_answers(questionnaire, rng, RATES)
        assert kept.row("id", 1, 2, 3, answers, "self", None, None, None, "zh") == \
            AnswerRules(questionnaire).row("id", 1, 2, 3, answers, "self", None, None, None, "zh")


def test_many_rows_as_one_json_document_are_stored_as_executemany_stores_them(round_and_communities):
    engine, survey_round, communities = round_and_communities
    if engine.dialect.name != "postgresql":
        pytest.skip("json_to_recordset is PostgreSQL's")
    fast_rows = response_rows(survey_round, communities, 25, seed=5)
    plain_rows = same_rows_with_new_ids(fast_rows)
    sql = fast.recordset_insert_sql(Response.__table__, tuple(fast_rows[0]), "ON CONFLICT (id) DO NOTHING RETURNING id")
    with write_session(engine) as session:
        with fast.driver_cursor(session) as cursor:
            cursor.execute(sql, (json_text(fast_rows),))
            assert len(cursor.fetchall()) == 25
        fast.plain_execute(session, Response.__table__.insert(), plain_rows)
    with read_session(engine) as session:
        assert stored(session, [r["id"] for r in fast_rows]) == stored(session, [r["id"] for r in plain_rows])
