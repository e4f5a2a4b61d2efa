"""One definition of every length: what validation accepts, both databases store.

Each length that reaches a varchar column is submitted at its limit (stored, then a citizen's or
interviewer's submission goes through on SQLite and PostgreSQL alike) and one beyond it (refused by
validation with a clear message, before anything reaches the database).  Before issue 18 the
beyond-the-limit cases passed validation and then failed every submission on PostgreSQL only.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from data import accounts
from data.questionnaire_versions import save_questionnaire
from data.responses import new_response_id, submit_response
from data.rounds import create_round, round_by_code
from data.tallies import round_tally
from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city, synthetic_answers
from data.models import USERNAME_LENGTH, QuestionnaireVersion, Response, SurveyRound
from questionnaires import QuestionnaireError, load_default, parse_questionnaire
from questionnaires.loader import default_questionnaire_path, load_yaml
from questionnaires.model import DEMOGRAPHIC_CODE_LENGTH, QUESTION_CODE_LENGTH, QUESTIONNAIRE_CODE_LENGTH

RATES = {"awareness": 0.9, "support": 0.95, "participation": 0.7, "satisfaction": 0.95}


def variant(*, code_length=None, indicator_code_length=None, demographic_code_length=None) -> dict:
    data = load_yaml(default_questionnaire_path().read_text(encoding="utf-8"))
    if code_length:
        data["code"] = ("q" * code_length)[:code_length]
    if indicator_code_length:
        question = next(q for q in data["questions"] if q.get("indicator") and not any(
            q["code"] in str(other.get("relevant", "")) for other in data["questions"]))
        question["code"] = "x" * indicator_code_length
    if demographic_code_length:
        question = next(q for q in data["questions"] if q.get("demographic") == "sex")
        question["options"][0]["code"] = "f" * demographic_code_length
    return data


def test_column_sizes_are_the_validation_limits():
    assert Response.__table__.c.age_group.type.length == DEMOGRAPHIC_CODE_LENGTH
    assert QuestionnaireVersion.__table__.c.code.type.length == QUESTIONNAIRE_CODE_LENGTH
    assert Response.__table__.c.interviewer.type.length == USERNAME_LENGTH


@pytest.mark.parametrize("limits", [
    {"code_length": QUESTIONNAIRE_CODE_LENGTH},
    {"indicator_code_length": QUESTION_CODE_LENGTH},
    {"demographic_code_length": DEMOGRAPHIC_CODE_LENGTH},
], ids=["questionnaire code", "indicator question code", "demographic option code"])
def test_at_the_limit_every_database_stores_it(engine, limits):
    questionnaire = parse_questionnaire(variant(**limits))
    answers = synthetic_answers(questionnaire, np.random.default_rng(4), RATES)
    sex = questionnaire.demographic_question("sex")
    answers[sex.code] = sex.options[0].code  # the long option code, if that is the case
    with write_session(engine) as session:
        version = save_questionnaire(session, questionnaire)
        community = build_city(session)[0].id
        survey_round = create_round(session, "L" * SurveyRound.__table__.c.code.type.length, "长度", version,
                                         DEFAULT_TARGETS)
    with write_session(engine) as session:
        result = submit_response(session, response_id=new_response_id(), questionnaire=questionnaire,
                                      survey_round=round_by_code(session, survey_round.code),
                                      community_id=community, answers=answers)
    assert result.stored
    with read_session(engine) as session:
        stored = session.get(Response, result.response_id)
        assert stored.sex == sex.options[0].code
        assert round_tally(session, stored.round_id)["item"].str.len().max() <= QUESTION_CODE_LENGTH


@pytest.mark.parametrize("limits, field", [
    ({"code_length": QUESTIONNAIRE_CODE_LENGTH + 1}, "field code"),
    ({"indicator_code_length": QUESTION_CODE_LENGTH + 1}, "field code"),
    ({"demographic_code_length": DEMOGRAPHIC_CODE_LENGTH + 1}, "options[0].code"),
], ids=["questionnaire code", "indicator question code", "demographic option code"])
def test_beyond_the_limit_validation_refuses_it(limits, field):
    with pytest.raises(QuestionnaireError) as refused:
        parse_questionnaire(variant(**limits))
    assert any(field in message and "at most" in message for message in refused.value.errors)


def test_a_round_code_beyond_its_column_is_refused_clearly(engine):
    with write_session(engine) as session:
        version = save_questionnaire(session, load_default())
        with pytest.raises(ValueError, match="at most 40 characters"):
            create_round(session, "R" * 41, "x", version, DEFAULT_TARGETS)


@pytest.mark.parametrize("name_length", [41, USERNAME_LENGTH])
def test_an_interviewer_with_a_long_user_name_can_store_interviews(engine, name_length):
    questionnaire = load_default()
    with write_session(engine) as session:
        version = save_questionnaire(session, questionnaire)
        community = build_city(session)[0].id
        create_round(session, "R1", "x", version, DEFAULT_TARGETS)
        user = accounts.create_user(session, None, "i" * name_length, "long name 12345", "interviewer")
        username = user.username
    with write_session(engine) as session:
        result = submit_response(
            session, response_id=new_response_id(), survey_round=round_by_code(session, "R1"),
            questionnaire=questionnaire, community_id=community, channel="interview", interviewer=username,
            answers=synthetic_answers(questionnaire, np.random.default_rng(5), RATES))
    with read_session(engine) as session:
        assert session.scalar(select(Response.interviewer).where(Response.id == result.response_id)) == username
