"""No torn reads: while citizens keep submitting, every read of the dashboard's numbers comes from one
consistent moment of the database, on SQLite and on PostgreSQL.

The invariant: every stored response here is eligible and answers at least one awareness item
validly, so it adds exactly one respondent to exactly one pooled awareness row of the tally.  Hence,
inside one snapshot, Σ respondents of the pooled awareness rows (read from the tally) equals the
number of eligible included responses (counted in the response table by a *second* statement).  A
reader that saw the two statements at different moments would see a commit land in between and
the two numbers differ; the reader sleeps between them to give the writers every chance.

``load_snapshot`` reads areas, tally, exclusions and cell sums inside one ``read_session``; this
test checks that session's snapshot across statements (the mechanism), plus the internal sums of
each ``load_snapshot`` result while the writers run.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import numpy as np

from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city, synthetic_answers
from data.questionnaire_versions import save_questionnaire
from data.reads import count_responses
from data.responses import new_response_id, submit_response
from reports.snapshot import load_snapshot
from data.rounds import create_round
from data.tallies import round_tally
from questionnaires import load_default

RATES = {"awareness": 0.9, "support": 0.9, "participation": 0.7, "satisfaction": 0.95}


def _set_up(engine):
    now = datetime.now()
    with write_session(engine) as session:
        version = save_questionnaire(session, load_default())
        communities = [c.id for c in build_city(session)]
        survey_round = create_round(session, "LIVE", "并发轮", version, DEFAULT_TARGETS, status="open",
                                    opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1))
    return communities, survey_round


def _writer(engine, survey_round, questionnaire, communities, seed, stop, stored, errors):
    rng = np.random.default_rng(seed)
    while not stop.is_set():
        try:
            with write_session(engine) as session:
                result = submit_response(
                    session, response_id=new_response_id(), survey_round=survey_round,
                    questionnaire=questionnaire, community_id=int(rng.choice(communities)),
                    # No "don't know" answers: every respondent answers awareness validly.
                    answers=synthetic_answers(questionnaire, rng, RATES, invalid_share=0.0),
                )
            stored.append(result.stored)
        except Exception as error:  # reported by the test, never swallowed
            errors.append(repr(error))
            return


def _pooled_awareness(tally) -> int:
    rows = tally[(tally["indicator"] == "awareness") & (tally["item"] == "")]
    return int(rows["respondents"].sum())


def test_every_read_is_one_consistent_snapshot_while_responses_arrive(engine):
    communities, survey_round = _set_up(engine)
    questionnaire = load_default()
    stop, stored, errors = threading.Event(), [], []
    writers = [
        threading.Thread(target=_writer, args=(engine, survey_round, questionnaire, communities, seed, stop, stored, errors))
        for seed in range(3)
    ]
    for thread in writers:
        thread.start()
    seen_counts, snapshots = [], 0
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not errors:
            with read_session(engine) as session:
                tally = round_tally(session, survey_round.id)
                time.sleep(0.03)  # writers commit meanwhile
                counted = count_responses(session, survey_round.id)
                counted_again = count_responses(session, survey_round.id)
            assert _pooled_awareness(tally) == counted == counted_again
            seen_counts.append(counted)

            snapshot = load_snapshot(engine, "LIVE")
            tally = snapshot.tally
            pooled = tally[tally["item"] == ""].set_index(["community_id", "indicator"])["valid"]
            items = tally[tally["item"] != ""].groupby(["community_id", "indicator"])["valid"].sum()
            assert pooled.sort_index().equals(items.sort_index().astype(pooled.dtype))
            snapshots += 1
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert not errors, errors
    # The writers really were writing while we read: the reads saw the count grow many times.
    assert len(set(seen_counts)) >= 3, seen_counts
    assert seen_counts == sorted(seen_counts)
    assert snapshots >= 3
    with read_session(engine) as session:
        final = count_responses(session, survey_round.id)
        assert final == sum(stored) == _pooled_awareness(round_tally(session, survey_round.id))
