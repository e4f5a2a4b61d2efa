"""Rounds, exclusions, quotas, invitations and fieldwork counts on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from data.scope import CITY
from data import accounts
from data.questionnaire_versions import save_questionnaire
from data.reads import completes, count_responses, exclusion_summary
from data.responses import SubmissionRefused, new_response_id, quota_cell_full, set_response_status, submit_response
from data.rounds import change_round_status, create_round, round_by_code, update_round_settings
from data.tallies import recount_tally, round_cell_tally, round_tally
from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city, synthetic_answers
from questionnaires import load_default

QUESTIONNAIRE = load_default()
RATES = {"awareness": 0.9, "support": 0.95, "participation": 0.8, "satisfaction": 0.97}


@pytest.fixture
def city(engine):
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        communities = [c.id for c in build_city(session)]
        create_round(session, "R1", "第一轮", version, DEFAULT_TARGETS, status="open",
                          quotas={"districts": {"CD": 5}, "cells": {"CD|30_39|female": 1}})
    return engine, communities


def submit(engine, community_id, answers, channel="self", response_id=None, round_code="R1", token=None):
    with write_session(engine) as session:
        return submit_response(
            session, response_id=response_id or new_response_id(),
            survey_round=round_by_code(session, round_code), questionnaire=QUESTIONNAIRE,
            community_id=community_id, answers=answers, channel=channel, interviewer="CD-01",
            invitation_token=token,
        )


def tallies(engine):
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
        return round_tally(session, survey_round.id), round_cell_tally(session, survey_round.id)


def canonical(frame):
    keys = [c for c in frame.columns if c in ("community_id", "district_id", "age_group", "sex", "indicator", "item")]
    frame = frame[frame["respondents"] != 0]
    return frame.sort_values(keys).reset_index(drop=True)


def test_excluding_removes_exactly_the_response_and_including_restores_it(city):
    engine, communities = city
    rng = np.random.default_rng(1)
    ids = [submit(engine, communities[k % 3], synthetic_answers(QUESTIONNAIRE, rng, RATES)).response_id
           for k in range(12)]
    before_tally, before_cells = tallies(engine)
    with write_session(engine) as session:
        assert set_response_status(session, "org", ids[:3], "excluded", "用时过短", scope=CITY) == 3
        assert set_response_status(session, "org", ids[:3], "excluded", "again", scope=CITY) == 0  # no double effect
    after_tally, after_cells = tallies(engine)
    pooled = after_tally[(after_tally["item"] == "") & (after_tally["indicator"] == "awareness")]
    assert pooled["respondents"].sum() == 9
    assert after_cells[(after_cells["item"] == "") & (after_cells["indicator"] == "awareness")]["respondents"].sum() == 9
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
        pd.testing.assert_frame_equal(canonical(recount_tally(session, survey_round)),
                                      canonical(after_tally).astype(canonical(recount_tally(session, survey_round)).dtypes))
        summary = exclusion_summary(session, survey_round.id, scope=CITY)
        assert summary.to_dict("records") == [{"reason": "用时过短", "responses": 3}]
        audited = accounts.audit_events(session, action="response.exclude")
        assert len(audited) == 3 and set(audited["target"]) == set(ids[:3])
    with write_session(engine) as session:
        set_response_status(session, "org", ids[:3], "included", scope=CITY)
    restored_tally, restored_cells = tallies(engine)
    pd.testing.assert_frame_equal(canonical(restored_tally), canonical(before_tally))
    pd.testing.assert_frame_equal(canonical(restored_cells), canonical(before_cells))


def test_excluding_needs_a_reason(city):
    engine, communities = city
    response_id = submit(engine, communities[0], synthetic_answers(QUESTIONNAIRE, np.random.default_rng(2), RATES)).response_id
    with pytest.raises(ValueError), write_session(engine) as session:
        set_response_status(session, "org", [response_id], "excluded", "  ", scope=CITY)


def test_round_lifecycle_freezes_targets_and_never_reopens(city):
    engine, _ = city
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        draft = create_round(session, "R2", "第二轮", version, DEFAULT_TARGETS, status="draft")
        update_round_settings(session, "org", draft, targets={**DEFAULT_TARGETS, "support": 0.9}, scope=CITY)
        change_round_status(session, "org", draft, "open", scope=CITY)
        with pytest.raises(ValueError, match="frozen"):
            update_round_settings(session, "org", draft, targets=DEFAULT_TARGETS, scope=CITY)
        change_round_status(session, "org", draft, "closed", scope=CITY)
        with pytest.raises(ValueError):
            change_round_status(session, "org", draft, "open", scope=CITY)
        with pytest.raises(ValueError, match="已存在"):
            create_round(session, "R2", "重复", version, DEFAULT_TARGETS)
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R2")
        assert survey_round.targets["support"] == 0.9 and survey_round.status == "closed"
        actions = list(accounts.audit_events(session)["action"])
    assert actions.count("round.status") == 2 and "round.update" in actions


def test_official_sample_size_is_a_frozen_round_setting(city):
    engine, _ = city
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        draft = create_round(session, "R3", "第三轮", version, DEFAULT_TARGETS, status="draft")
        assert draft.official_sample_size == 600
        for bad in (0, -5, 2.5, "600", True, 1_000_001):
            with pytest.raises(ValueError, match="official sample size"):
                update_round_settings(session, "org", draft, official_sample_size=bad, scope=CITY)
        with pytest.raises(ValueError, match="正式测评样本量"):
            create_round(session, "R4", "第四轮", version, DEFAULT_TARGETS, official_sample_size=0)
        update_round_settings(session, "org", draft, official_sample_size=1200, scope=CITY)
        change_round_status(session, "org", draft, "open", scope=CITY)
        with pytest.raises(ValueError, match="frozen"):
            update_round_settings(session, "org", draft, official_sample_size=800, scope=CITY)
    with read_session(engine) as session:
        assert round_by_code(session, "R3").official_sample_size == 1200
        assert round_by_code(session, "R4") is None


def test_responses_outside_the_window_are_refused(city):
    engine, communities = city
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        create_round(session, "LATER", "未开始", version, DEFAULT_TARGETS, status="open",
                          opens_at=datetime.now() + timedelta(days=1))
    with pytest.raises(SubmissionRefused, match="未开放"):
        submit(engine, communities[0], synthetic_answers(QUESTIONNAIRE, np.random.default_rng(3), RATES),
               round_code="LATER")


def test_full_quota_cell_refuses_further_interviews_but_not_a_resubmit(city):
    engine, communities = city
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(4), RATES)
    answers.update(age_group="30_39", sex="female")
    first = submit(engine, communities[0], answers, channel="interview")
    assert first.stored
    assert not submit(engine, communities[0], answers, channel="interview", response_id=first.response_id).stored
    with pytest.raises(SubmissionRefused, match="配额"):
        submit(engine, communities[1], answers, channel="interview")
    other = dict(answers, sex="male")
    assert submit(engine, communities[1], other, channel="interview").stored
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
        assert quota_cell_full(session, survey_round, communities[0], "30_39", "female")
        by_cell = completes(session, survey_round.id, "cell", scope=CITY)
        assert by_cell["completes"].sum() == 2
        assert completes(session, survey_round.id, "interviewer", scope=CITY)["completes"].sum() == 2
        assert completes(session, survey_round.id, "day", scope=CITY)["completes"].sum() == 2
        assert completes(session, survey_round.id, "district", scope=CITY)["completes"].sum() == 2
        # a street or community office's scope: only its own communities
        only_first = completes(session, survey_round.id, "district", scope=CITY, community_ids=[communities[0]])
        assert only_first["completes"].sum() == 1
        assert completes(session, survey_round.id, "cell", scope=CITY, community_ids=[])["completes"].sum() == 0


def test_invitation_round_accepts_each_token_once(city):
    engine, communities = city
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        invited = create_round(session, "INV", "邀请制", version, DEFAULT_TARGETS, requires_invitation=True)
        tokens = accounts.create_invitations(session, "org", invited.id, 2)
    rng = np.random.default_rng(5)
    with pytest.raises(SubmissionRefused, match="邀请码"):
        submit(engine, communities[0], synthetic_answers(QUESTIONNAIRE, rng, RATES), round_code="INV")
    first = submit(engine, communities[0], synthetic_answers(QUESTIONNAIRE, rng, RATES), round_code="INV", token=tokens[0])
    assert first.stored
    with pytest.raises(SubmissionRefused, match="已经使用"):
        submit(engine, communities[0], synthetic_answers(QUESTIONNAIRE, rng, RATES), round_code="INV", token=tokens[0])
    with read_session(engine) as session:
        assert count_responses(session, round_by_code(session, "INV").id) == 1


def test_snapshot_is_reused_only_while_the_round_is_unchanged(city):
    from reports.snapshot import load_snapshot
    from reports.results import results_for

    engine, communities = city
    rng = np.random.default_rng(11)
    first_id = submit(engine, communities[0], synthetic_answers(QUESTIONNAIRE, rng, RATES)).response_id
    first = load_snapshot(engine, "R1")
    assert load_snapshot(engine, "R1") is first  # nothing changed: nothing re-read
    assert results_for(first) is results_for(first)

    submit(engine, communities[1], synthetic_answers(QUESTIONNAIRE, rng, RATES))
    second = load_snapshot(engine, "R1")
    assert second is not first and second.tally_version > first.tally_version
    pooled = second.tally[(second.tally["item"] == "") & (second.tally["indicator"] == "awareness")]
    assert pooled["respondents"].sum() == 2

    with write_session(engine) as session:
        set_response_status(session, "org", [first_id], "excluded", "测试", scope=CITY)
    third = load_snapshot(engine, "R1")
    assert third is not second and third.exclusions["responses"].sum() == 1
    pooled = third.tally[(third.tally["item"] == "") & (third.tally["indicator"] == "awareness")]
    assert pooled["respondents"].sum() == 1
