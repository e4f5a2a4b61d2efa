"""The scale benchmark of issue #3: one synthetic city, N responses, one table of figures.

    python -m bench.run                          # N = 1,000,000 on a fresh SQLite file
    python -m bench.run --n 200000 --only postgresql --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.run --n 20000 --writers 4 --submissions 200     # a quick look

Every comparison is made in the same run on the same rows, so the ratios hold on a noisy machine:

* bulk import through ``data.imports.bulk_import`` (20,000 responses per transaction), against a
  raw driver ``executemany`` of exactly the same response rows (same columns, JSON as text) into
  an empty copy of the response table, batch by batch, interleaved;
* ``--writers`` threads each submitting citizens' responses through ``data.submissions.submit`` (what
  the survey page calls; submissions arriving together share a transaction, commit included), and
  the same with ``data.responses.submit_response`` each in its own ``write_session``; one in ten
  re-sending a response another thread sent (a resubmit), then count, checksum of ids and
  tally == recount;
* the dashboard's numbers (``results_for(load_snapshot(...))``: every area at every level × four
  indicators × every item), warm in this process, cold in a new process (with its peak RSS), and
  the naive way: every eligible response's scores read into pandas, exploded and grouped;
* at the end the dashboard's numbers are compared with the naive ones at every level.

With a PostgreSQL URL (``--database-url`` or ``DATABASE_URL``) the same figures are measured on a
fresh database created on that server (``bench_<random>``, dropped afterwards unless ``--keep``).
The table goes to stdout and to ``bench/results/latest.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from analysis import add_indicator_rates, add_item_rates, verdicts
from analysis.rates import within_respondent_correlation
from bench.city import BENCH_ROUND, LIVE_ROUND, ONE_BY_ONE_ROUND, Generator, build_city, true_rates
from data.areas import areas_frame
from data.imports import bulk_import
from data.questionnaire_versions import load_questionnaire_version
from data.reads import count_responses
from data.responses import new_response_id, submit_response
from data.rounds import round_by_code
from data.tallies import recount_tally, round_tally
from questionnaires.answer_rules import AnswerRules
from data.db import json_text, make_engine, read_session, upgrade_database, write_session
from data.models import Response
from data.submissions import submit as submit_in_group
from reports.snapshot import round_rule, load_snapshot
from reports.results import results_for
from questionnaires import INDICATORS, load_default

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RAW_TABLE = "bench_raw_response"
RESPONSE_COLUMNS = [
    "id", "round_id", "questionnaire_id", "community_id", "channel", "interviewer", "started_at",
    "submitted_at", "eligible", "age_group", "sex", "status", "answers", "scores",
]

TARGETS = {
    "import_rate": 20_000,  # responses/s, at least
    "import_vs_raw": 5.0,  # raw rate / import rate, at most
    "submit_p95_ms": 25.0,
    "warm_ms": 100.0,
    "cold_s": 2.0,
    "naive_ratio": 50.0,
    "rss_mb": 1536.0,
}


# ------------------------------------------------------------------------------------- import


def _raw_rows(rules, survey_round, records, dialect: str) -> list[tuple]:
    """The rows bulk_import stores for these records, as plain driver values (JSON as text)."""
    rows = []
    for record in records:
        _, row = rules.row(
            record["id"], survey_round.id, survey_round.questionnaire_id, record["community_id"], record["answers"],
            "import", None, record["started_at"], record["submitted_at"],
        )
        row["answers"], row["scores"] = json_text(row["answers"]), json_text(row["scores"])
        if dialect == "sqlite":  # the text SQLAlchemy stores a DateTime as on SQLite
            for name in ("started_at", "submitted_at"):
                row[name] = row[name].strftime("%Y-%m-%d %H:%M:%S.%f")
            row["eligible"] = int(row["eligible"])
        row["exclusion_reason"] = None
        rows.append(tuple(row[name] for name in RESPONSE_COLUMNS))
    return rows


def _create_raw_table(engine) -> str:
    """An empty copy of the response table (same columns, keys and indexes); returns the INSERT."""
    columns = ", ".join(RESPONSE_COLUMNS)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        if engine.dialect.name == "sqlite":
            ddl = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'response' AND sql IS NOT NULL ORDER BY type DESC"
            ).scalars().all()
            for statement in ddl:  # the table first, then its indexes
                # A table rebuilt by a migration (batch mode) is written with its name quoted.
                statement = re.sub(r'^CREATE TABLE "?response"?', f"CREATE TABLE {RAW_TABLE}", statement)
                statement = re.sub(r' ON "?response"? ', f" ON {RAW_TABLE} ", statement).replace("INDEX ix_", "INDEX raw_ix_")
                connection.exec_driver_sql(statement)
            marks = ", ".join("?" for _ in RESPONSE_COLUMNS)
        else:
            connection.exec_driver_sql(f"CREATE TABLE {RAW_TABLE} (LIKE response INCLUDING ALL)")
            marks = ", ".join("%s::json" if c in ("answers", "scores") else "%s" for c in RESPONSE_COLUMNS)
    return f"INSERT INTO {RAW_TABLE} ({columns}) VALUES ({marks})"


def _raw_insert(engine, statement: str, rows: list[tuple]) -> float:
    """Seconds for the driver's executemany of the rows plus the commit, on the engine's own
    connection settings (same pragmas)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        start = time.perf_counter()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(statement, rows)
            cursor.execute("COMMIT")
        else:
            cursor.executemany(statement, rows)
            connection.commit()
        return time.perf_counter() - start
    finally:
        connection.close()


def _settle(engine) -> None:
    """Untimed, before each timed insert: fold the log of the insert before it into the database,
    so that neither insert pays for the other's (on SQLite the import otherwise ran with the raw
    baseline's 30 MB of log not yet checkpointed: 7,700 against 9,400 responses/s at 300,000)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            connection.exec_driver_sql("CHECKPOINT")


def load_responses(engine, generator: Generator, survey_round, n: int, batch: int, log=print) -> dict:
    """Import n responses in batches, each batch first by the raw driver into the copy table (the
    baseline), then through ``data.imports.bulk_import``; only the two inserts are timed."""
    questionnaire = generator.questionnaire
    rules = AnswerRules(questionnaire)
    raw_statement = _create_raw_table(engine)
    imported = raw_seconds = import_seconds = 0.0
    for k, records in enumerate(generator.batches(n, batch)):
        raw_rows = _raw_rows(rules, survey_round, records, engine.dialect.name)
        _settle(engine)
        raw_seconds += _raw_insert(engine, raw_statement, raw_rows)
        _settle(engine)
        start = time.perf_counter()
        with write_session(engine) as session:
            imported += bulk_import(session, survey_round, questionnaire, records)
        import_seconds += time.perf_counter() - start
        if (k + 1) % 10 == 0:
            log(f"  … {int(imported):,} imported, {imported / import_seconds:,.0f}/s")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {RAW_TABLE}")
    return {
        "imported": int(imported),
        "import_seconds": import_seconds,
        "import_rate": imported / import_seconds,
        "raw_seconds": raw_seconds,
        "raw_rate": n / raw_seconds,
        "import_vs_raw": (n / raw_seconds) / (imported / import_seconds),
    }


# ------------------------------------------------------------------------- concurrent writers


def concurrent_submissions(engine, generator: Generator, survey_round, writers: int, submissions: int,
                           resend_every: int = 10, grouped: bool = True, seed: int = 1_000_000) -> dict:
    """``writers`` threads submit ``submissions`` distinct responses between them, each in its own
    write_session; every ``resend_every``-th submission of a thread re-sends a response of another
    thread (a resubmit from another tab or instance).  Checks that each response is stored
    exactly once, by count, by a checksum of the ids and by the tally."""
    questionnaire = generator.questionnaire
    per_writer = max(1, submissions // writers)
    plans = [generator.batch(seed + w, per_writer) for w in range(writers)]
    for plan in plans:  # each form gets its id when it opens, as on the survey page
        for record in plan:
            record["id"] = new_response_id()
    expected_ids = sorted(record["id"] for plan in plans for record in plan)
    latencies: list[float] = []
    stored_count = [0]
    errors: list[str] = []
    retries = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(writers)

    def submit(record) -> None:
        for attempt in range(5):
            start = time.perf_counter()
            arguments = dict(
                response_id=record["id"], survey_round=survey_round, questionnaire=questionnaire,
                community_id=record["community_id"], answers=record["answers"], channel="self",
            )
            try:
                if grouped:  # what the survey page does
                    result = submit_in_group(engine, **arguments)
                else:
                    with write_session(engine) as session:
                        result = submit_response(session, **arguments)
            except Exception as error:  # a client would simply resubmit the same form id
                with lock:
                    retries[0] += 1
                    if attempt == 4:
                        errors.append(f"{type(error).__name__}: {error}"[:200])
                continue
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                stored_count[0] += result.stored
            return

    def work(w: int) -> None:
        barrier.wait()
        other = plans[(w + 1) % writers]
        for j, record in enumerate(plans[w]):
            submit(record)
            if resend_every and j % resend_every == resend_every - 1:
                submit(other[j])

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start

    with read_session(engine) as session:
        stored_ids = sorted(session.scalars(select(Response.id).where(Response.round_id == survey_round.id)))
        tally = round_tally(session, survey_round.id)
        recount = recount_tally(session, survey_round)
    key = ["community_id", "indicator", "item"]
    tally_ok = tally.sort_values(key).reset_index(drop=True).equals(
        recount.astype(tally.dtypes.to_dict()).sort_values(key).reset_index(drop=True)[tally.columns]
    )
    ms = np.array(latencies) * 1000
    return {
        "writers": writers,
        "attempts": len(latencies),
        "submit_p50_ms": float(np.percentile(ms, 50)),
        "submit_p95_ms": float(np.percentile(ms, 95)),
        "submit_p99_ms": float(np.percentile(ms, 99)),
        "submit_rate": len(latencies) / wall,
        "expected": len(expected_ids),
        "stored": len(stored_ids),
        "stored_reported": stored_count[0],
        "lost": len(set(expected_ids) - set(stored_ids)),
        "duplicated": len(stored_ids) - len(set(stored_ids)),
        "checksum_ok": _checksum(stored_ids) == _checksum(expected_ids),
        "tally_ok": bool(tally_ok),
        "retries": retries[0],
        "errors": errors,
    }


def machine_speed() -> float:
    """Seconds for a fixed piece of plain Python work (ten million loop steps): how fast this shared
    virtual machine runs at the moment.  Measured before and after each database's figures, so that
    a run on a slowed-down machine reads as one (docs/performance.md)."""
    start = time.perf_counter()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.perf_counter() - start


def _checksum(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


# -------------------------------------------------------------------------------- dashboard


def dashboard(engine, round_code: str):
    """The dashboard's whole numbers for a round, as the pages compute them."""
    return results_for(load_snapshot(engine, round_code))


def warm_dashboard(engine, round_code: str, repeat: int = 7) -> tuple[float, float, object]:
    """(warm, recompute, result): warm is a repeated refresh with no new responses (the snapshot
    cache answers after one version check); recompute empties that cache first, which is what a
    refresh costs right after responses arrived: every tally row re-read and every number redone."""
    from reports import snapshot as results_module

    result = dashboard(engine, round_code)  # warm-up
    warm, recompute = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        result = dashboard(engine, round_code)
        warm.append(time.perf_counter() - start)
        results_module._SNAPSHOTS.clear()
        start = time.perf_counter()
        result = dashboard(engine, round_code)
        recompute.append(time.perf_counter() - start)
    return statistics.median(warm), statistics.median(recompute), result


COLD_CHILD = """
import time
t0 = time.perf_counter()
import json, resource, sys
from data.db import make_engine
from reports.snapshot import load_snapshot
from reports.results import results_for
t1 = time.perf_counter()
results = results_for(load_snapshot(make_engine(sys.argv[1]), sys.argv[2]))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "compute_s": t2 - t1, "total_s": t2 - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "indicator_rows": len(results.indicators), "item_rows": len(results.items)}))
"""


def cold_dashboard(url: str, round_code: str, runs: int = 3) -> dict:
    """The dashboard computed once in a new Python process, ``runs`` times: the run with the median
    total time (measured inside the child from the first import to the result; one start of a
    process on a shared machine varies by a few tenths of a second), and the largest peak RSS."""
    measured = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", COLD_CHILD, url, round_code], cwd=ROOT, capture_output=True, text=True,
            check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        out = json.loads(done.stdout.strip().splitlines()[-1])
        out["process_s"] = time.perf_counter() - start
        measured.append(out)
    median = sorted(measured, key=lambda out: out["total_s"])[len(measured) // 2]
    return {**median, "rss_mb": max(out["rss_mb"] for out in measured), "runs": runs}


def naive_results(engine, round_code: str, method: str | None = None,
                  confidence: float | None = None) -> dict[str, pd.DataFrame]:
    """The naive way: read every eligible, included response's scores into pandas, explode them to
    one row per answer and group by area and indicator / item at every level.  Without ``method``
    and ``confidence``, the round's own verdict rule (as the dashboard)."""
    with read_session(engine) as session:
        survey_round = round_by_code(session, round_code)
        rule = round_rule(survey_round)
        method = method or rule.method
        confidence = confidence or rule.interval_confidence
        areas = areas_frame(session)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        rows = session.execute(
            select(Response.community_id, Response.scores).where(
                Response.round_id == survey_round.id, Response.status == "included", Response.eligible.is_(True)
            )
        ).all()
        targets = dict(survey_round.targets)
    frame = pd.DataFrame(rows, columns=["community_id", "scores"])
    del rows
    item_indicator = {q.code: q.indicator for q in questionnaire.indicator_items()}
    answers = pd.DataFrame(frame["scores"].tolist(), columns=list(item_indicator))  # NaN: no valid answer
    answers["response"] = np.arange(len(frame))
    answers["community_id"] = frame["community_id"].to_numpy()
    del frame
    long = answers.melt(id_vars=["response", "community_id"], var_name="item", value_name="score").dropna(subset=["score"])
    del answers
    long["indicator"] = long["item"].map(item_indicator)
    ancestors = areas.loc[areas["level"] == "community", ["id", "street_id", "district_id"]].rename(
        columns={"id": "community_id"})
    long = long.merge(ancestors, on="community_id")
    long["city_id"] = 0
    per_response = long.groupby(["response", "indicator"]).agg(
        x=("score", "size"), y=("score", "sum"), community_id=("community_id", "first"),
        street_id=("street_id", "first"), district_id=("district_id", "first"), city_id=("city_id", "first"),
    ).reset_index()
    per_response = per_response.assign(xx=per_response["x"] ** 2, yy=per_response["y"] ** 2,
                                       xy=per_response["x"] * per_response["y"])
    target = pd.Series(targets, dtype=float)
    out = {}

    def level_sums(column):
        return per_response.groupby([column, "indicator"]).agg(
            respondents=("x", "size"), valid=("x", "sum"), positive=("y", "sum"), valid_sq=("xx", "sum"),
            positive_sq=("yy", "sum"), valid_positive=("xy", "sum"),
        ).reset_index().rename(columns={column: "area_id"})

    # The within-respondent correlation is the round's, from residuals within communities (as the app).
    by_community = level_sums("community_id")
    rho = {name: within_respondent_correlation(*(part[c] for c in ("respondents", "valid", "positive", "valid_sq",
                                                                    "positive_sq", "valid_positive")))
           for name, part in by_community.groupby("indicator")}
    for level, column in (("city", "city_id"), ("district", "district_id"), ("street", "street_id"),
                          ("community", "community_id")):
        sums = level_sums(column)
        indicators = pd.concat([add_indicator_rates(part, method, confidence, rho=rho[name])
                                for name, part in sums.groupby("indicator")]).sort_index()
        indicators["target"] = indicators["indicator"].map(target)
        indicators["verdict"] = verdicts(indicators["ci_low"], indicators["ci_high"], indicators["target"])
        items = long.groupby([column, "indicator", "item"]).agg(valid=("score", "size"), positive=("score", "sum"))
        items = add_item_rates(items.reset_index().rename(columns={column: "area_id"}), method, confidence)
        items["target"] = items["indicator"].map(target)
        items["verdict"] = verdicts(items["ci_low"], items["ci_high"], items["target"])
        out[level] = (indicators, items)
    return out


def compare(results, naive: dict) -> dict:
    """Differences between the dashboard's numbers and the naive ones, level by level: rows present
    in one and not the other, counts that differ, rates or bounds that differ beyond 1e-9,
    verdicts that differ."""
    problems: dict[str, int] = {}
    checked = 0
    for level, (indicators, items) in naive.items():
        for name, mine, theirs, key, exact in (
            ("indicators", results.indicators, indicators, ["area_id", "indicator"],
             ["respondents", "valid", "positive"]),
            ("items", results.items, items, ["area_id", "indicator", "item"], ["valid", "positive"]),
        ):
            mine = mine[(mine["level"] == level) & (mine["valid"] > 0)]
            both = mine.merge(theirs, on=key, how="outer", suffixes=("", "_naive"), indicator=True)
            problems[f"{level} {name} missing"] = int((both["_merge"] != "both").sum())
            both = both[both["_merge"] == "both"]
            checked += len(both)
            for column in exact:
                problems[f"{level} {name} {column}"] = int((both[column] != both[f"{column}_naive"]).sum())
            for column in ("rate", "ci_low", "ci_high"):
                close = np.isclose(both[column].astype(float), both[f"{column}_naive"].astype(float), rtol=1e-9, atol=1e-12)
                problems[f"{level} {name} {column}"] = int((~close).sum())
            problems[f"{level} {name} verdict"] = int(
                (both["verdict"].astype(str).to_numpy() != both["verdict_naive"].astype(str).to_numpy()).sum())
    bad = {k: v for k, v in problems.items() if v}
    return {"rows_compared": checked, "differences": bad, "equal": not bad and checked > 0}


def district_rates(results, codes: dict[int, str]) -> list[dict]:
    """Per district: true rates (what the respondents were drawn with) and measured rates."""
    table = results.indicators[results.indicators["level"] == "district"]
    out = []
    for d, code in enumerate(sorted(codes.values())):
        rows = table[table["area_code"] == code].set_index("indicator")
        out.append({"district": code, "true": true_rates(d),
                    "measured": {i: float(rows.loc[i, "rate"]) for i in INDICATORS if i in rows.index},
                    "respondents": int(rows["respondents"].max())})
    return out


# ---------------------------------------------------------------------------------- a backend


def run_backend(url: str, n: int, *, batch: int = 20_000, writers: int = 16, submissions: int = 2000,
                seed: int = 2026, random_ids: bool = False, repeat: int = 7, log=print) -> dict:
    """Every figure on one database (an empty one at ``url``)."""
    speed_before = machine_speed()
    engine = make_engine(url)
    try:
        upgrade_database(engine)
        log(f"[{engine.dialect.name}] building the city (10 × 10 × 10)")
        community_ids, district_index, rounds = build_city(engine)
        questionnaire = load_default()
        generator = Generator(questionnaire, community_ids, district_index, seed=seed, random_ids=random_ids,
                              opens_at=rounds[BENCH_ROUND].opens_at)
        log(f"[{engine.dialect.name}] importing {n:,} responses ({batch:,} a transaction; raw baseline interleaved)")
        out = {"backend": engine.dialect.name, "n": n, "random_ids": random_ids}
        out.update(load_responses(engine, generator, rounds[BENCH_ROUND], n, batch, log))
        if engine.dialect.name == "postgresql":
            # What autovacuum does on a production server (the test server runs without it).
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
        log(f"[{engine.dialect.name}] {writers} concurrent writers, {submissions:,} submissions")
        alone = concurrent_submissions(engine, generator, rounds[ONE_BY_ONE_ROUND], writers, submissions,
                                       grouped=False, seed=2_000_000)
        out["alone"] = {key: alone[key] for key in ("submit_p50_ms", "submit_p95_ms", "submit_p99_ms", "submit_rate")}
        out.update(concurrent_submissions(engine, generator, rounds[LIVE_ROUND], writers, submissions))
        log(f"[{engine.dialect.name}] dashboard: warm, cold, naive")
        out["warm_s"], out["recompute_s"], results = warm_dashboard(engine, BENCH_ROUND, repeat)
        out["cold"] = cold_dashboard(url, BENCH_ROUND)
        start = time.perf_counter()
        naive = naive_results(engine, BENCH_ROUND)
        out["naive_s"] = time.perf_counter() - start
        # Against the full recompute, not the cached refresh: the conservative comparison.
        out["naive_ratio"] = out["naive_s"] / out["recompute_s"]
        out["comparison"] = compare(results, naive)
        out["indicator_rows"], out["item_rows"] = len(results.indicators), len(results.items)
        with read_session(engine) as session:
            out["eligible_stored"] = count_responses(session, rounds[BENCH_ROUND].id)
        codes = results.indicators.loc[results.indicators["level"] == "district", ["area_id", "area_code"]]
        out["districts"] = district_rates(results, dict(codes.drop_duplicates().itertuples(index=False)))
        out["machine_speed_s"] = (speed_before, machine_speed())
        return out
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------- table


def _mark(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def figure_rows(r: dict) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, passed) for one backend."""
    raw_name = "sqlite3 executemany" if r["backend"] == "sqlite" else "psycopg executemany"
    ids = "random (version 4)" if r.get("random_ids") else "time-ordered (version 7)"
    cold = r["cold"]
    cmp = r["comparison"]
    return [
        (f"bulk import throughput (bulk_import, 20k/transaction, {ids} ids)", f"{r['import_rate']:,.0f} responses/s",
         f"≥ {TARGETS['import_rate']:,}/s", r["import_rate"] >= TARGETS["import_rate"]),
        (f"raw {raw_name} of the same rows", f"{r['raw_rate']:,.0f} rows/s", "—", None),
        ("raw ÷ import", f"{r['import_vs_raw']:.1f}×", f"≤ {TARGETS['import_vs_raw']:.0f}×",
         r["import_vs_raw"] <= TARGETS["import_vs_raw"]),
        (f"one submission (data.submissions.submit), {r['writers']} concurrent writers: p50 / p95 / p99",
         f"{r['submit_p50_ms']:.1f} / {r['submit_p95_ms']:.1f} / {r['submit_p99_ms']:.1f} ms",
         f"p95 ≤ {TARGETS['submit_p95_ms']:.0f} ms", r["submit_p95_ms"] <= TARGETS["submit_p95_ms"]),
        ("the same, each submission in its own transaction (no grouping): p50 / p95 / p99, throughput",
         f"{r['alone']['submit_p50_ms']:.1f} / {r['alone']['submit_p95_ms']:.1f} / "
         f"{r['alone']['submit_p99_ms']:.1f} ms, {r['alone']['submit_rate']:,.0f}/s", "—", None),
        ("submissions: throughput, stored / expected, lost, duplicated",
         f"{r['submit_rate']:,.0f}/s, {r['stored']:,} / {r['expected']:,}, {r['lost']}, {r['duplicated']}",
         "none lost or duplicated", r["lost"] == 0 and r["duplicated"] == 0 and r["stored"] == r["expected"]),
        ("submissions: checksum of ids, tally == recount, errors", f"{'equal' if r['checksum_ok'] else 'DIFFERENT'}, "
         f"{'equal' if r['tally_ok'] else 'DIFFERENT'}, {len(r['errors'])} ({r['retries']} retried)",
         "equal, equal, 0", r["checksum_ok"] and r["tally_ok"] and not r["errors"]),
        ("dashboard warm (median refresh, in process, no new responses)", f"{r['warm_s'] * 1000:.1f} ms",
         f"≤ {TARGETS['warm_ms']:.0f} ms", r["warm_s"] * 1000 <= TARGETS["warm_ms"]),
        ("dashboard right after new responses (all tallies re-read, all numbers recomputed)",
         f"{r['recompute_s'] * 1000:.0f} ms", "—", None),
        (f"dashboard cold, new process (median of {cold.get('runs', 1)}): imports + compute (compute only)",
         f"{cold['total_s']:.2f} s ({cold['compute_s']:.2f} s)", f"≤ {TARGETS['cold_s']:.0f} s",
         cold["total_s"] <= TARGETS["cold_s"]),
        ("naive way (all responses into pandas, explode, group)", f"{r['naive_s']:.1f} s", "—", None),
        ("naive ÷ recompute", f"{r['naive_ratio']:,.0f}×", f"≥ {TARGETS['naive_ratio']:.0f}×",
         r["naive_ratio"] >= TARGETS["naive_ratio"]),
        ("peak RSS of the dashboard process (cold child)", f"{cold['rss_mb']:,.0f} MB",
         f"≤ {TARGETS['rss_mb']:,.0f} MB", cold["rss_mb"] <= TARGETS["rss_mb"]),
        ("dashboard == naive (all levels, indicators and items)",
         f"{'equal' if cmp['equal'] else 'DIFFERENT'} ({cmp['rows_compared']:,} rows)", "equal", cmp["equal"]),
    ]


def render(results: list[dict], command: str) -> str:
    lines = [
        f"Date: {date.today().isoformat()} · machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} · command: `{command}`",
        "",
    ]
    for r in results:
        lines += [
            f"**{r['backend']}**, N = {r['n']:,} responses ({r['imported']:,} imported, {r['eligible_stored']:,} "
            f"eligible; {r['indicator_rows']:,} indicator rows and {r['item_rows']:,} item rows on the dashboard)",
            "",
            "| figure | value | target | |",
            "|---|---|---|---|",
        ]
        for figure, value, target, ok in figure_rows(r):
            lines.append(f"| {figure} | {value} | {target} | {'' if ok is None else _mark(ok)} |")
        lines += ["", "| district | true rates (aware / support / particip. / satisf.) | dashboard rates | respondents |",
                  "|---|---|---|---|"]
        for d in r["districts"]:
            true = " / ".join(f"{d['true'][i]:.3f}" for i in INDICATORS)
            measured = " / ".join(f"{d['measured'].get(i, float('nan')):.3f}" for i in INDICATORS)
            lines.append(f"| {d['district']} | {true} | {measured} | {d['respondents']:,} |")
        if "machine_speed_s" in r:
            before, after = r["machine_speed_s"]
            lines += ["", f"Machine speed check (10,000,000 steps of a plain Python loop): {before:.2f} s before "
                          f"these figures, {after:.2f} s after (lower is faster; see docs/performance.md)"]
        if r["errors"]:
            lines += ["", "Submission errors: " + "; ".join(r["errors"][:5])]
        if r["comparison"]["differences"]:
            lines += ["", "Differences from the naive way: " + json.dumps(r["comparison"]["differences"])]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- main


def _fresh_postgres(server_url: str) -> tuple[str, callable]:
    """A new database on the server of ``server_url`` and a function that drops it."""
    url = make_url(server_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses to import (default 1,000,000)")
    parser.add_argument("--batch", type=int, default=20_000, help="responses per import transaction")
    parser.add_argument("--writers", type=int, default=16, help="concurrent writer threads")
    parser.add_argument("--submissions", type=int, default=2000, help="submissions by the writers in all")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="a PostgreSQL server to measure on as well (a fresh database is created on it)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="measure on one database kind only")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--random-ids", action="store_true",
                        help="import rows with random (version 4) ids, as paper forms' ids are, "
                             "instead of time-ordered ones as the survey page makes them")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--output", default=str(RESULTS / "latest.md"))
    args = parser.parse_args(argv)
    command = "python -m bench.run " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))

    postgres = args.database_url if args.database_url.startswith(("postgres://", "postgresql")) else ""
    backends = [b for b in ("sqlite", "postgresql") if (args.only in (None, b)) and (b == "sqlite" or postgres)]
    if not backends:
        parser.error("--only postgresql needs a PostgreSQL --database-url (or DATABASE_URL)")
    results = []
    for backend in backends:
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="survey-bench-"))
            url, cleanup = f"sqlite:///{folder / 'bench.sqlite3'}", (lambda f=folder: shutil.rmtree(f, True))
        else:
            url, cleanup = _fresh_postgres(postgres)
        try:
            results.append(run_backend(url, args.n, batch=args.batch, writers=args.writers,
                                       submissions=args.submissions, seed=args.seed,
                                       random_ids=args.random_ids))
        finally:
            if args.keep:
                print(f"kept: {make_url(url).render_as_string(hide_password=True)}")
            else:
                cleanup()
    table = render(results, command)
    print()
    print(table)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table, encoding="utf-8")
    (output.with_suffix(".json")).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print(f"written to {output}")
    passed = all(ok is not False for r in results for _, _, _, ok in figure_rows(r))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
