"""Many responses at once (a file, a paper batch, the benchmark): ``bulk_import`` stores all of
them or, on the first invalid record, none.

The records go through the answer rules column by column (``AnswerRules.columns``), then into one
insert (``COPY`` on PostgreSQL) and one upsert per tally table with sums made by numpy, without a
dict per response: see docs/performance.md for what a million responses take.
Every function takes the session first and never commits (see ``data.areas``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from data import fast_paths as fast
from data import tallies
from data.models import Area, CellTally, Response, SurveyRound, Tally
from data.responses import SubmissionRefused, in_language, is_area_id, new_response_id
from data.rounds import accepts_responses
from questionnaires import Questionnaire
from questionnaires.answer_rules import AnswerColumns


_INSERT_RESPONSE = Response.__table__.insert()

@fast.cyclic_gc_paused
def bulk_import(
    session: Session,
    survey_round: SurveyRound,
    questionnaire: Questionnaire,
    records: Iterable[Mapping],
    *,
    channel: str = "import",
    check_window: bool = False,
    lang: str = "zh",
) -> int:
    """Store many responses in the caller's transaction: all of them or, on the first invalid
    record, none (``SubmissionRefused`` names the record).

    A record has ``community_id``, ``answers`` and optionally ``id``, ``interviewer``,
    ``started_at``, ``submitted_at``.  Records whose id is already stored are skipped, so
    re-running an import never doubles it.  Returns the number of new responses.

    The records are checked and stored column by column (``questionnaires.answer_rules.AnswerRules.columns``, one insert, the
    tally sums with numpy): see docs/performance.md for what a million responses take.
    """
    now = datetime.now()
    district_of = dict(session.execute(select(Area.id, Area.district_id).where(Area.level == "community")).all())
    records = records if isinstance(records, list) else list(records)
    if not records:
        return 0
    answers = fast.rules_for(questionnaire).columns([record.get("answers") for record in records], lang)
    communities = [record.get("community_id") for record in records]
    submitted_at = [record.get("submitted_at") or now for record in records]
    known = [is_area_id(community) and community in district_of for community in communities]
    in_window = [True] * len(records)
    if check_window:
        in_window = [accepts_responses(survey_round, at) for at in submitted_at]
    if answers.problems or not all(known) or not all(in_window):
        for position in range(len(records)):
            problems = answers.problems.get(position, {})
            if not known[position]:
                problems = {**problems, "_": in_language(lang, "社区不存在", "unknown community")}
            if not in_window[position]:
                problems = {**problems, "_": in_language(lang, "不在本轮调查时间内", "outside the round's window")}
            if problems:
                raise SubmissionRefused({f"#{position + 1} {k}": v for k, v in problems.items()})

    ids = [record.get("id") or new_response_id() for record in records]
    first_of = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1)))  # the same form twice in a file counts once
    already = _existing_ids(session, list(first_of))
    new = [position for response_id, position in first_of.items() if response_id not in already]
    if not new:
        return 0
    new.sort()
    every_record = len(new) == len(records)

    def chosen(column: list) -> list:
        return column if every_record else [column[position] for position in new]

    count = len(new)
    eligible = chosen(answers.eligible)
    community = chosen(communities)
    _insert_response_columns(session, {
        "id": chosen(ids),
        "round_id": [survey_round.id] * count,
        "questionnaire_id": [survey_round.questionnaire_id] * count,
        "community_id": community,
        "channel": chosen([record.get("channel", channel) for record in records]),
        "interviewer": chosen([record.get("interviewer") for record in records]),
        "started_at": chosen([record.get("started_at") for record in records]),
        "submitted_at": chosen(submitted_at),
        "eligible": eligible,
        "age_group": chosen(answers.person["age_group"]),
        "sex": chosen(answers.person["sex"]),
        "status": ["included"] * count,
        "answers": chosen(answers.answers_json),
        "scores": chosen(answers.scores_json),
    })

    _add_imported_sums(session, survey_round.id, questionnaire, answers,
                       [position for position, ok in zip(new, eligible) if ok], communities, district_of)
    tallies.touch_round(session, survey_round.id)
    return count


def _add_imported_sums(session: Session, round_id: int, questionnaire: Questionnaire, answers: AnswerColumns,
                       counted: list[int], communities: list, district_of: Mapping[int, int]) -> None:
    """Add the scores of the imported responses at ``counted`` (their positions in ``answers``) to
    both tallies, from the score columns, without a row per response."""
    items = [(q.code, q.indicator) for q in questionnaire.indicator_items()]
    if not items or not counted:
        return
    scores = np.array([answers.scores[code] for code, _ in items], dtype=np.float64).T[counted]
    community = [communities[p] for p in counted]
    cell = zip([district_of[c] for c in community], [answers.person["age_group"][p] or "" for p in counted],
               [answers.person["sex"][p] or "" for p in counted])
    for table, key_names, keys in (
        (Tally.__table__, ("community_id",), list(zip(community))),
        (CellTally.__table__, ("district_id", "age_group", "sex"), list(cell)),
    ):
        distinct, groups = tallies.group_index(keys)
        group, indicator, item, sums = tallies.group_sums(scores, items, groups, len(distinct))
        key_values = [list(column) for column in zip(*map(distinct.__getitem__, group))]
        tallies.upsert_sum_columns(session, table, key_names, round_id, [*key_values, indicator, item], sums, 1)


def _insert_response_columns(session: Session, values_of: dict[str, list]) -> None:
    """Insert responses given column by column, answers and scores already JSON text.  On
    PostgreSQL with COPY: the server ingests rows several times faster than one INSERT per row (the
    import had run at a third of what the raw executemany managed).  COPY has no ON CONFLICT, like
    the plain INSERT it replaces: ids already stored were left out by the caller, and an id stored
    meanwhile by another instance fails the whole import, which writes nothing."""
    if session.get_bind().dialect.name != "postgresql":
        fast.driver_execute_columns(session, _INSERT_RESPONSE, values_of, ready=("answers", "scores")).close()
        return
    # psycopg writes str, int, bool, None and naive datetimes as this table's columns read them.
    with fast.driver_cursor(session) as cursor:
        with cursor.copy(f"COPY response ({', '.join(values_of)}) FROM STDIN") as copy:
            for row in zip(*values_of.values()):
                copy.write_row(row)


def _existing_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    connection = session.connection()
    if connection.dialect.name == "postgresql" and ids:
        # One query with an array, planned afresh each time: psycopg prepares a statement run
        # five times, and a generic plan made while the table was small (or never analysed)
        # scans the whole table for every batch, which made a large import crawl.
        with fast.driver_cursor(session) as cursor:
            cursor.execute("SELECT id FROM response WHERE id = ANY(%s)", (list(ids),), prepare=False)
            return {row[0] for row in cursor.fetchall()}
    with fast.driver_cursor(session) as cursor:
        for start in range(0, len(ids), 900):  # below SQLite's oldest limit of 999 parameters
            chunk = ids[start : start + 900]
            cursor.execute(f"SELECT id FROM response WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update(row[0] for row in cursor.fetchall())
    return found


