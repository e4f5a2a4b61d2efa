"""Population import for weighting, on both databases."""

from __future__ import annotations

import pandas as pd
import pytest

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
        assert save_population(session, "ana", imported) == 50
    with write_session(engine) as session:  # importing again replaces, never adds
        save_population(session, "ana", imported)
    with read_session(engine) as session:
        stored = population_frame(session)
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
        save_population(session, None, imported)
    with read_session(engine) as session:
        assert population_frame(session).empty


@pytest.mark.parametrize("data,name", [(b"\x00\x01garbage", "p.xlsx"), (b"a,b\n1,2\n", "p.csv"), (b"", "p.csv")])
def test_unreadable_files_get_one_clear_message(areas, data, name):
    with pytest.raises(PopulationFileError):
        read_population_file(data, name, areas, QUESTIONNAIRE)
