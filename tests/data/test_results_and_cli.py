"""Results read from a database snapshot: scope, naive cross-check, and the command lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from data import accounts
from data.areas import areas_frame, child_areas
from data.db import make_engine, read_session, upgrade_database, write_session
from data.demo import load_demo
from data.models import Response
from data.questionnaire_versions import load_questionnaire_version
from reports.snapshot import load_snapshot
from data.rounds import round_by_code
from reports.results import results_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "survey.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    load_demo(engine, per_community=(10, 12))
    yield engine
    engine.dispose()


def naive_district_rates(engine, round_code: str) -> pd.DataFrame:
    """The slow way, straight from the stored answers: every response into pandas, then group."""
    with read_session(engine) as session:
        survey_round = round_by_code(session, round_code)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        rows = session.execute(
            select(Response.community_id, Response.scores).where(
                Response.round_id == survey_round.id, Response.eligible.is_(True), Response.status == "included")
        ).all()
        areas = areas_frame(session)
    indicator_of = {q.code: q.indicator for q in questionnaire.indicator_items()}
    long = pd.DataFrame(
        [(c, item, score) for c, scores in rows for item, score in scores.items() if score is not None],
        columns=["community_id", "item", "score"],
    )
    long["indicator"] = long["item"].map(indicator_of)
    long = long.merge(areas[["id", "district_id"]], left_on="community_id", right_on="id")
    grouped = long.groupby(["district_id", "indicator"])["score"].agg(["count", "sum"]).reset_index()
    return grouped.rename(columns={"district_id": "area_id", "count": "valid", "sum": "positive"})


def test_dashboard_numbers_equal_the_naive_computation(demo_engine):
    results = results_for(load_snapshot(demo_engine, "2026-R2"))
    ours = results.indicators[results.indicators["level"] == "district"][["area_id", "indicator", "valid", "positive"]]
    naive = naive_district_rates(demo_engine, "2026-R2")
    merged = ours.merge(naive, on=["area_id", "indicator"], suffixes=("", "_naive"))
    assert len(merged) == 5 * 4
    assert (merged["valid"] == merged["valid_naive"]).all()
    assert (merged["positive"] == merged["positive_naive"]).all()


def test_scope_keeps_a_district_to_itself(demo_engine):
    with read_session(demo_engine) as session:
        district = next(a for a in child_areas(session, None, "district") if a.code == "CX")
    everything = results_for(load_snapshot(demo_engine, "2026-R2")).indicators
    scoped_snapshot = load_snapshot(demo_engine, "2026-R2", district.id)
    scoped = results_for(scoped_snapshot).indicators
    assert set(scoped_snapshot.areas["district_id"]) == {district.id}
    assert set(scoped[scoped["level"] == "district"]["area_id"]) == {district.id}
    assert scoped[scoped["level"] == "street"]["area_name_zh"].str.startswith("城西区").all()
    # The scope's total is exactly the district's row of the unscoped results.
    total = scoped[scoped["level"] == "city"].set_index("indicator")[["valid", "positive"]]
    own = everything[(everything["level"] == "district") & (everything["area_id"] == district.id)]
    pd.testing.assert_frame_equal(total, own.set_index("indicator")[["valid", "positive"]])


def run_cli(module: str, *args: str, url: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    if password:
        env["SURVEY_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_a_district_office_gets_the_same_forecast_as_the_city_sees_for_it(demo_engine):
    from reports.results import forecast_for

    city = load_snapshot(demo_engine, "2026-R2")
    city_forecast, _ = forecast_for(city, results_for(city))
    district_id = int(city.areas.loc[city.areas["level"] == "district", "id"].iloc[0])
    office = load_snapshot(demo_engine, "2026-R2", district_id)
    office_forecast, office_gains = forecast_for(office, results_for(office))
    # No other district's share, and no "city" row (for the office that row is its own district).
    assert set(office.official_shares) == {district_id}
    assert set(office_forecast["level"]) == {"district"} and set(office_forecast["area_id"]) == {district_id}
    assert set(office_gains["area_id"]) <= {district_id}
    mine = city_forecast[city_forecast["area_id"] == district_id].reset_index(drop=True)
    # The same figures; only the label of the district's parent differs (the office's top row is its own
    # district, never 全市: issue 15 item 3).
    same = [c for c in mine.columns if not c.startswith("parent_label")]
    pd.testing.assert_frame_equal(office_forecast[same].reset_index(drop=True), mine[same])
    # Shares follow the respondents when the round has no quotas, and add up to the whole.
    assert sum(city.official_shares.values()) == pytest.approx(1.0)
    city_rows = city_forecast[city_forecast["level"] == "city"]
    assert (city_rows["official_n"] == city.official_sample_size).all()
    # With district quotas, the quotas set the shares; a district without one gets none.
    from data.results import official_shares

    districts = city.areas[city.areas["level"] == "district"]
    codes = districts["code"].tolist()
    shares = official_shares(city.areas, city.tally, {"districts": {codes[0]: 300, codes[1]: 100}})
    ids = districts["id"].tolist()
    assert shares[ids[0]] == 0.75 and shares[ids[1]] == 0.25 and shares[ids[2]] == 0.0


def test_command_line_builds_the_database_and_prints_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert run_cli("data", "upgrade", url=url).returncode == 0
    loaded = run_cli("data", "demo", url=url)
    assert loaded.returncode == 0 and "demo data loaded" in loaded.stdout
    assert "already" in run_cli("data", "demo", url=url).stdout
    rounds = run_cli("data", "rounds", url=url)
    assert "2026-R1" in rounds.stdout and "2026-R2" in rounds.stdout

    report = run_cli("analysis", "report", "--round", "2026-R2", "--level", "district", url=url)
    assert report.returncode == 0, report.stderr
    table = pd.read_csv(io.StringIO(report.stdout))
    assert len(table) == 5 * 4 and {"rate", "ci_low", "ci_high", "verdict"} <= set(table.columns)
    assert set(table["verdict"]) <= {"met", "not_met", "undecided"}
    # Every row names the round's rule; an exploration says it is one.
    assert set(table["mode"]) == {"official"} and set(table["verdict_rule"]) == {"Clopper–Pearson, one-sided 95%"}
    explored = run_cli("analysis", "report", "--round", "2026-R2", "--explore-method", "wilson",
                       "--explore-sided", "two", url=url)
    explored_table = pd.read_csv(io.StringIO(explored.stdout))
    assert set(explored_table["mode"]) == {"exploration"}
    assert set(explored_table["verdict_rule"]) == {"Wilson, two-sided 95%"}
    assert (explored_table["ci_low"] != table["ci_low"]).any()

    as_json = run_cli("analysis", "report", "--round", "2026-R2", "--items", "--format", "json",
                      "--level", "city", url=url)
    items = json.loads(as_json.stdout)
    assert items and all("item" in row for row in items)

    output = tmp_path / "report.csv"
    run_cli("analysis", "report", "--round", "2026-R2", "--output", str(output), url=url)
    assert output.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8 Chinese

    unknown = run_cli("analysis", "report", "--round", "no-such-round", url=url)
    assert unknown.returncode == 2 and "no-such-round" in unknown.stderr


def test_command_line_report_needs_a_login_and_keeps_to_the_scope(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = make_engine(url)
    upgrade_database(engine)
    load_demo(engine, per_community=(5, 5))
    with write_session(engine) as session:
        district = next(a for a in child_areas(session, None, "district") if a.code == "BS")
        accounts.create_user(session, None, "bs_office", "district pass 1", "analyst", area_id=district.id)
        accounts.create_user(session, None, "clerk", "interview pass 1", "interviewer")
    anonymous = run_cli("analysis", "report", "--round", "2026-R2", url=url)
    assert anonymous.returncode == 2 and "--user" in anonymous.stderr
    wrong = run_cli("analysis", "report", "--round", "2026-R2", "--user", "bs_office", url=url, password="nope")
    assert wrong.returncode == 3
    interviewer = run_cli("analysis", "report", "--round", "2026-R2", "--user", "clerk", url=url,
                          password="interview pass 1")
    assert interviewer.returncode == 3
    scoped = run_cli("analysis", "report", "--round", "2026-R2", "--level", "street", "--user", "bs_office",
                     url=url, password="district pass 1")
    assert scoped.returncode == 0, scoped.stderr
    table = pd.read_csv(io.StringIO(scoped.stdout))
    assert set(table["area_code"].str[:2]) == {"BS"}
    with read_session(engine) as session:
        exports = accounts.audit_events(session, action="export")
    assert list(exports["actor"]) == ["bs_office"]
    engine.dispose()
