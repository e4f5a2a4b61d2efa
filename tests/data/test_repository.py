"""Storage against real databases: every test runs on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import gc
import json
import threading
import uuid
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import String, func, inspect, select
from sqlalchemy import cast as sa_cast

from data.db import read_session, upgrade_database, write_session
from data.demo import DEFAULT_TARGETS, build_city, load_demo, synthetic_answers
from data.imports import bulk_import
from data.models import Area, Response, Tally
from data.questionnaire_versions import save_questionnaire
from data.reads import count_responses
from data.responses import SubmissionRefused, is_response_id, new_response_id, submit_response
from data.rounds import create_round, list_rounds, round_by_code
from data.tallies import recount_tally, round_tally
from questionnaires import load_default

QUESTIONNAIRE = load_default()
GOOD_RATES = {"awareness": 0.97, "support": 0.98, "participation": 0.85, "satisfaction": 0.99}


@pytest.fixture
def city(engine):
    """A small city (demo tree) with the default questionnaire and one open round, no responses."""
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        communities = [c.id for c in build_city(session)]
        create_round(session, "R1", "第一轮", version, DEFAULT_TARGETS,
                     opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    return engine, communities


NEW = object()


def submit(engine, communities, answers, response_id=NEW, community=0, round_code="R1"):
    with write_session(engine) as session:
        return submit_response(
            session, response_id=new_response_id() if response_id is NEW else response_id,
            survey_round=round_by_code(session, round_code), questionnaire=QUESTIONNAIRE,
            community_id=communities[community], answers=answers,
        )


def counts(engine, round_code="R1"):
    with read_session(engine) as session:
        round_id = round_by_code(session, round_code).id
        responses = session.scalar(select(func.count()).select_from(Response).where(Response.round_id == round_id))
        tally = round_tally(session, round_id)
    return responses, tally


def canonical(tally: pd.DataFrame) -> pd.DataFrame:
    tally = tally[tally["respondents"] != 0]
    return tally.sort_values(["community_id", "indicator", "item"]).reset_index(drop=True).astype(
        {c: "int64" for c in tally.columns if c not in ("indicator", "item")}
    )


def test_upgrade_creates_schema_and_is_repeatable(engine):
    upgrade_database(engine)  # a second upgrade is a no-op
    tables = set(inspect(engine).get_table_names())
    assert {"area", "questionnaire_version", "survey_round", "response", "tally", "alembic_version"} <= tables


def test_submission_is_stored_once_and_counted_once(city):
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(1), GOOD_RATES)
    response_id = new_response_id()
    first = submit(engine, communities, answers, response_id)
    _, tally_after_first = counts(engine)
    second = submit(engine, communities, answers, response_id)  # the double click
    responses, tally_after_second = counts(engine)
    assert first.stored and first.eligible
    assert not second.stored
    assert responses == 1
    pd.testing.assert_frame_equal(canonical(tally_after_first), canonical(tally_after_second))
    pooled = tally_after_second[tally_after_second["item"] == ""].set_index("indicator")
    assert (pooled["respondents"] == 1).all()


def test_answers_are_stored_as_utf8_json_and_read_back_equal(city):
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(11), GOOD_RATES)
    answers["suggestion"] = "希望多建“口袋公园” \\ 和停车位\n谢谢 😀"
    response_id = new_response_id()
    submit(engine, communities, answers, response_id)
    with read_session(engine) as session:
        stored = session.get(Response, response_id).answers
        text_form = session.execute(
            select(sa_cast(Response.answers, String)).where(Response.id == response_id)
        ).scalar_one()
    assert stored["suggestion"] == answers["suggestion"]
    assert json.loads(text_form)["suggestion"] == answers["suggestion"]
    assert "口袋公园" in text_form and "\\u53e3" not in text_form  # UTF-8 text, not escapes


def test_invalid_submission_writes_nothing(city):
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(2), GOOD_RATES)
    required = next(q for q in QUESTIONNAIRE.questions if q.required and q.indicator)
    del answers[required.code]
    with pytest.raises(SubmissionRefused) as refused:
        submit(engine, communities, answers)
    assert required.code in refused.value.messages
    responses, tally = counts(engine)
    assert responses == 0 and tally.empty


def test_new_response_ids_are_time_ordered_and_older_ids_stay_valid(city):
    ids = [new_response_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert ids == sorted(ids)  # made one after another, they sort one after another (index locality)
    assert {uuid.UUID(i).version for i in ids} == {7}
    assert all(is_response_id(i) for i in ids)
    # A form opened before the change (version 4) and a paper form (version 5) are still accepted.
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(12), GOOD_RATES)
    for old in (str(uuid.uuid4()), str(uuid.uuid5(uuid.NAMESPACE_URL, "paper form 17"))):
        assert submit(engine, communities, answers, old).stored


@pytest.mark.parametrize("forged", ["not-a-uuid", "", "1; DROP TABLE response", None])
def test_forged_response_id_is_refused(city, forged):
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(3), GOOD_RATES)
    with pytest.raises(SubmissionRefused):
        submit(engine, communities, answers, response_id=forged)
    assert counts(engine)[0] == 0


def test_closed_round_and_unknown_community_are_refused(city):
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(4), GOOD_RATES)
    with write_session(engine) as session:
        round_by_code(session, "R1").status = "closed"
    with pytest.raises(SubmissionRefused) as refused:
        submit(engine, communities, answers)
    assert "未开放" in refused.value.messages["_"]
    with write_session(engine) as session:
        round_by_code(session, "R1").status = "open"
        street_id = session.get(Area, communities[0]).parent_id
    with pytest.raises(SubmissionRefused):
        submit(engine, [street_id], answers)  # a street is not a community
    assert counts(engine)[0] == 0


def test_screened_out_respondent_is_kept_but_not_counted(city):
    engine, communities = city
    screening = next(q for q in QUESTIONNAIRE.questions if q.screening_eligible is not None)
    failing = next(o.code for o in screening.options if o.code not in screening.screening_eligible)
    result = submit(engine, communities, {screening.code: failing})
    responses, tally = counts(engine)
    assert result.stored and not result.eligible
    assert responses == 1 and tally.empty


def test_tally_equals_a_recount_of_the_stored_responses(city):
    engine, communities = city
    rng = np.random.default_rng(5)
    records = [{"community_id": communities[i % len(communities)],
                "answers": synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)} for i in range(300)]
    with write_session(engine) as session:
        assert bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, records) == 300
    for k in range(20):
        submit(engine, communities, synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES), community=k)
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
        stored = round_tally(session, survey_round.id)
        recounted = recount_tally(session, survey_round)
    pd.testing.assert_frame_equal(canonical(stored), canonical(recounted))


def test_bulk_import_counts_a_form_repeated_in_one_file_once(city):
    engine, communities = city
    rng = np.random.default_rng(13)
    records = [{"id": new_response_id(), "community_id": communities[0],
                "answers": synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)} for _ in range(4)]
    with write_session(engine) as session:
        added = bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, records + records[1:3])
    responses, tally = counts(engine)
    assert added == 4 and responses == 4
    assert tally.loc[tally["item"] == "", "respondents"].max() == 4


def test_bulk_import_is_all_or_nothing_and_never_doubles(city):
    engine, communities = city
    rng = np.random.default_rng(6)
    records = [{"id": new_response_id(), "community_id": communities[0],
                "answers": synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)} for _ in range(10)]
    broken = records[:5] + [{"community_id": communities[0], "answers": {"nonsense": "x"}}] + records[5:]
    with pytest.raises(SubmissionRefused) as refused:
        with write_session(engine) as session:
            bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, broken)
    assert any(key.startswith("#6") for key in refused.value.messages)
    assert counts(engine)[0] == 0
    for _ in range(2):  # importing the same file twice stores it once
        with write_session(engine) as session:
            bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, records)
    responses, tally = counts(engine)
    assert responses == 10
    assert tally[tally["item"] == ""]["respondents"].max() == 10


@pytest.mark.parametrize("collector_on", [True, False])
def test_bulk_import_gives_the_garbage_collector_back_as_it_found_it(city, collector_on):
    """The import pauses Python's cyclic collector while it runs (docs/performance.md); it must
    switch it back on afterwards, after a refusal too, and must not switch on one paused by others."""
    engine, communities = city
    rng = np.random.default_rng(9)
    good = [{"community_id": communities[0], "answers": synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)}]
    bad = [{"community_id": communities[0], "answers": {"nonsense": "x"}}]
    paused_while_reading = []

    def records():  # read by the import itself, so it sees the collector as the import has it
        paused_while_reading.append(not gc.isenabled())
        yield from good

    (gc.enable if collector_on else gc.disable)()
    try:
        with write_session(engine) as session:
            assert bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, records()) == 1
        assert paused_while_reading == [True]
        assert gc.isenabled() is collector_on
        with pytest.raises(SubmissionRefused), write_session(engine) as session:
            bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, bad)
        assert gc.isenabled() is collector_on
    finally:
        gc.enable()


def test_an_imported_response_is_stored_as_the_same_form_submitted(city):
    """Import (column by column) and the survey page (one by one) store the same row, and a
    re-import with stored, repeated and new forms adds only the new ones to responses and tally."""
    engine, communities = city
    rng = np.random.default_rng(8)
    screening = next(q for q in QUESTIONNAIRE.questions if q.screening_eligible is not None)
    failing = next(o.code for o in screening.options if o.code not in screening.screening_eligible)
    forms = [synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES) for _ in range(30)]
    forms[3] = {**forms[3], screening.code: failing}  # stored, not counted
    forms[4] = {code: (f" {value} " if isinstance(value, str) else value) for code, value in forms[4].items()}
    imported_ids = [new_response_id() for _ in forms]
    records = [{"id": i, "community_id": communities[k % 5], "answers": a, "started_at": datetime(2026, 5, 1, 9, k),
                "submitted_at": datetime(2026, 5, 1, 10, k), "interviewer": "张三" if k % 2 else None}
               for k, (i, a) in enumerate(zip(imported_ids, forms))]
    with write_session(engine) as session:
        assert bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, records[:20]) == 20
    submitted_ids = [submit(engine, communities, a, community=k % 5).response_id for k, a in enumerate(forms)]
    with write_session(engine) as session:  # 10 stored, 2 repeated in the file, 10 new
        added = bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE,
                            records[10:] + records[25:27] + records[:10])
    assert added == 10
    with read_session(engine) as session:
        stored = {r.id: r for r in session.scalars(select(Response))}
        survey_round = round_by_code(session, "R1")
        tally, recounted = round_tally(session, survey_round.id), recount_tally(session, survey_round)
    assert len(stored) == 60
    for k, (imported, submitted) in enumerate(zip(imported_ids, submitted_ids)):
        a, b = stored[imported], stored[submitted]
        assert (a.answers, a.scores, a.eligible, a.age_group, a.sex) == (b.answers, b.scores, b.eligible, b.age_group, b.sex)
        assert (a.channel, a.community_id, a.status) == ("import", communities[k % 5], "included")
        assert (a.started_at, a.submitted_at, a.interviewer) == (datetime(2026, 5, 1, 9, k), datetime(2026, 5, 1, 10, k),
                                                                 "张三" if k % 2 else None)
    assert not stored[imported_ids[3]].eligible and stored[imported_ids[3]].scores == {}
    pd.testing.assert_frame_equal(canonical(tally), canonical(recounted))
    assert canonical(tally)["respondents"].sum() > 0


@pytest.mark.parametrize("community", [True, "1", [1], None, 10**9])
def test_bulk_import_refuses_a_forged_community(city, community):
    engine, communities = city
    rng = np.random.default_rng(9)
    records = [{"community_id": communities[0], "answers": synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)},
               {"community_id": community, "answers": synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)}]
    with pytest.raises(SubmissionRefused) as refused:
        with write_session(engine) as session:
            bulk_import(session, round_by_code(session, "R1"), QUESTIONNAIRE, records)
    assert refused.value.messages == {"#2 _": "社区不存在"}
    assert counts(engine)[0] == 0


def test_concurrent_submissions_lose_nothing_and_double_nothing(city):
    engine, communities = city
    rng = np.random.default_rng(7)
    jobs = [(new_response_id(), synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)) for _ in range(60)]
    failures = []

    def writer(part):
        for response_id, answers in part:
            try:
                for _ in range(2):  # every response is submitted twice, as by an impatient double tap
                    submit(engine, communities, answers, response_id, community=len(answers) % 5)
            except Exception as error:  # collected and asserted below
                failures.append(error)

    threads = [threading.Thread(target=writer, args=(jobs[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
        ids = set(session.scalars(select(Response.id)))
        stored = round_tally(session, survey_round.id)
        recounted = recount_tally(session, survey_round)
    assert ids == {response_id for response_id, _ in jobs}
    pd.testing.assert_frame_equal(canonical(stored), canonical(recounted))


def test_demo_data_loads_once_with_two_rounds(engine):
    assert load_demo(engine, per_community=(6, 8))
    assert not load_demo(engine)  # a second start leaves the data alone
    with read_session(engine) as session:
        rounds = list_rounds(session)
        assert [r.code for r in rounds] == ["2026-R1", "2026-R2"]
        assert [r.status for r in rounds] == ["closed", "open"]
        assert count_responses(session, rounds[0].id) == 45 * 6
        assert session.scalar(select(func.count()).select_from(Tally)) > 0


def test_saving_a_changed_questionnaire_under_the_same_version_is_refused(engine):
    from dataclasses import replace

    with write_session(engine) as session:
        save_questionnaire(session, QUESTIONNAIRE)
        assert save_questionnaire(session, QUESTIONNAIRE).version == QUESTIONNAIRE.version
        changed = replace(QUESTIONNAIRE, title={"zh": "改过的标题", "en": "Changed"})
        with pytest.raises(ValueError, match="版本"):
            save_questionnaire(session, changed)
