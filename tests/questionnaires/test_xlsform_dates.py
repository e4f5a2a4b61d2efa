"""Date, time and date-time questions in XLSForm: imported as ODK and Kobo write them (`date`, `time`,
`dateTime` and pyxform's aliases; bounds as `date('…')` constraints; conditions with `date('…')`),
exported so that pyxform converts them without a warning and ODK Validate accepts them, and imported
back identically. Conditional `required` and `today()` are refused by name."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pyxform.xls2xform import convert

from questionnaires import load_questionnaire
from questionnaires.xlsform import XLSFormError, import_xlsform, write_xlsform

from .test_xlsform_constructs import book

DATES = load_questionnaire(Path(__file__).with_name("dates.yaml"))


def binds(questionnaire) -> dict:
    warnings: list[str] = []
    xform = convert(xlsform=write_xlsform(questionnaire), warnings=warnings, file_type=".xlsx").xform
    assert warnings == []
    return {element.get("nodeset").rsplit("/", 1)[-1]: element
            for element in ElementTree.fromstring(xform).iter() if element.tag.endswith("bind")}


def test_pyxform_converts_the_date_questions_with_odk_types_bounds_and_conditions():
    bound = binds(DATES)
    assert [bound[code].get("type") for code in ("visit_day", "visit_time", "recent_event")] == ["date", "time", "dateTime"]
    assert bound["visit_day"].get("constraint") == ". >= date('2024-01-01') and . <= date('2026-12-31')"
    # A bare '2025-01-01' is no date to ODK Collect: the export writes date('…') / date-time('…').
    assert bound["recent_event"].get("relevant").endswith("( /data/visit_day  >= date('2025-01-01'))")
    assert "date-time('2025-01-01T00:00')" in bound["thanks_volunteer"].get("relevant")


def test_the_export_reimports_identically_without_warnings():
    again, warnings = import_xlsform(write_xlsform(DATES))
    assert again.to_dict() == DATES.to_dict() and again == DATES
    assert warnings == []


@pytest.mark.skipif(not shutil.which("java"), reason="ODK Validate needs Java")
def test_odk_validate_accepts_the_date_questions():
    assert convert(xlsform=write_xlsform(DATES), file_type=".xlsx", validate=True).xform


@pytest.mark.parametrize(("written", "ours"), [("date", "date"), ("time", "time"), ("dateTime", "datetime"),
                                               ("datetime", "datetime"), ("date time", "datetime")])
def test_every_odk_spelling_of_the_types_imports(written, ours):
    q, _ = import_xlsform(book([("type", "name", "label::中文"), (written, "when", "什么时候？")]))
    assert q.question("when").type == ours


@pytest.mark.parametrize(("constraint", "earliest", "latest"), [
    (". >= date('2024-01-01') and . <= date('2026-12-31')", "2024-01-01", "2026-12-31"),
    ('. >= date("2024-01-01")', "2024-01-01", None),
    (". > '2023-12-31'", "2024-01-01", None),
    (". < date('2027-01-01')", None, "2026-12-31"),
])
def test_date_bounds_import_from_constraints(constraint, earliest, latest):
    q, _ = import_xlsform(book([("type", "name", "label::中文", "constraint"), ("date", "d", "哪天？", constraint)]))
    assert (q.question("d").earliest, q.question("d").latest) == (earliest, latest)


def test_a_condition_with_odk_date_functions_imports_as_plain_iso_text():
    q, _ = import_xlsform(book([
        ("type", "name", "label::中文", "relevant"),
        ("date", "d", "哪天？", ""),
        ("dateTime", "dt", "什么时候？", "${d} >= date('2024-01-01')"),
        ("text", "why", "为什么？", "${dt} < date-time('2025-06-01T12:00:00')"),
    ]))
    assert q.question("dt").relevant == "${d} >= '2024-01-01'"
    assert q.question("why").relevant == "${dt} < '2025-06-01T12:00'"


@pytest.mark.parametrize(("column", "cell", "en"), [
    ("constraint", ". <= today()", "a constraint with today() or now() is not supported"),
    ("constraint", "format-date(., '%Y') = '2024'", "unsupported date constraint"),
    ("relevant", "${d0} > today()", "today() is not supported: a condition cannot use the current date or time"),
    ("required", "${d0} != ''", "conditional required (the condition \"${d0} != ''\" in the required column) is not supported"),
])
def test_today_and_conditional_required_are_refused_by_name_at_their_cell(column, cell, en):
    with pytest.raises(XLSFormError) as info:
        import_xlsform(book([("type", "name", "label::中文", column), ("date", "d0", "哪天？", ""),
                             ("date", "d", "哪天？", cell)]))
    assert len(info.value.errors) == 1
    message = info.value.errors[0]
    assert f"sheet survey, row 3, column {column}" in message and en in message


def test_a_month_year_date_imports_with_a_warning_that_the_whole_date_is_asked():
    q, warnings = import_xlsform(book([("type", "name", "label::中文", "appearance"),
                                       ("date", "d", "哪个月？", "month-year"), ("date", "e", "哪天？", "no-calendar")]))
    assert q.question("d").type == "date"
    assert [w for w in warnings if "appearance" in w] == [
        "survey 表第 2 行 appearance 列：外观 month-year 未采用：本系统的日期题总是问完整的日期（第 2 行） / sheet survey, "
        "row 2, column appearance: appearance month-year not used (row 2): the survey's date questions ask for the whole date"]
