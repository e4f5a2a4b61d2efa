"""Submissions written in groups (data.submissions) and SQLite's write turn (data.db), on real databases."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from data import submissions
from data.areas import add_area, child_areas
from data.db import FifoLock, read_session, write_session
from data.demo import synthetic_answers
from data.models import Response
from data.responses import (
    SubmissionRefused,
    new_response_id,
    prepare_submission,
    store_submissions_together,
    stores_together,
)
from data.rounds import round_by_code
from data.tallies import DeferredSums, recount_tally, round_tally
from questionnaires import load_default
from tests.data.test_repository import GOOD_RATES, canonical, city  # noqa: F401 (city: a fixture)

QUESTIONNAIRE = load_default()


@pytest.fixture
def open_round(city):
    """test_repository's small city and its open round R1, read once (as the survey page does)."""
    engine, communities = city
    with read_session(engine) as session:
        survey_round = round_by_code(session, "R1")
    return engine, communities, survey_round


def _arguments(survey_round, community_id, answers, response_id=None, **extra):
    return dict(response_id=response_id or new_response_id(), survey_round=survey_round,
                questionnaire=QUESTIONNAIRE, community_id=community_id, answers=answers, **extra)


def _stored(engine, survey_round):
    with read_session(engine) as session:
        ids = list(session.scalars(select(Response.id).where(Response.round_id == survey_round.id)))
        tally = round_tally(session, survey_round.id)
        recount = recount_tally(session, survey_round)
    return ids, tally, recount


def test_many_concurrent_submitters_each_stored_once_refusals_apart(open_round):
    """24 threads at once, every response sent twice, some invalid: each valid response is stored
    exactly once, each invalid one is refused with its own message, and the tally equals a recount."""
    engine, communities, survey_round = open_round
    rng = np.random.default_rng(11)
    jobs = []
    for i in range(240):
        answers = synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES)
        valid = i % 12 != 5
        if not valid:
            answers = {**answers, "aware_campaign": "no-such-option"}
        jobs.append((_arguments(survey_round, communities[i % len(communities)], answers), valid))
    outcomes: dict[str, list] = {}
    lock = threading.Lock()
    start = threading.Barrier(24)

    def submitter(part):
        start.wait()
        for arguments, _ in part:
            for _ in range(2):  # a double tap
                try:
                    outcome = submissions.submit(engine, **arguments)
                except SubmissionRefused as refused:
                    outcome = refused
                with lock:
                    outcomes.setdefault(arguments["response_id"], []).append(outcome)

    threads = [threading.Thread(target=submitter, args=(jobs[i::24],)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids, tally, recount = _stored(engine, survey_round)
    valid_ids = {arguments["response_id"] for arguments, valid in jobs if valid}
    assert sorted(ids) == sorted(valid_ids)  # none lost, none twice
    for arguments, valid in jobs:
        first, second = outcomes[arguments["response_id"]]
        if valid:
            assert (first.stored, second.stored) == (True, False)
        else:
            assert isinstance(first, SubmissionRefused) and "aware_campaign" in first.messages
            assert isinstance(second, SubmissionRefused)
    pd.testing.assert_frame_equal(canonical(tally), canonical(recount))


def test_one_group_with_a_double_tap_and_refusals_gives_each_its_own_outcome(open_round):
    """One group stored together (responses.store_submissions_together, what a PostgreSQL group of
    citizens' forms uses; called directly, so no fallback can hide a failure): the same form twice,
    a forged community, invalid answers and two good forms."""
    engine, communities, survey_round = open_round
    rng = np.random.default_rng(4)
    first, second = (_arguments(survey_round, communities[i], synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
                     for i in range(2))
    forged = _arguments(survey_round, 999_999, synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
    invalid = _arguments(survey_round, communities[0],
                         {**synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES), "aware_campaign": "no-such-option"})
    forged_kinds = [_arguments(survey_round, value, synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
                    for value in (True, [communities[0]], str(communities[0]))]
    sent = [first, forged, first, invalid, second, *forged_kinds]
    group = [prepare_submission(**arguments) for arguments in sent]
    assert all(stores_together(prepared) for prepared in group)
    with write_session(engine) as session:
        sums = DeferredSums()
        outcomes = store_submissions_together(session, group, sums)
        sums.write(session)

    stored = [result.stored if result else None for result, _ in outcomes]
    assert stored[0] is True and stored[2] is False  # the double tap: stored once
    assert stored[4] is True
    assert outcomes[1][0] is None and "请选择所在社区" in outcomes[1][1].messages["_"]
    assert outcomes[3][0] is None and "aware_campaign" in outcomes[3][1].messages
    for result, refusal in outcomes[5:]:  # True (== 1), a list, a string: no community
        assert result is None and "请选择所在社区" in refusal.messages["_"]
    ids, tally, recount = _stored(engine, survey_round)
    assert sorted(ids) == sorted([first["response_id"], second["response_id"]])
    pd.testing.assert_frame_equal(canonical(tally), canonical(recount))


def test_a_group_whose_transaction_fails_is_written_one_by_one(open_round):
    """A submission the database itself rejects (a foreign key; on PostgreSQL also an interviewer
    name longer than its column) must not take the others of its group down with it."""
    engine, communities, survey_round = open_round
    rng = np.random.default_rng(3)
    expected: list[str] = []
    # SQLite does not enforce VARCHAR lengths: there only the foreign key can be broken.
    kinds = ["foreign key"] + (["column length"] if engine.dialect.name == "postgresql" else [])
    for rejected_by in kinds:
        good = [_arguments(survey_round, communities[i], synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
                for i in range(6)]
        if rejected_by == "column length":  # an interview: the group is written one by one
            bad = _arguments(survey_round, communities[0], synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES),
                             channel="interview", interviewer="x" * 200)
        else:  # a citizen's form (on PostgreSQL: in the group's one insert) naming no questionnaire
            broken_round = type("Round", (), {name: getattr(survey_round, name) for name in (
                "id", "status", "opens_at", "closes_at", "requires_invitation", "quotas")})()
            broken_round.questionnaire_id = 999_999
            bad = _arguments(broken_round, communities[0], synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
        group = [submissions._Pending(prepare_submission(**arguments))
                 for arguments in (good[:3] + [bad] + good[3:])]
        submissions._SubmissionGroups(engine)._write(group)

        bad_id = bad["response_id"]
        assert [p.result.stored for p in group if p.prepared.response_id != bad_id] == [True] * 6
        failed = next(p for p in group if p.prepared.response_id == bad_id)
        assert failed.result is None and failed.error is not None
        expected += [a["response_id"] for a in good]
    ids, tally, recount = _stored(engine, survey_round)
    assert sorted(ids) == sorted(expected)
    pd.testing.assert_frame_equal(canonical(tally), canonical(recount))


def test_the_leader_hands_over_so_every_submitter_returns(open_round):
    """Submitters arriving while a group is being written form the next group; all of them
    return, and no thread is left waiting (a lost hand-over would hang this test)."""
    engine, communities, survey_round = open_round
    rng = np.random.default_rng(5)
    arguments = [_arguments(survey_round, communities[i % 5], synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
                 for i in range(100)]
    results = []
    threads = [threading.Thread(target=lambda a=a: results.append(submissions.submit(engine, **a)))
               for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 100 and all(result.stored for result in results)
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 100


def test_fifo_lock_serves_a_waiting_thread_before_the_one_that_just_released():
    lock = FifoLock()
    order = []
    lock.acquire()
    waiter = threading.Thread(target=lambda: (lock.acquire(), order.append("waiter"), lock.release()))
    waiter.start()
    while lock.waiting() == 0:
        time.sleep(0.001)
    lock.release()
    lock.acquire()  # a plain threading.Lock would let this thread barge in first
    order.append("releaser")
    lock.release()
    waiter.join()
    assert order == ["waiter", "releaser"]


def test_sqlite_write_turn_is_taken_at_the_first_statement_and_always_given_back(tmp_path):
    from data.db import _SQLITE_WRITE_LOCK, make_engine, upgrade_database

    engine = make_engine(f"sqlite:///{tmp_path / 'turn.sqlite3'}")
    upgrade_database(engine)
    with write_session(engine) as session:
        assert not _SQLITE_WRITE_LOCK._held  # nothing asked of the database yet: nobody waits for us
        other = threading.Thread(target=lambda: _write_one_area(engine, "OTHER"))
        other.start()
        other.join(timeout=10)
        assert not other.is_alive()
        _add_area(session, "MINE")
        assert _SQLITE_WRITE_LOCK._held
    assert not _SQLITE_WRITE_LOCK._held
    with pytest.raises(RuntimeError):
        with write_session(engine) as session:
            _add_area(session, "ROLLED_BACK")
            raise RuntimeError("boom")
    assert not _SQLITE_WRITE_LOCK._held  # given back after a rollback too
    with read_session(engine) as session:
        codes = {area.code for area in child_areas(session, None, "district")}
    assert codes == {"OTHER", "MINE"}
    engine.dispose()


def _add_area(session, code):
    add_area(session, code, code, "district")


def _write_one_area(engine, code):
    with write_session(engine) as session:
        _add_area(session, code)


def test_a_group_held_up_on_the_server_does_not_hold_up_the_next_one(open_round):
    """On PostgreSQL two groups are written at once: while one group waits for a row another
    transaction holds, the next submission (another community) is stored.  On SQLite, with one
    writer at a time, it waits.  Either way both are stored once the row is free."""
    engine, communities, survey_round = open_round
    rng = np.random.default_rng(21)
    forms = [_arguments(survey_round, communities[k], synthetic_answers(QUESTIONNAIRE, rng, GOOD_RATES))
             for k in (0, 0, 3)]
    assert submissions.submit(engine, **forms[0]).stored  # community 0's tally rows now exist
    holder = engine.connect()
    holder.begin()
    if engine.dialect.name == "postgresql":  # hold one of community 0's tally rows
        holder.exec_driver_sql("SELECT 1 FROM tally WHERE community_id = %s LIMIT 1 FOR UPDATE", (communities[0],))
    else:  # hold SQLite's one write lock
        holder.exec_driver_sql("UPDATE survey_round SET tally_version = tally_version WHERE id = ?", (survey_round.id,))
    results: dict[int, object] = {}
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, submissions.submit(engine, **forms[k])))
               for k in (1, 2)]
    try:
        threads[0].start()
        time.sleep(1.0)
        assert 1 not in results  # held up
        threads[1].start()
        threads[1].join(timeout=15 if engine.dialect.name == "postgresql" else 1.0)
        if engine.dialect.name == "postgresql":
            assert 2 in results and results[2].stored
        else:
            assert 2 not in results
    finally:
        holder.rollback()
        holder.close()
    for thread in threads:
        thread.join(timeout=60)
    assert results[1].stored and results[2].stored
    ids, tally, recount = _stored(engine, survey_round)
    assert sorted(ids) == sorted(form["response_id"] for form in forms)
    pd.testing.assert_frame_equal(canonical(tally), canonical(recount))
