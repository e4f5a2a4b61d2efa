"""Several app instances on one PostgreSQL database: every response is stored exactly once.

What this test proves, precisely:

* two real app processes (``streamlit run survey_app.py``) start on the same PostgreSQL database
  (DATABASE_URL, the same SURVEY_SECRET_KEY, migrations run once beforehand with
  ``python -m data upgrade``) and both report healthy on ``/_stcore/health``, before and after
  the submissions;
* two further Python processes, one per instance, each submit responses concurrently through the
  storage API that the survey page calls on submit (``data.submissions.submit``: concurrent
  submissions of one instance written as a group),
  with several threads each; a third of the response ids are sent to *both* processes at the same
  time (a resubmit that lands on the other instance behind the proxy);
* afterwards every response id is stored exactly once (count and the set of ids), the tally equals
  a recount from the stored responses, and each instance's storage reported "stored" for exactly
  the responses it stored first.

It does not drive the Streamlit pages over their websocket: the submissions run in processes
beside the app instances, with the same code and settings, not inside them.  The page → storage
step itself is covered by the AppTest and browser tests.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, select, text

from data.db import make_engine, read_session, upgrade_database
from data.demo import load_demo, synthetic_answers
from data.models import Area, Response
from data.reads import count_responses
from data.responses import new_response_id
from data.rounds import round_by_code
from data.tallies import recount_tally, round_tally
from questionnaires import load_default

ROOT = Path(__file__).resolve().parents[2]
ROUND = "2026-R2"

WORKER = r"""
import json, sys, threading, time
from data.db import make_engine, read_session
from data.reads import count_responses
from data.responses import new_response_id
from data.rounds import round_by_code
from data.submissions import submit
from data.tallies import recount_tally, round_tally
from questionnaires import load_default

plan = json.load(open(sys.argv[1]))
engine = make_engine()  # DATABASE_URL, as an app instance
with read_session(engine) as session:
    survey_round = round_by_code(session, plan["round"])
questionnaire = load_default()
results, errors = [], []
lock = threading.Lock()

def work(records):
    for record in records:
        for attempt in range(5):
            try:
                result = submit(
                    engine, response_id=record["id"], survey_round=survey_round, questionnaire=questionnaire,
                    community_id=record["community_id"], answers=record["answers"], channel="self")
                with lock:
                    results.append([record["id"], result.stored])
                break
            except Exception as error:  # a phone resubmits the same form id after an error
                if attempt == 4:
                    with lock:
                        errors.append(repr(error))
threads = [threading.Thread(target=work, args=(plan["records"][k::4],)) for k in range(4)]
while time.time() < plan["start_at"]:
    time.sleep(0.005)
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"results": results, "errors": errors}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except OSError:
        return False


def _wait_healthy(process: subprocess.Popen, port: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"app on port {port} exited: {process.stdout.read()[-2000:]}")
        if _healthy(port):
            return
        time.sleep(0.3)
    raise AssertionError(f"app on port {port} not healthy after {seconds} s")


@pytest.fixture
def shared_database(postgres_server_url):
    """An empty PostgreSQL database, migrated once by the operator command, with a small city."""
    engine = create_engine(postgres_server_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": postgres_server_url, "SURVEY_DEMO": "0",
           "SURVEY_SECRET_KEY": "the-same-secret-on-every-instance", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "data", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    engine = make_engine(postgres_server_url)
    upgrade_database(engine)  # already at head: a no-op, as on every app start
    assert load_demo(engine, per_community=(1, 1))
    yield engine, env
    engine.dispose()


def test_two_instances_on_one_postgresql_store_every_response_exactly_once(shared_database, tmp_path):
    engine, env = shared_database
    apps = []
    try:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "survey_app.py", "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            apps.append((process, port))
        for process, port in apps:
            _wait_healthy(process, port)

        with read_session(engine) as session:
            communities = list(session.scalars(select(Area.id).where(Area.level == "community")))
            survey_round = round_by_code(session, ROUND)
            before = count_responses(session, survey_round.id)
        questionnaire = load_default()
        rng = np.random.default_rng(3)
        rates = {"awareness": 0.9, "support": 0.9, "participation": 0.7, "satisfaction": 0.95}

        def record():
            return {"id": new_response_id(), "community_id": int(rng.choice(communities)),
                    "answers": synthetic_answers(questionnaire, rng, rates)}

        own = [[record() for _ in range(80)] for _ in apps]
        shared = [record() for _ in range(40)]  # sent to both instances at once
        start_at = time.time() + 3
        workers = []
        for k, (_, port) in enumerate(apps):
            plan = tmp_path / f"plan-{port}.json"
            records = own[k] + shared
            rng.shuffle(records)
            plan.write_text(json.dumps({"round": ROUND, "records": records, "start_at": start_at}))
            workers.append(subprocess.Popen([sys.executable, "-c", WORKER, str(plan)], cwd=ROOT, env=env,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = []
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=300)
            assert worker.returncode == 0, stderr[-3000:]
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))

        for output in outputs:
            assert output["errors"] == []
        expected = {r["id"] for group in own for r in group} | {r["id"] for r in shared}
        with read_session(engine) as session:
            stored = list(session.scalars(
                select(Response.id).where(Response.round_id == survey_round.id, Response.id.in_(list(expected)))))
            total = count_responses(session, survey_round.id, eligible_only=False)
            tally = round_tally(session, survey_round.id)
            recount = recount_tally(session, survey_round)
        assert len(stored) == len(set(stored)) == len(expected) == 200
        assert set(stored) == expected
        assert total == before + len(expected)
        # Each shared id was "stored" by exactly one instance; every own id by its own instance.
        stored_by = [{rid for rid, was_stored in output["results"] if was_stored} for output in outputs]
        assert not stored_by[0] & stored_by[1]
        assert stored_by[0] | stored_by[1] == expected
        key = ["community_id", "indicator", "item"]
        assert tally.sort_values(key).reset_index(drop=True).equals(
            recount.astype(tally.dtypes.to_dict()).sort_values(key).reset_index(drop=True)[tally.columns])

        for process, port in apps:
            assert process.poll() is None and _healthy(port)
    finally:
        for process, _ in apps:
            process.terminate()
        for process, _ in apps:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
