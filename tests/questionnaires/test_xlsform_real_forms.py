"""What the import honours, refuses or reports differently since the corpus of real forms grew
(tests/questionnaires/xlsform_corpus/, sources in SOURCES.md). Each test imports a corpus form as it is,
or its real rows with the one change the test is about (said where it is done)."""
from __future__ import annotations

import io
import json

import openpyxl
import pytest

from questionnaires.xlsform import XLSFormError, import_xlsform, write_xlsform
from questionnaires.xlsform_corpus import CORPUS, workbook_bytes


def corpus(name: str):
    """(questionnaire, warnings) of a corpus form, imported exactly as an uploaded file."""
    return import_xlsform(workbook_bytes(CORPUS / name), source_name=name)


def refusal(name: str) -> list[str]:
    with pytest.raises(XLSFormError) as info:
        corpus(name)
    return info.value.errors


def english(message: str) -> str:
    zh, separator, en = message.partition(" / ")
    assert separator and " / " not in en and zh, message  # one bilingual pair: Chinese, then English
    return en


def book(sheets: dict[str, list[list]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def kobo_rows(name: str) -> dict:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


def test_a_group_without_label_becomes_a_section_titled_by_its_name():
    # formpack's grouped_questions: "no label here on purpose. not all groups have labels"
    q, warnings = corpus("kobo_grouped_questions.json")
    assert [s.code for s in q.sections][-1] == "g2" and q.sections[-1].title["zh"] == "g2"
    assert q.question("g2q1").section == "g2"
    untitled = [w for w in warnings if "has no label" in w]
    assert len(untitled) == 1 and english(untitled[0]).startswith("sheet survey, row 10, column label:")
    # the same in the specification's own "Multiple webpage forms" example
    q, _ = corpus("spec_pages.md")
    assert [s.code for s in q.sections] == ["group1"] and [x.code for x in q.questions] == ["name", "age", "address"]


def test_a_plain_label_column_stands_in_when_the_citizens_language_has_none():
    # formpack's translations_labels_mismatch: `label` (no language) beside `hint::English (en)`
    q, warnings = corpus("kobo_translations_labels_mismatch.json")
    question = q.question("fav_emperor")
    assert question.label == {"zh": "Who is your favourite emperor?", "en": "Who is your favourite emperor?"}
    assert question.help["en"] == "Before the decline of the Roman Empire"
    assert any("the plain 'label' column is used instead" in english(w) for w in warnings), warnings


def test_pyxform_column_aliases_are_read_as_the_columns_they_stand_for():
    # formpack's site_inspection rows, with the headers written as pyxform's alias tables allow:
    # `relevance` for relevant, `caption` for label, and a settings sheet with `id_string` / `set_form_title`.
    rows = kobo_rows("kobo_site_inspection.json")
    survey = [["type", "name", "caption", "relevance", "required"]]
    survey += [[r["type"], r.get("name"), r.get("label"), r.get("relevant"), r.get("required")] for r in rows["survey"]]
    choices = [["list_name", "value", "caption"]] + [[c["list_name"], c["name"], c["label"]] for c in rows["choices"]]
    settings = [["id_string", "set_form_title", "version"], ["site_inspection", "Site inspection", 3]]
    q, warnings = import_xlsform(book({"survey": survey, "choices": choices, "settings": settings}))
    assert (q.code, q.version, q.title["zh"]) == ("site_inspection", 3, "Site inspection")
    assert q.question("inspector").label["zh"] == "inspector"
    assert q.question("ping").relevant == "${did_you_find_the_site} = 'yes'"
    assert [o.code for o in q.question("please_rate_the_impact_of_any_defects_observed").options] == [
        "low", "moderate", "severe"]
    assert not any("unknown column" in w for w in warnings), warnings


def test_acknowledge_becomes_a_single_choice_question_with_the_one_option_ok():
    # formpack's long_unicode_labels: its consent question `approval` written as ODK's acknowledge
    rows = kobo_rows("kobo_long_unicode_labels.json")
    approval = next(r for r in rows["survey"] if r.get("name") == "approval")
    survey = [["type", "name", "label::English (en)", "label::Français (fr)", "required"],
              ["acknowledge", "approval", approval["label"][1], approval["label"][2], "yes"],
              ["integer", "What_is_your_age", "What is your age?", "Quel âge avez-vous?", None]]
    q, warnings = import_xlsform(book({"survey": survey}), source_name="consent.xlsx")
    question = q.question("approval")
    assert question.type == "single_choice" and question.required
    assert [(o.code, o.label["en"]) for o in question.options] == [("ok", "OK")]
    assert any(english(w).startswith("sheet survey, row 2, column type: acknowledge became") for w in warnings)
    again, again_warnings = import_xlsform(write_xlsform(q))
    assert again.to_dict() == q.to_dict() and again_warnings == []


def test_the_legacy_trigger_type_is_acknowledge_too():
    survey = [["type", "name", "label::中文", "label::English"], ["trigger", "agree", "我同意参加", "I agree"]]
    q, _ = import_xlsform(book({"survey": survey}), source_name="t.xlsx")
    assert [(o.code, o.label["zh"]) for o in q.question("agree").options] == [("ok", "确认")]


@pytest.mark.parametrize("name, row, column, construct", [
    ("kobo_select_one_from_previous_answers.json", 7, "type", "choices from earlier answers (select_one ${...})"),
    ("pyxform_include.md", 3, "type", "include (questions from another file)"),
    ("spec_dynamic_select_search.md", 2, "appearance", "choices from a pre-loaded CSV file (search())"),
    ("spec_xml_external.md", 2, "type", "external data (xml-external, csv-external)"),
])
def test_constructs_refused_by_name(name, row, column, construct):
    messages = [english(m) for m in refusal(name)]
    assert any(m.startswith(f"sheet survey, row {row}, column {column}: {construct} ") for m in messages), messages


def test_a_label_showing_a_left_out_calculate_field_says_so():
    # the XLSForm FAQ's indexed repeat: "Name of household member #${name_number}?", name_number a calculate
    messages = [english(m) for m in refusal("faq_indexed_repeat.md")]
    assert "sheet survey, row 5, column label: shows the value of calculate field 'name_number', which is not " \
           "imported (calculate rows are left out)" in messages
    assert not any("unknown question" in m for m in messages), messages


def test_the_hxl_column_is_named_for_what_it_is():
    _, warnings = corpus("kobo_dietary_needs.json")
    hxl = [english(w) for w in warnings if "hxl" in w]
    assert hxl == ["sheet survey, row 1, column hxl: column 'hxl' ignored (rows 2, 3): Kobo's HXL data tags are not kept"]


def test_a_plain_column_without_chinese_never_stands_in_for_chinese():
    # the specification's hint example (spec_hints.md) with its label in Chinese: the plain English hint
    # is not shown to Chinese-speaking citizens; it is left out with the other-languages warning
    survey = [["type", "name", "label::中文", "hint"],
              ["text", "name", "这家商店叫什么名字？", "Look on the signboard if the store has a signboard."]]
    q, warnings = import_xlsform(book({"survey": survey}), source_name="hints.xlsx")
    assert q.question("name").help is None or "zh" not in q.question("name").help
    assert any("texts in these languages are ignored: hint" in english(w) for w in warnings), warnings
    assert not any("is used instead" in w for w in warnings)


def test_hidden_rows_are_left_out_under_their_own_name():
    # the specification's calculation example (spec_calculation.md) with Kobo's `hidden` type beside it
    survey = [["type", "name", "label", "calculation"],
              ["decimal", "amount", "What was the price of the meal?", None],
              ["calculate", "tip", None, "${amount} * 0.18"],
              ["hidden", "currency", None, None]]
    q, warnings = import_xlsform(book({"survey": survey}), source_name="meal.xlsx")
    assert [x.code for x in q.questions] == ["amount"]
    left_out = [english(w) for w in warnings if "rows not imported" in w]
    assert left_out == ["sheet survey, row 3, column type: calculate/hidden rows not imported (rows 3, 4): derived "
                        "values are not stored; scores come from the answers through the indicator and positive columns"]


def test_a_note_with_only_a_picture_is_left_out_with_a_warning_not_refused():
    # formpack's translated_media: a note whose only content is an image per language.
    questionnaire, warnings = corpus("kobo_translated_media.json")
    assert [q.code for q in questionnaire.questions] == ["fav_emperor"]
    note = [english(w) for w in warnings if "notes not imported" in w]
    assert note and "row 3" in note[0] and "no text" in note[0]
