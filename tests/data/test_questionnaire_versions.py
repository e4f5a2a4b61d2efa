"""Questionnaire versions against real databases: every test runs on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from data import accounts
from data import questionnaire_versions as qv
from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city
from data.models import QuestionnaireVersion, Response
from data.questionnaire_versions import load_questionnaire_version, save_questionnaire
from data.responses import new_response_id, submit_response
from data.rounds import create_round, round_by_code
from questionnaires import load_default, parse_questionnaire_text
from questionnaires.xlsform import write_xlsform

V1 = load_default()


def edited(questionnaire, **changes_by_code):
    """A copy with some questions replaced (dataclasses.replace keyword arguments per question code)."""
    questions = tuple(dataclasses.replace(q, **changes_by_code[q.code]) if q.code in changes_by_code else q
                      for q in questionnaire.questions)
    return dataclasses.replace(questionnaire, questions=questions)


def reworded(questionnaire):
    label = dict(questionnaire.question("aware_campaign").label, zh="您是否知道我市正在创建全国文明城市？")
    return edited(questionnaire, aware_campaign={"label": label})


@pytest.fixture
def city(engine):
    """The demo city tree with the default questionnaire (version 1) and one open round, no responses."""
    with write_session(engine) as session:
        version = save_questionnaire(session, V1)
        communities = [c.id for c in build_city(session)]
        create_round(session, "R1", "第一轮", version, DEFAULT_TARGETS,
                     opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    return engine, communities, version.id


ANSWERS = {
    "resident": "yes", "age_group": "30_39", "sex": "female", "aware_campaign": "yes", "aware_core_values": "yes",
    "core_values_quiz": "c", "aware_convention": "yes", "aware_citizen_code": "yes", "aware_practice_station": "yes",
    "aware_how_to_volunteer": "yes", "support_campaign": "support", "support_dissuade_uncivil": "willing",
    "support_practise_convention": "willing", "took_part_activities": "yes", "volunteer_last_year": "no",
    "learn_channels": ["online"],
}


def full_answers(questionnaire):
    answers = dict(ANSWERS)
    for question in questionnaire.questions:
        if question.type == "satisfaction":
            answers[question.code] = "satisfied"
    return answers


def test_an_edited_questionnaire_becomes_version_2_and_old_responses_keep_version_1(city):
    engine, communities, v1_id = city
    with write_session(engine) as session:
        response_id = new_response_id()
        submit_response(session, response_id=response_id, survey_round=round_by_code(session, "R1"),
                        questionnaire=V1, community_id=communities[0], answers=full_answers(V1))

    upload = reworded(V1)  # still says "version: 1", as an organiser's edited copy would
    assert upload.version == 1
    with write_session(engine) as session:
        stored, created = qv.save_new_version(session, "org", upload)
        v2_id = stored.id
    assert created and stored.version == 2 and stored.code == V1.code and v2_id != v1_id

    with read_session(engine) as session:
        response = session.get(Response, response_id)
        assert response.questionnaire_id == v1_id
        old = load_questionnaire_version(session, v1_id)
        new = load_questionnaire_version(session, v2_id)
        events = accounts.audit_events(session, action="questionnaire.version")
        versions = qv.list_versions(session)
    assert old.to_dict() == V1.to_dict()
    assert old.question("aware_campaign").text("zh") == "您知道我市正在创建全国文明城市吗？"
    assert new.version == 2 and new.question("aware_campaign").text("zh") == "您是否知道我市正在创建全国文明城市？"
    assert new.to_dict() == dataclasses.replace(upload, version=2).to_dict()
    assert events["actor"].tolist() == ["org"] and events["target"].tolist() == [V1.code]
    assert events["detail"].iloc[0]["version"] == 2

    assert versions[["code", "version", "rounds", "responses"]].values.tolist() == [
        [V1.code, 1, "R1", 1],
        [V1.code, 2, "", 0],
    ]
    assert versions["title"].tolist() == [V1.title["zh"]] * 2


def test_an_identical_upload_creates_nothing_whatever_its_version_number(city):
    engine, _, v1_id = city
    for same in (V1, dataclasses.replace(V1, version=7)):
        with write_session(engine) as session:
            stored, created = qv.save_new_version(session, "org", same)
        assert (stored.id, stored.version, created) == (v1_id, 1, False)
    # Also through the upload check, as YAML and as XLSForm.
    for name, data in (("v.yaml", qv.to_yaml(V1).encode("utf-8")), ("v.xlsx", write_xlsform(V1))):
        questionnaire, messages = qv.check_upload(name, data)
        assert messages == [] and questionnaire.content_hash() == V1.content_hash()
        with write_session(engine) as session:
            assert qv.save_new_version(session, "org", questionnaire)[1] is False
    with read_session(engine) as session:
        assert session.scalars(select(QuestionnaireVersion.version)).all() == [1]
        assert accounts.audit_events(session, action="questionnaire.version").empty


def test_versions_are_numbered_after_the_highest_stored_one(city):
    engine, _, _ = city
    second = reworded(V1)
    third = edited(second, suggestion={"max_length": 200})
    with write_session(engine) as session:
        assert qv.save_new_version(session, "org", dataclasses.replace(second, version=5))[0].version == 2
        assert qv.save_new_version(session, "org", third)[0].version == 3
        # Going back to the content of version 2 is version 2 again, not a new one.
        assert qv.save_new_version(session, "org", second)[0].version == 2
        assert qv.latest_version(session, V1.code).version == 3
    # A new code starts at version 1.
    other = dataclasses.replace(V1, code="district_quick", version=4)
    with write_session(engine) as session:
        stored, created = qv.save_new_version(session, "org", other)
    assert created and stored.version == 1


def test_check_upload_reports_every_problem_without_storing(city):
    engine, _, _ = city
    broken = b"code: x\nversion: 0\ntitle: {zh: t}\nquestions:\n  - {code: a, type: yes_no, label: {zh: A}, positive: [maybe]}\n"
    questionnaire, messages = qv.check_upload("bad.yaml", broken)
    assert questionnaire is None
    assert messages == [
        "bad.yaml: 字段 version: 不能小于 1 / field version: must be at least 1",
        "bad.yaml: 问题 a 的字段 positive: 选项 maybe 不存在 / question a, field positive: option 'maybe' does not exist",
    ]
    assert qv.message_in(messages[1], "zh") == "bad.yaml: 问题 a 的字段 positive: 选项 maybe 不存在"
    assert qv.message_in(messages[1], "en") == "bad.yaml: question a, field positive: option 'maybe' does not exist"
    assert qv.check_upload("form.xlsx", b"not a workbook")[0] is None
    assert qv.check_upload("form.xlsx", b"not a workbook")[1]
    assert "xlsx" in qv.check_upload("form.xls", b"")[1][0]
    assert qv.check_upload("notes.txt", b"")[1][0].startswith("notes.txt: 只支持")
    with read_session(engine) as session:
        assert session.scalars(select(QuestionnaireVersion.code)).all() == [V1.code]


def test_yaml_export_loads_back_to_the_same_questionnaire():
    assert parse_questionnaire_text(qv.to_yaml(V1)).to_dict() == V1.to_dict()


def test_comparable_items_flags_changed_scoring():
    support = V1.question("support_campaign")
    new = edited(
        V1,
        support_campaign={"positive": support.positive | {"indifferent"}},  # 无所谓 now counts as support
        aware_practice_station={"invalid": frozenset()},  # 不清楚 now in the denominator
        took_part_activities={"indicator": "awareness"},
        aware_campaign={"label": dict(V1.question("aware_campaign").label, zh="您是否知道创建工作？")},  # wording only
    )
    items = qv.comparable_items(V1, new).set_index("item")
    assert set(items.index) == {q.code for q in V1.indicator_items()}
    assert not items.loc["support_campaign", "comparable"]
    assert "正面选项" in items.loc["support_campaign", "reason"]
    assert "positive" in items.loc["support_campaign", "reason"]
    assert not items.loc["aware_practice_station", "comparable"]
    assert "invalid" in items.loc["aware_practice_station", "reason"]
    assert not items.loc["took_part_activities", "comparable"]
    assert items.loc["took_part_activities", ["indicator_old", "indicator_new"]].tolist() == ["participation", "awareness"]
    assert items.loc["aware_campaign", "comparable"] and items.loc["aware_campaign", "reason"] == ""
    assert items["comparable"].sum() == len(items) - 3

    dropped = dataclasses.replace(V1, questions=tuple(q for q in V1.questions if q.code != "aware_convention"))
    items = qv.comparable_items(V1, dropped).set_index("item")
    assert not items.loc["aware_convention", "comparable"]
    assert "新版本没有此题" in items.loc["aware_convention", "reason"]
