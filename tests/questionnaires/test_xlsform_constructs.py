"""Notes, "please specify", at most N choices with exclusive options, and shuffled options in XLSForm:
imported from the way ODK and Kobo forms write them, exported in a form pyxform (and ODK Validate, where
Java is installed) converts without a warning, and imported back identically."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import io
import pytest
from pyxform.xls2xform import convert

from questionnaires import load_questionnaire
from questionnaires.xlsform import XLSFormError, import_xlsform, write_xlsform
from questionnaires.xlsform_corpus import CORPUS, workbook_bytes

CONSTRUCTS = load_questionnaire(Path(__file__).with_name("constructs.yaml"))
SETTINGS = [("form_id", "version", "form_title"), ("t", 1, "测试问卷")]
RISKS = [("list_name", "name", "label::中文")] + [("risks", code, label) for code, label in (
    ("pallor", "苍白"), ("swelling", "水肿"), ("bleeding", "出血"), ("none", "都没有"), ("others", "其他"))]


def book(survey, choices=RISKS, settings=SETTINGS) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def risks_with(constraint: str):
    return import_xlsform(book([("type", "name", "label::中文", "constraint"),
                                ("select_multiple risks", "risks", "有哪些症状？", constraint)]))


# ------------------------------------------------------------------------------------ export

def test_pyxform_converts_a_questionnaire_with_every_construct_without_warnings():
    warnings: list[str] = []
    xform = convert(xlsform=write_xlsform(CONSTRUCTS), warnings=warnings, file_type=".xlsx").xform
    assert warnings == []
    binds = {element.get("nodeset").rsplit("/", 1)[-1]: element
             for element in ElementTree.fromstring(xform).iter() if element.tag.endswith("bind")}
    assert binds["consent"].get("readonly") == "true()"  # a note: nothing to answer
    assert binds["channels"].get("constraint") == (
        "count-selected(.) <= 2 and not(selected(., 'none') and count-selected(.) > 1)")
    assert binds["channels_other"].get("relevant") == "selected( /data/channels , 'other')"
    assert binds["where_heard_other"].get("relevant") == "selected( /data/where_heard , 'elsewhere')"
    assert "randomize(instance('values_quiz')" in xform  # ODK Collect shuffles the quiz too


def test_the_export_reimports_identically_without_warnings():
    again, warnings = import_xlsform(write_xlsform(CONSTRUCTS))
    assert again.to_dict() == CONSTRUCTS.to_dict() and again == CONSTRUCTS
    assert warnings == []


def test_the_exported_rows_say_what_odk_needs():
    workbook = openpyxl.load_workbook(io.BytesIO(write_xlsform(CONSTRUCTS)))
    survey = workbook["survey"]
    header = [c.value for c in survey[1]]
    rows = {row[1]: dict(zip(header, row)) for row in survey.iter_rows(min_row=2, values_only=True)}
    assert rows["consent"]["type"] == "note" and rows["consent"]["required"] is None
    assert rows["channels"]["specify"] == "other"
    assert (rows["channels_other"]["type"], rows["channels_other"]["our_type"]) == ("text", "specify")
    assert rows["values_quiz"]["parameters"] == "randomize=true"


@pytest.mark.skipif(not shutil.which("java"), reason="ODK Validate needs Java")
def test_odk_validate_accepts_the_constructs():
    assert convert(xlsform=write_xlsform(CONSTRUCTS), file_type=".xlsx", validate=True).xform


# ------------------------------------------------------------------------------------ import

def test_note_rows_import_as_notes_with_both_languages():
    q, warnings = import_xlsform(book([
        ("type", "name", "label::中文", "label::English", "relevant", "required"),
        ("select_one yes_no", "agree", "同意吗？", "Agree?", None, "yes"),
        ("note", "thanks_note", "谢谢您的同意。", "Thank you for agreeing.", "${agree} = 'yes'", None),
    ], choices=[("list_name", "name", "label::中文", "label::English"), ("yes_no", "yes", "是", "Yes"),
                ("yes_no", "no", "否", "No")]))
    note = q.question("thanks_note")
    assert (note.type, note.required, note.label, note.relevant) == (
        "note", False, {"zh": "谢谢您的同意。", "en": "Thank you for agreeing."}, "${agree} = 'yes'")
    assert warnings == []


def test_a_note_that_shows_a_calculation_is_left_out_with_a_warning():
    path = CORPUS / "spec_calculation.md"
    q, warnings = import_xlsform(workbook_bytes(path), path.name)
    assert [x.code for x in q.questions] == ["amount"]
    assert any("notes not imported (row 4): they show a calculated value" in w for w in warnings)


@pytest.mark.parametrize("constraint", [
    "not(selected(., 'none') and count-selected(.) > 1)",
    "(selected(., 'none') and (count-selected(.) = 1)) or not(selected(., 'none'))",  # the ODK FAQ's form
    "not(selected(., 'none')) or count-selected(.) = 1",
])
def test_an_exclusive_option_imports_however_odk_writes_it(constraint):
    q, _ = risks_with(constraint)
    assert (q.question("risks").exclusive, q.question("risks").max_choices) == (frozenset({"none"}), None)


def test_the_odk_faq_form_with_an_exclusive_option_imports():
    path = CORPUS / "faq_count_selected_exclusive.md"
    q, _ = import_xlsform(workbook_bytes(path), path.name)
    assert q.question("risks_observed").exclusive == frozenset({"none"})


def test_at_most_n_choices_imports_and_combines_with_exclusive_options():
    q, _ = risks_with("count-selected(.) <= 2")
    assert q.question("risks").max_choices == 2 and not q.question("risks").exclusive
    q, _ = risks_with("count-selected(.) < 3 and not(selected(., 'none') and count-selected(.) > 1)")
    assert (q.question("risks").max_choices, q.question("risks").exclusive) == (2, frozenset({"none"}))
    q, _ = risks_with("count-selected(${risks}) <= 3")  # the question by its own name
    assert q.question("risks").max_choices == 3


@pytest.mark.parametrize("constraint", [
    "count-selected(.) >= 2",  # at least two: not "at most"
    "selected(., 'none')",  # must choose none
    "not(selected(., 'pallor') and selected(., 'swelling'))",  # a pair that excludes each other only
    "count-selected(${other}) <= 2",  # another question
    "regex(., 'x')",
])
def test_other_multiple_choice_constraints_are_refused_at_their_cell(constraint):
    with pytest.raises(XLSFormError) as info:
        risks_with(constraint)
    assert len(info.value.errors) == 1
    message = info.value.errors[0]
    assert "sheet survey, row 2, column constraint" in message and "count-selected(.) <= N" in message


def test_randomize_parameter_imports():
    q, warnings = import_xlsform(book([("type", "name", "label::中文", "parameters"),
                                       ("select_one risks", "a", "问题", "randomize=true seed=${x}"),
                                       ("select_one risks", "b", "问题", "randomize=false")]))
    assert (q.question("a").randomize, q.question("b").randomize) == (True, False)
    with pytest.raises(XLSFormError) as info:
        import_xlsform(book([("type", "name", "label::中文", "parameters"), ("select_one risks", "a", "问题", "randomize=maybe")]))
    assert "randomize must be true or false" in info.value.errors[0]


def test_a_specify_row_elsewhere_is_refused():
    with pytest.raises(XLSFormError) as info:
        import_xlsform(book([("type", "name", "label::中文", "our_type"), ("select_one risks", "a", "问题", None),
                             ("text", "a_other", "请注明", "specify")]))
    assert "our_type specify is only for the text question <name>_other" in info.value.errors[0]
