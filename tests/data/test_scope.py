"""Area scope enforced by the data functions themselves, on SQLite and PostgreSQL.

The matrix: every write path × every scoped role (an analyst and an organiser, each limited to a
district and to a street) trying an area outside its scope.  The data functions are called the way
a careless page would call them (the file read without the scope, every area handed over), so
only the check below the page stands between a district office and its rival's figures; every
case asserts that nothing at all was written, and that the same call inside the scope works.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import openpyxl
import io
import pandas as pd
import pytest
from sqlalchemy import func, select

from data import accounts, paper
from data.areas import areas_frame, child_areas
from data.questionnaire_versions import save_questionnaire
from data.reads import completes, exclusion_summary, round_responses
from data.responses import SubmissionRefused, new_response_id, set_response_status, submit_response
from data.rounds import change_round_status, create_round, round_by_code, update_round_settings
from data.tallies import round_tally
from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city, synthetic_answers
from data.models import AuditEvent, Population, Response
from data.population import population_frame, read_population_file, save_population
from data.scope import CITY, OutOfScope, scope_of
from questionnaires import load_default
from reports.paper_template import paper_template
from tests.data.test_paper import fill, typed_row

QUESTIONNAIRE = load_default()
RATES = {"awareness": 0.9, "support": 0.95, "participation": 0.7, "satisfaction": 0.95}
ROUND = "S1"
PASSWORD = "scope test 123"

# (role, the area the account is limited to, a community inside it, communities outside it)
SCOPED = [
    ("analyst", "CD", "CD0101", ["CX0102", "GX0303"]),
    ("organiser", "CD", "CD0203", ["CX0102"]),
    ("analyst", "CD01", "CD0101", ["CD0201", "CX0102"]),  # the same district's other street too
    ("organiser", "CD01", "CD0102", ["CD0201", "BS0101"]),
]
IDS = [f"{role}-{area}" for role, area, _, _ in SCOPED]


@pytest.fixture
def city(engine):
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        build_city(session)
        create_round(session, ROUND, "范围轮", version, DEFAULT_TARGETS,
                          opens_at=datetime.now() - timedelta(days=5), closes_at=datetime.now() + timedelta(days=5))
    with read_session(engine) as session:
        areas = areas_frame(session)
    return engine, areas


def scoped_user(engine, role: str, area_code: str):
    """A real account limited to ``area_code``, and the scope the app derives from it."""
    with write_session(engine) as session:
        area_id = int(next(a.id for a in child_areas(session, None, "district")
                           + child_areas(session, None, "street") if a.code == area_code))
        user = accounts.create_user(session, None, f"{role}-{area_code}".lower(), PASSWORD, role, area_id=area_id)
        user_area = user.area_id
    with read_session(engine) as session:
        return scope_of(session, user_area)


def code_to_id(areas: pd.DataFrame) -> dict:
    return dict(zip(areas["code"], areas["id"].astype(int)))


def counts(engine) -> dict:
    with read_session(engine) as session:
        return {
            "responses": session.scalar(select(func.count()).select_from(Response)),
            "excluded": session.scalar(select(func.count()).select_from(Response).where(Response.status == "excluded")),
            "population": session.scalar(select(func.count()).select_from(Population)),
            "population_sum": session.scalar(select(func.coalesce(func.sum(Population.population), 0))),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
            "tally_version": round_by_code(session, ROUND).tally_version,
        }


def submit(engine, community_id, seed=1, scope=CITY, channel="self"):
    rng = np.random.default_rng(seed)
    with write_session(engine) as session:
        return submit_response(
            session, response_id=new_response_id(), survey_round=round_by_code(session, ROUND),
            questionnaire=QUESTIONNAIRE, community_id=community_id, channel=channel,
            answers=synthetic_answers(QUESTIONNAIRE, rng, RATES), interviewer="x", scope=scope)


# ------------------------------------------------------------------------------- write paths


@pytest.mark.parametrize("role, area, inside, outside", SCOPED, ids=IDS)
def test_paper_import_outside_the_scope_writes_nothing(city, role, area, inside, outside):
    engine, areas = city
    scope = scoped_user(engine, role, area)
    rng = np.random.default_rng(3)
    rows = [typed_row(synthetic_answers(QUESTIONNAIRE, rng, RATES), f"F{i}", code)
            for i, code in enumerate([inside, *outside])]
    data = fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), rows)
    careless = paper.read_paper_file(data, QUESTIONNAIRE, areas)  # a page that forgot the scope
    assert careless.valid_count == len(rows)
    before = counts(engine)
    with pytest.raises(OutOfScope) as refused:
        with write_session(engine) as session:
            paper.import_paper(session, round_by_code(session, ROUND), QUESTIONNAIRE, careless,
                               only_valid=False, actor="x", scope=scope)
    assert outside[0] in str(refused.value) and "nothing was written" in str(refused.value)
    assert counts(engine) == before

    # Given the scope, the reader names the rows, and the valid row alone imports.
    checked = paper.read_paper_file(data, QUESTIONNAIRE, areas, scope=scope)
    assert checked.valid_count == 1
    assert all("数据范围" in problem for problem in checked.errors["问题"])
    with write_session(engine) as session:
        added = paper.import_paper(session, round_by_code(session, ROUND), QUESTIONNAIRE, checked,
                                   only_valid=True, actor="x", scope=scope)
    assert added == 1 and counts(engine)["responses"] == 1


@pytest.mark.parametrize("role, area, inside, outside", SCOPED, ids=IDS)
def test_population_outside_the_scope_writes_nothing(city, role, area, inside, outside):
    engine, areas = city
    scope = scoped_user(engine, role, area)
    own_district, others = inside[:2], sorted({code[:2] for code in outside} - {inside[:2]}) or ["CX"]
    with write_session(engine) as session:  # another district's populations, there before
        save_population(session, "admin", read_population_file(
            "区域编码,年龄段,性别,人口\nCX,18_29,female,777\n".encode(), "p.csv", areas, QUESTIONNAIRE), scope=CITY)
    text = "区域编码,年龄段,性别,人口\n" + "".join(f"{d},18_29,female,{n}\n" for n, d in
                                                 enumerate([own_district, *others], start=100))
    imported = read_population_file(text.encode(), "p.csv", areas, QUESTIONNAIRE)
    assert imported.errors.empty
    before = counts(engine)
    with pytest.raises(OutOfScope):
        with write_session(engine) as session:
            save_population(session, role, imported, scope=scope)
    assert counts(engine) == before
    with read_session(engine) as session:
        assert population_frame(session, scope=CITY)["population"].tolist() == [777]

    own = read_population_file(f"区域编码,年龄段,性别,人口\n{own_district},18_29,female,5\n".encode(), "p.csv",
                               areas, QUESTIONNAIRE)
    if scope.level == "district":
        with write_session(engine) as session:
            assert save_population(session, role, own, scope=scope) == 1
    else:  # a street office cannot set its whole district's population either
        with pytest.raises(OutOfScope), write_session(engine) as session:
            save_population(session, role, own, scope=scope)
        assert counts(engine) == before


@pytest.mark.parametrize("role, area, inside, outside", SCOPED, ids=IDS)
def test_exclusion_outside_the_scope_changes_nothing(city, role, area, inside, outside):
    engine, areas = city
    ids = code_to_id(areas)
    scope = scoped_user(engine, role, area)
    own = submit(engine, ids[inside], seed=1).response_id
    theirs = [submit(engine, ids[code], seed=2 + k).response_id for k, code in enumerate(outside)]
    before = counts(engine)
    with read_session(engine) as session:
        tally_before = round_tally(session, round_by_code(session, ROUND).id)
    with pytest.raises(OutOfScope):
        with write_session(engine) as session:
            set_response_status(session, role, [own, *theirs], "excluded", "不可信", scope=scope)
    assert counts(engine) == before
    with read_session(engine) as session:
        pd.testing.assert_frame_equal(round_tally(session, round_by_code(session, ROUND).id), tally_before)
    with write_session(engine) as session:
        assert set_response_status(session, role, [own], "excluded", "不可信", scope=scope) == 1


@pytest.mark.parametrize("role, area, inside, outside", SCOPED, ids=IDS)
def test_interview_outside_the_scope_is_refused(city, role, area, inside, outside):
    engine, areas = city
    ids = code_to_id(areas)
    scope = scoped_user(engine, role, area)
    before = counts(engine)
    for code in outside:
        with pytest.raises(SubmissionRefused) as refused:
            submit(engine, ids[code], scope=scope, channel="interview")
        assert "outside your data scope" in str(refused.value) or "数据范围" in str(refused.value)
    assert counts(engine) == before
    assert submit(engine, ids[inside], scope=scope, channel="interview").stored


@pytest.mark.parametrize("role, area, inside, outside", SCOPED, ids=IDS)
def test_round_changes_need_the_whole_city(city, role, area, inside, outside):
    engine, _ = city
    scope = scoped_user(engine, role, area)
    with write_session(engine) as session:
        create_round(session, "D1", "草稿", round_by_code(session, ROUND).questionnaire, DEFAULT_TARGETS,
                          status="draft")
    before = counts(engine)
    attempts = [
        lambda s, r: create_round(s, "D2", "x", r.questionnaire, DEFAULT_TARGETS, status="draft", scope=scope),
        lambda s, r: update_round_settings(s, role, r, targets={**DEFAULT_TARGETS, "support": 0.5}, scope=scope),
        lambda s, r: change_round_status(s, role, r, "open", scope=scope),
    ]
    for attempt in attempts:
        with pytest.raises(OutOfScope), write_session(engine) as session:
            attempt(session, round_by_code(session, "D1"))
    assert counts(engine) == before
    with read_session(engine) as session:
        draft = round_by_code(session, "D1")
        assert (draft.status, draft.targets) == ("draft", DEFAULT_TARGETS)
        assert round_by_code(session, "D2") is None


# ------------------------------------------------------------------------------------- reads


@pytest.mark.parametrize("role, area, inside, outside", SCOPED, ids=IDS)
def test_reads_keep_to_the_scope(city, role, area, inside, outside):
    engine, areas = city
    ids = code_to_id(areas)
    scope = scoped_user(engine, role, area)
    mine = submit(engine, ids[inside], seed=1).response_id
    theirs = [submit(engine, ids[code], seed=5 + k).response_id for k, code in enumerate(outside)]
    with write_session(engine) as session:
        set_response_status(session, "admin", [mine, *theirs], "excluded", "![x](http://evil.example/p.png)",
                                 scope=CITY)
    with write_session(engine) as session:
        save_population(session, "admin", read_population_file(
            "区域编码,年龄段,性别,人口\nCD,18_29,female,5\nCX,18_29,female,7\n".encode(), "p.csv", areas,
            QUESTIONNAIRE), scope=CITY)
    with read_session(engine) as session:
        round_id = round_by_code(session, ROUND).id
        assert round_responses(session, round_id, scope=scope)["id"].tolist() == [mine]
        assert exclusion_summary(session, round_id, scope=scope)["responses"].tolist() == [1]
        assert exclusion_summary(session, round_id, scope=CITY)["responses"].tolist() == [1 + len(outside)]
    with write_session(engine) as session:
        set_response_status(session, "admin", [mine, *theirs], "included", scope=CITY)
    with read_session(engine) as session:
        assert completes(session, round_id, "community", scope=scope)["community_id"].tolist() == [ids[inside]]
        assert completes(session, round_id, "district", scope=CITY)["completes"].sum() == 1 + len(outside)
        population = population_frame(session, scope=scope)
    assert population["population"].tolist() == ([5] if scope.level == "district" else [])
    book = openpyxl.load_workbook(io.BytesIO(paper_template(QUESTIONNAIRE, areas, scope=scope)))
    listed = {str(cell.value).split(" ")[0] for row in book[paper.LISTS_SHEET].iter_rows() for cell in row if cell.value}
    assert inside in listed and not listed & set(outside)
