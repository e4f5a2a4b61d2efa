"""What each trick of ``data.fast_paths`` buys: the trick against its plain path, alternating, in one run.

    python -m bench.fast_paths                 # 20,000 responses a round, 3 rounds each, SQLite
    python -m bench.fast_paths --n 5000 --rounds 2

Each line gives the median time of the trick and of its plain path over the rounds (made in turn,
on the same rows) and their ratio; only the ratio means something on a shared machine.  The
numbers go into the header of data/fast_paths.py and docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import DateTime, select
from sqlalchemy.dialects import sqlite

from bench.city import BENCH_ROUND, Generator, build_city
from data import fast_paths as fast
from data.db import json_text, make_engine, read_session, upgrade_database, write_session
from data.imports import bulk_import
from data.models import Response, Tally
from data.responses import new_response_id
from questionnaires import load_default
from questionnaires.answer_rules import AnswerRules


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _compare(name: str, unit_count: int, unit: str, trick, plain, rounds: int) -> dict:
    times = {"trick": [], "plain": []}
    for _ in range(rounds):
        times["trick"].append(_timed(trick))
        times["plain"].append(_timed(plain))
    trick_us = statistics.median(times["trick"]) / unit_count * 1e6
    plain_us = statistics.median(times["plain"]) / unit_count * 1e6
    line = f"{name}: {plain_us:.2f} → {trick_us:.2f} µs a {unit} (plain ÷ trick {plain_us / trick_us:.2f}×)"
    print(line, flush=True)
    return {"name": name, "plain_us": plain_us, "trick_us": trick_us, "ratio": plain_us / trick_us}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fast_paths", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="responses a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    n, rounds = args.n, args.rounds
    questionnaire = load_default()
    rules = AnswerRules(questionnaire)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'fast_paths.sqlite3'}")
        upgrade_database(engine)
        community_ids, district_index, survey_rounds = build_city(engine)
        survey_round = survey_rounds[BENCH_ROUND]
        generator = Generator(questionnaire, community_ids, district_index, seed=7, opens_at=survey_round.opens_at)
        batches = iter(generator.batches(n * (4 * rounds + 3), n))

        def rows_of(records):
            out = []
            for record in records:
                _, row = rules.row(new_response_id(), survey_round.id, survey_round.questionnaire_id,
                                   record["community_id"], record["answers"], "import", None, record.get("started_at"),
                                   record["submitted_at"], "zh")
                out.append(row)
            return out

        insert = Response.__table__.insert()

        def bind_plan():
            rows = rows_of(next(batches))
            columns = {key: [row[key] for row in rows] for key in rows[0]}
            columns["answers"] = list(map(json_text, columns["answers"]))
            columns["scores"] = list(map(json_text, columns["scores"]))
            with write_session(engine) as session:
                start = time.perf_counter()
                fast.driver_execute_columns(session, insert, columns, ready=("answers", "scores")).close()
                return time.perf_counter() - start

        def plain_insert():
            rows = rows_of(next(batches))
            with write_session(engine) as session:
                start = time.perf_counter()
                fast.plain_execute(session, insert, rows)
                return time.perf_counter() - start

        results = []
        # The inserts time themselves (making the rows is not part of either path).
        times = {"trick": [], "plain": []}
        for _ in range(rounds):
            times["trick"].append(bind_plan())
            times["plain"].append(plain_insert())
        trick_us, plain_us = (statistics.median(times[k]) / n * 1e6 for k in ("trick", "plain"))
        print(f"bind plan (insert of a response): {plain_us:.2f} → {trick_us:.2f} µs a row "
              f"(plain ÷ trick {plain_us / trick_us:.2f}×)", flush=True)
        results.append({"name": "bind plan", "plain_us": plain_us, "trick_us": trick_us})

        dialect = sqlite.dialect()
        general = DateTime().dialect_impl(dialect).bind_processor(dialect)
        dates = [record["submitted_at"] for record in next(batches)] * 5
        quick = fast.sqlite_datetime_text(general)
        results.append(_compare("SQLite DateTime text (a column)", len(dates), "value",
                                lambda: quick.column(dates), lambda: list(map(general, dates)), rounds))

        tally_query = select(Tally.community_id, Tally.indicator, Tally.item, Tally.respondents, Tally.valid,
                             Tally.positive, Tally.valid_sq, Tally.positive_sq, Tally.valid_positive)
        with write_session(engine) as session:
            bulk_import(session, survey_round, questionnaire, next(batches))
        with read_session(engine) as session:
            tally_rows = len(fast.plain_rows(session, tally_query))
            results.append(_compare(f"tally read ({tally_rows:,} rows)", tally_rows, "row",
                                    lambda: fast.plain_rows(session, tally_query),
                                    lambda: fast.plain_read(session, tally_query), rounds))

        def import_with(function):
            records = next(batches)

            def run():
                with write_session(engine) as session:
                    function(session, survey_round, questionnaire, records)
            return run

        gc_times = {"trick": [], "plain": []}
        for _ in range(rounds):
            gc_times["trick"].append(_timed(import_with(bulk_import)))
            gc_times["plain"].append(_timed(import_with(bulk_import.__wrapped__)))
        trick_us, plain_us = (statistics.median(gc_times[k]) / n * 1e6 for k in ("trick", "plain"))
        print(f"garbage collector paused (bulk_import): {plain_us:.2f} → {trick_us:.2f} µs a response "
              f"(plain ÷ trick {plain_us / trick_us:.2f}×)", flush=True)

        one = next(batches)[:200]
        results.append(_compare("answer rules kept per questionnaire (one submission's row)", len(one), "submission",
                                lambda: [fast.rules_for(questionnaire).row("id", 1, 2, 3, r["answers"], "self", None,
                                                                           None, None, "zh") for r in one],
                                lambda: [AnswerRules(questionnaire).row("id", 1, 2, 3, r["answers"], "self", None,
                                                                        None, None, "zh") for r in one], rounds))
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
