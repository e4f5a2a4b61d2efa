"""Population import for weighting, on both databases."""

from __future__ import annotations

import pandas as pd
import pytest

from data.scope import CITY
from data import accounts
from data.areas import areas_frame
from data.db import read_session, write_session
from data.demo import build_city
from data.population import (PopulationFileError, population_frame, population_template, read_population_file,
                             save_population)
from questionnaires import load_default

QUESTIONNAIRE = load_default()


@pytest.fixture
def areas(engine):
    with write_session(engine) as session:
        build_city(session)
    with read_session(engine) as session:
        return areas_frame(session)


def test_template_lists_every_district_cell_and_imports_back(engine, areas):
    template = pd.read_csv(__import__("io").BytesIO(population_template(areas, QUESTIONNAIRE)), dtype=str,
                           encoding="utf-8-sig")
    assert list(template.columns) == ["区域编码", "年龄段", "性别", "人口"]
    assert len(template) == 5 * 5 * 2  # districts × adult age groups × sexes
    template["人口"] = "1000"
    imported = read_population_file(template.to_csv(index=False).encode("utf-8-sig"), "p.csv", areas, QUESTIONNAIRE)
    assert imported.errors.empty and len(imported.rows) == 50
    with write_session(engine) as session:
        assert save_population(session, "ana", imported, scope=CITY) == 50
    with write_session(engine) as session:  # importing again replaces, never adds
        save_population(session, "ana", imported, scope=CITY)
    with read_session(engine) as session:
        stored = population_frame(session, scope=CITY)
        assert len(stored) == 50 and stored["population"].sum() == 50_000
        assert list(accounts.audit_events(session, action="import.population")["actor"]) == ["ana", "ana"]


def test_labels_are_accepted_and_bad_rows_are_named(engine, areas):
    csv = ("区域编码,年龄段,性别,人口\n"
           "CD,18-29岁,女,1200\n"
           "XX,18_29,female,10\n"
           "CD,18_29,female,-5\n"
           "CD,18_29,female,1200\n")
    imported = read_population_file(csv.encode("utf-8"), "p.csv", areas, QUESTIONNAIRE)
    assert imported.errors["行号"].tolist() == [3, 4, 5]
    assert "XX" in imported.errors["问题"].iloc[0]
    assert "非负整数" in imported.errors["问题"].iloc[1]
    assert "两次" in imported.errors["问题"].iloc[2]
    with pytest.raises(PopulationFileError), write_session(engine) as session:
        save_population(session, None, imported, scope=CITY)
    with read_session(engine) as session:
        assert population_frame(session, scope=CITY).empty


@pytest.mark.parametrize("data,name", [(b"\x00\x01garbage", "p.xlsx"), (b"a,b\n1,2\n", "p.csv"), (b"", "p.csv")])
def test_unreadable_files_get_one_clear_message(areas, data, name):
    with pytest.raises(PopulationFileError):
        read_population_file(data, name, areas, QUESTIONNAIRE)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e30", "9.3e18", "1" * 400, "2000000000"])
def test_absurd_populations_are_refused_by_row_and_nothing_is_stored(engine, areas, value):
    csv = f"区域编码,年龄段,性别,人口\nCD,18_29,female,1200\nCX,18_29,female,{value}\n"
    imported = read_population_file(csv.encode(), "p.csv", areas, QUESTIONNAIRE)
    assert imported.errors["行号"].tolist() == [3] and "非负整数" in imported.errors["问题"].iloc[0]
    with pytest.raises(PopulationFileError), write_session(engine) as session:
        save_population(session, None, imported, scope=CITY)
    with read_session(engine) as session:
        assert population_frame(session, scope=CITY).empty


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_from_chinese_excel_is_read_in_gbk_too(engine, areas, encoding):
    csv = "区域编码,年龄段,性别,人口\n城东区,18-29岁,女,1200\nCD,18_29,男,1100\n"
    csv = csv.replace("城东区", "CD")
    imported = read_population_file(csv.encode(encoding), "p.csv", areas, QUESTIONNAIRE)
    assert imported.errors.empty and imported.rows["population"].tolist() == [1200, 1100]
    assert imported.rows["sex"].tolist() == ["female", "male"]
