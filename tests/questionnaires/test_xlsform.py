"""XLSForm import/export. Every workbook is declared inline as a few rows (header first), in the
spirit of pyxform's markdown-table tests, and written with openpyxl by `xlsform()`; no binary fixtures."""
import io
import os

import openpyxl
import pytest

from questionnaires import (
    QuestionnaireError,
    bundled_questionnaire_paths,
    load_default,
    load_questionnaire,
    parse_questionnaire,
)
from questionnaires.xlsform import XLSFormError, import_xlsform, read_xlsform, write_xlsform, write_xlsform_file

SETTINGS = [
    ("form_id", "version", "form_title"),
    ("t", 1, "测试问卷"),
]
YES_NO = [
    ("list_name", "name", "label::中文", "label::English"),
    ("yes_no", "yes", "是", "Yes"),
    ("yes_no", "no", "否", "No"),
]


def xlsform(survey=None, choices=None, settings=SETTINGS, **other_sheets) -> bytes:
    """An .xlsx with the given sheets; each sheet is a list of rows, the first row being the header.
    A sheet given as None is left out."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in (("survey", survey), ("choices", choices), ("settings", settings), *other_sheets.items()):
        if rows is None:
            continue
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(survey, choices=None, settings=SETTINGS, **other_sheets):
    return read_xlsform(xlsform(survey, choices, settings, **other_sheets))


def errors_of(survey, choices=None, settings=SETTINGS, **other_sheets) -> list[str]:
    with pytest.raises(XLSFormError) as info:
        read(survey, choices, settings, **other_sheets)
    return info.value.errors


def one_error(survey, choices=None, settings=SETTINGS, *fragments, **other_sheets) -> str:
    found = errors_of(survey, choices, settings, **other_sheets)
    assert len(found) == 1, found
    for fragment in fragments:
        assert fragment in found[0], (fragment, found[0])
    return found[0]


def located(message: str, sheet: str, row: int | None, column: str | None) -> bool:
    """The message names the sheet, row and column in both languages."""
    zh = f"{sheet} 表" + (f"第 {row} 行" if row else "") + (f" {column} 列" if column else "") + "："
    en = f"sheet {sheet}" + (f", row {row}" if row else "") + (f", column {column}" if column else "") + ": "
    return zh in message and en in message and " / " in message


# ---------------------------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("path", bundled_questionnaire_paths(), ids=lambda p: p.name)
def test_bundled_questionnaires_round_trip_exactly(path):
    q = load_questionnaire(path)
    back = read_xlsform(write_xlsform(q))
    assert back.to_dict() == q.to_dict()
    assert back.content_hash() == q.content_hash()


def test_round_trip_covers_default_and_short_civic():
    names = {p.name for p in bundled_questionnaire_paths()}
    assert {"default.yaml", "short_civic.yaml"} <= names


def round_trip(data: dict):
    q = parse_questionnaire(data, "t")
    back = read_xlsform(write_xlsform(q))
    assert back.to_dict() == q.to_dict()
    return back


def test_round_trip_edge_cases():
    """Sections out of order and non-consecutive, an empty section, explicit empty positive/invalid,
    decimals, questions outside any section, a single_choice that screens."""
    round_trip({
        "code": "edge", "version": 3, "title": {"zh": "边界"},
        "sections": [
            {"code": "a", "title": {"zh": "甲"}},
            {"code": "b", "title": {"zh": "乙", "en": "B"}},
            {"code": "empty", "title": {"zh": "空"}},
        ],
        "questions": [
            {"code": "q1", "type": "yes_no", "section": "b", "label": {"zh": "一"}, "positive": []},
            {"code": "q2", "type": "satisfaction", "section": "a", "label": {"zh": "二"}, "invalid": []},
            {"code": "q3", "type": "number", "label": {"zh": "三"}, "min": -1.5, "max": 2.25},
            {"code": "q4", "type": "number", "section": "b", "label": {"zh": "四"}, "min": 0.0001, "integer": False},
            {"code": "q5", "type": "number", "section": "a", "label": {"zh": "五"}, "max": 10, "integer": True},
            {"code": "q6", "type": "text", "label": {"zh": "六", "en": "Six"}, "help": {"zh": "提示"}, "required": False},
            {"code": "q7", "type": "single_choice", "section": "a", "label": {"zh": "七"},
             "options": [{"code": "x", "label": {"zh": "X"}}, {"code": "y", "label": {"zh": "=Y"}}],
             "screening": {"eligible": ["x"]}, "indicator": "support", "positive": ["x"], "invalid": ["y"]},
            {"code": "q8", "type": "quiz", "label": {"zh": "八"}, "correct": ["b"], "positive": ["a", "b"],
             "options": [{"code": "a", "label": {"zh": "A"}}, {"code": "b", "label": {"zh": "B"}}]},
            {"code": "q9", "type": "multiple_choice", "label": {"zh": "九"}, "relevant": "selected(${q7}, 'x') or ${q3} > 1",
             "options": [{"code": "x", "label": {"zh": "X"}}, {"code": "y", "label": {"zh": "=Y"}}]},
        ],
    })


def test_round_trip_without_sections_but_with_section_fields():
    back = round_trip({
        "code": "loose", "version": 1, "title": {"zh": "无分区"},
        "questions": [{"code": "a", "type": "yes_no", "section": "part_one", "label": {"zh": "甲"}}],
    })
    assert back.sections == () and back.question("a").section == "part_one"


def test_written_workbook_layout(tmp_path):
    q = load_default()
    path = write_xlsform_file(q, tmp_path / "default.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["survey", "choices", "settings"]
    survey = workbook["survey"]
    header = [c.value for c in survey[1]]
    # Languages as "Name (code)", which pyxform asks for.
    for column in ("type", "name", "label::中文 (zh)", "label::English (en)", "hint::中文 (zh)", "required", "relevant",
                   "constraint", "our_type", "indicator", "positive", "invalid", "correct", "screening_eligible",
                   "demographic", "section"):
        assert column in header
    assert [c.value for c in workbook["choices"][1]] == ["list_name", "name", "label::中文 (zh)", "label::English (en)"]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.column_dimensions["A"].width >= 8
    rows = {row[1]: dict(zip(header, row)) for row in survey.iter_rows(min_row=2, values_only=True)}
    assert rows["years_in_city"]["type"] == "integer"
    assert rows["years_in_city"]["constraint"] == ". >= 0 and . <= 100"
    assert rows["years_in_city"]["required"] == "no"
    assert rows["suggestion"]["constraint"] == "string-length(.) <= 500"
    assert rows["resident"]["type"] == "select_one yes_no" and rows["resident"]["our_type"] == "yes_no"
    assert rows["resident"]["screening_eligible"] == "yes"
    assert rows["screening"]["type"] == "begin group"
    assert rows["support_campaign"]["positive"] == "support" and rows["support_campaign"]["invalid"] == "unsure"
    # defaults are not spelt out: satisfaction items count 满意/比较满意 and leave out 不了解 anyway
    assert rows["sat_traffic_order"]["positive"] is None and rows["sat_traffic_order"]["type"] == "select_one satisfaction"
    settings = workbook["settings"]
    settings_row = dict(zip([c.value for c in settings[1]], [c.value for c in settings[2]]))
    assert settings_row["form_id"] == q.code
    assert not any("::" in str(c.value) for c in settings[1])  # title::English made pyxform crash (issue 16)
    assert settings_row["our_title_en"] == q.title["en"]
    # Screening in terms ODK Collect obeys: a closing note, and every later question needs "resident = yes".
    assert rows["resident_screened_out"]["type"] == "note"
    assert rows["resident_screened_out"]["relevant"] == "not(${resident} = 'yes')"
    assert rows["years_in_city"]["relevant"] == "${resident} = 'yes' and (${resident} = 'yes')"
    assert rows["aware_campaign"]["relevant"].startswith("${resident} = 'yes'")
    # reading the file by path names it in messages
    assert read_xlsform(path).to_dict() == q.to_dict()


def test_read_accepts_path_bytes_and_file_object(tmp_path):
    data = write_xlsform(load_default())
    (tmp_path / "f.xlsx").write_bytes(data)
    expected = load_default().to_dict()
    assert read_xlsform(tmp_path / "f.xlsx").to_dict() == expected
    assert read_xlsform(str(tmp_path / "f.xlsx")).to_dict() == expected
    assert read_xlsform(io.BytesIO(data)).to_dict() == expected
    assert read_xlsform(bytearray(data)).to_dict() == expected


# ---------------------------------------------------------------------------------------------- ODK-style forms

def test_hand_written_odk_form_imports():
    survey = [
        ("type", "name", "label::English", "label::中文", "hint::中文", "required", "relevant", "constraint", "appearance", "constraint_message::English"),
        ("begin group", "about", "About you", "基本情况", None, None, None, None, "field-list", None),
        ("select_one yes_no", "resident", "Lived here 6 months?", "您在本市居住满半年了吗？", None, "yes", None, None, None, None),
        ("integer", "years", "Years in the city", "在本市生活了多少年？", "不满一年填 0", "yes", "${resident} = 'yes'", ". >= 0 and . <= 100", None, "0-100"),
        ("end group", None, None, None, None, None, None, None, None, None),
        ("select_multiple channels", "channels", "Channels", "了解渠道", None, None, "${resident} = 'yes' and ${years} >= 1", None, "minimal", None),
        ("text", "comment", "Comments", "意见", None, "no", "not(selected(${channels}, 'tv'))", "string-length(.) <= 200", None, None),
        ("decimal", "spend", "Spending", "花费", None, "false", None, ". >= 0.5", None, None),
    ]
    choices = YES_NO + [
        ("channels", "tv", "电视", "TV"),
        ("channels", "online", "网络", "Online"),
    ]
    settings = [
        ("form_title", "form_id", "version", "style"),
        ("我的问卷", "my_form", "2024010101", "pages"),
    ]
    q = read(survey, choices, settings)
    assert (q.code, q.version, q.title) == ("my_form", 2024010101, {"zh": "我的问卷"})
    assert [(s.code, s.title) for s in q.sections] == [("about", {"zh": "基本情况", "en": "About you"})]
    resident = q.question("resident")
    assert resident.type == "single_choice"  # without our_type a select_one is a plain single choice
    assert resident.option_codes == ("yes", "no") and resident.option_label("yes", "en") == "Yes"
    assert resident.required and resident.section == "about"
    assert resident.label == {"zh": "您在本市居住满半年了吗？", "en": "Lived here 6 months?"}
    years = q.question("years")
    assert (years.type, years.integer, years.min, years.max) == ("number", True, 0, 100)
    assert years.relevant == "${resident} = 'yes'" and years.help == {"zh": "不满一年填 0"}
    channels = q.question("channels")
    assert channels.type == "multiple_choice" and not channels.required and channels.section is None
    comment = q.question("comment")
    assert comment.max_length == 200 and comment.condition.evaluate({"channels": ["online"]})
    spend = q.question("spend")
    assert (spend.integer, spend.min, spend.max) == (False, 0.5, None)


def test_hint_without_chinese_is_reported_because_chinese_is_required():
    # our labels must have Chinese; an English-only hint is reported at the Chinese hint column
    message = one_error(
        [("type", "name", "label::中文", "hint::English"), ("text", "a", "问题", "help")], None, SETTINGS,
    )
    assert located(message, "survey", 2, "hint::中文 (zh)") and "必须填写" in message and "is required" in message


@pytest.mark.parametrize("zh_header", ["label::中文", "label::zh", "label::Chinese (zh)", "label::zh-CN", "label::ZH_cn", "Label::中文 (zh)", "label"])
@pytest.mark.parametrize("en_header", ["label::English", "label::en", "label::English (en)", "LABEL::english"])
def test_bilingual_column_variants(zh_header, en_header):
    q = read([("type", "name", zh_header, en_header), ("text", "a", "问题", "Question")])
    assert q.question("a").label == {"zh": "问题", "en": "Question"}


def test_plain_label_follows_default_language():
    settings = [("form_id", "version", "form_title", "title::中文", "default_language"), ("t", 1, "Survey", "问卷", "English (en)")]
    q = read([("type", "name", "label", "label::中文"), ("text", "a", "Question", "问题")], None, settings)
    assert q.question("a").label == {"zh": "问题", "en": "Question"}
    assert q.title == {"zh": "问卷", "en": "Survey"}


def test_extension_columns():
    survey = [
        ("type", "name", "label::中文", "our_type", "indicator", "positive", "invalid", "correct", "screening_eligible", "demographic", "section"),
        ("select_one yes_no", "resident", "居住", "yes_no", None, None, None, None, "yes", None, "intro"),
        ("select_one ages", "age", "年龄", None, None, None, None, None, "adult old", "age_group", "intro"),
        ("select_one yes_no", "aware", "知道吗", "yes_no", None, "-", None, None, None, None, None),
        ("select_one sat", "sat", "满意吗", "satisfaction", "satisfaction", None, None, None, None, None, None),
        ("select_one abc", "quiz", "测验", "quiz", "awareness", None, None, "b", None, None, None),
        ("select_one support", "support", "支持吗", None, "support", "yes", "unsure, dunno", None, None, None, None),
    ]
    choices = YES_NO + [
        ("ages", "minor", "未成年"), ("ages", "adult", "成年"), ("ages", "old", "老年"),
        ("abc", "a", "甲"), ("abc", "b", "乙"),
        ("support", "yes", "支持"), ("support", "no", "不支持"), ("support", "unsure", "说不清"), ("support", "dunno", "不知道"),
    ]
    choices += [("sat", option, label) for option, label in (
        ("very_satisfied", "满意"), ("satisfied", "比较满意"), ("neutral", "一般"), ("dissatisfied", "不太满意"),
        ("very_dissatisfied", "不满意"), ("unknown", "不了解"))]
    q = read(survey, choices)
    assert q.question("resident").type == "yes_no" and q.question("resident").screening_eligible == {"yes"}
    assert q.question("age").demographic == "age_group" and q.question("age").screening_eligible == {"adult", "old"}
    assert q.question("aware").positive == frozenset()  # "-" overrides the yes_no default
    assert q.question("sat").positive == {"very_satisfied", "satisfied"} and q.question("sat").invalid == {"unknown"}
    assert q.question("quiz").correct == {"b"} and q.question("quiz").positive == {"b"}
    assert q.question("support").invalid == {"unsure", "dunno"}
    assert q.question("resident").section == "intro" and q.sections == ()


def test_ignorable_columns_empty_unknown_columns_and_blank_rows():
    survey = [
        ("type", "name", "label::中文", "appearance", "$kuid", "required_message::English", "notes_to_self"),
        ("text", "a", "问题一", "multiline", "abc123", "Please answer", None),
        (None, None, None, None, None, None, None),
        ("text", "b", "问题二", None, None, None, None),
    ]
    q = read(survey)
    assert [x.code for x in q.questions] == ["a", "b"]


# ---------------------------------------------------------------------------------------------- unsupported → errors

def test_refused_construct_is_one_message_naming_its_rows():
    survey = [("type", "name", "label::中文")] + [("text", f"q{i}", "问题") for i in range(5)] + [("geopoint", "where", "位置"),
                                                                                              ("geotrace", "route", "路线")]
    message = one_error(survey)
    assert message == (
        "survey 表第 7 行 type 列：不支持位置题（geopoint、geotrace、geoshape）：市民问卷不采集位置（另见第 8 行） / "
        "sheet survey, row 7, column type: location types (geopoint, geotrace, geoshape) are not supported: "
        "the citizens' survey collects no location (also row 8)")


@pytest.mark.parametrize("type_, fragment", [
    ("begin repeat", "repeats ('begin repeat') are not supported"),
    ("image", "image, audio, video, file and barcode questions are not supported"),
    ("select_one_from_file places.csv", "select_one_from_file"),
    ("select_one", "must be followed by one choice list name"),
    ("rank", "rank"),
])
def test_unsupported_types_are_reported(type_, fragment):
    message = one_error([("type", "name", "label::中文"), ("text", "a", "问题"), (type_, "b", "不支持")], YES_NO)
    assert located(message, "survey", 3, "type") and fragment in message


def test_strict_bounds_on_whole_numbers_and_lengths():
    q = read([("type", "name", "label::中文", "constraint"), ("integer", "a", "年龄", ". > 17 and . < 121"),
              ("text", "b", "意见", "string-length(.) < 300")])
    assert (q.question("a").min, q.question("a").max, q.question("b").max_length) == (18, 120, 299)


@pytest.mark.parametrize("type_, constraint", [
    ("decimal", ". > 5"),
    ("integer", ". >= 1 or . <= 5"),
    ("integer", "regex(., '^[0-9]+$')"),
    ("integer", ". >= 1 and . >= 2"),
    ("integer", "string-length(.) <= 5"),
    ("text", "string-length(.) >= 5"),
    ("text", ". <= 5"),
    ("select_one yes_no", ". = 'yes'"),
])
def test_constraints_outside_the_subset_are_reported(type_, constraint):
    message = one_error([("type", "name", "label::中文", "constraint"), ("text", "a", "问题", None), (type_, "b", "问题", constraint)], YES_NO)
    assert located(message, "survey", 3, "constraint")


def warnings_of(survey, choices=None, settings=SETTINGS, **other_sheets) -> tuple:
    return import_xlsform(xlsform(survey, choices, settings, **other_sheets))


@pytest.mark.parametrize("type_, fragment", [
    ("start", "metadata fields start not imported (row 3)"),
    ("deviceid", "collects no device or user data"),
    ("calculate", "calculate rows not imported (row 3)"),
])
def test_metadata_and_calculations_are_left_out_with_a_warning(type_, fragment):
    q, warnings = warnings_of([("type", "name", "label::中文"), ("text", "a", "问题"), (type_, "b", "说明")], YES_NO)
    assert [x.code for x in q.questions] == ["a"]
    assert len(warnings) == 1 and fragment in warnings[0] and located(warnings[0], "survey", 3, "type")


def test_range_becomes_a_number_question_with_its_limits():
    q, warnings = warnings_of([("type", "name", "label::中文", "parameters"), ("range", "a", "几岁", "start=0 end=17 step=1"),
                               ("range", "b", "评分", None)])
    assert (q.question("a").type, q.question("a").integer, q.question("a").min, q.question("a").max) == ("number", True, 0, 17)
    assert (q.question("b").min, q.question("b").max) == (0, 10)
    assert len(warnings) == 2 and "from 0 to 17" in warnings[0]


def test_or_other_adds_the_other_option_and_collects_the_please_specify_text():
    q, warnings = warnings_of([("type", "name", "label::中文"), ("select_one yes_no or_other", "a", "问题")], YES_NO)
    assert q.question("a").option_codes == ("yes", "no", "other")
    assert q.question("a").option_label("other") == "其他"
    assert q.question("a").specify == "other"
    other = q.question("a_other")  # ODK's own name for the text
    assert (other.type, other.other_of, other.relevant) == ("text", "a", "selected(${a}, 'other')")
    assert warnings == []


def test_unknown_column_with_values_is_a_warning_at_its_header():
    q, warnings = warnings_of([("type", "name", "label::中文", "indicater"), ("select_one yes_no", "a", "问题", "awareness")], YES_NO)
    assert q.question("a").indicator is None
    assert len(warnings) == 1
    assert located(warnings[0], "survey", 1, "indicater") and "unknown column 'indicater' ignored (row 2" in warnings[0]


@pytest.mark.parametrize("column, value, reason", [
    ("default", "yes", "never pre-filled"),
    ("choice_filter", "x = 1", "every option is always shown"), ("read_only", "yes", "can be answered"),
    ("media::image", "a.png", "text only"), ("bind::oc:itemgroup", "g1", "ODK-specific")])
def test_standard_columns_we_cannot_honour_are_warnings_naming_their_rows(column, value, reason):
    q, warnings = warnings_of([("type", "name", "label::中文", column), ("text", "a", "问题", None), ("text", "b", "问题", value)])
    assert [x.code for x in q.questions] == ["a", "b"]
    assert len(warnings) == 1 and f"column {column!r} ignored (row 3)" in warnings[0] and reason in warnings[0]


def test_other_languages_are_ignored_with_a_warning_and_duplicate_language_columns_refused():
    q, warnings = warnings_of([("type", "name", "label::中文", "label::Français"), ("text", "a", "问题", "Question")])
    assert q.question("a").label == {"zh": "问题"}
    assert warnings == ["texts in these languages are ignored: Français".join(("已忽略这些语言的文字：Français（本系统显示市民语言和英文两种） / ", " (the survey shows the citizens' language and English)"))]
    found = errors_of([("type", "name", "label::中文", "label::zh"), ("text", "a", "问题", "问题")])
    assert len(found) == 1 and located(found[0], "survey", 1, "label::zh") and "duplicates column 'label::中文'" in found[0]


def test_select_with_missing_choice_list():
    message = one_error([("type", "name", "label::中文"), ("select_one colours", "a", "问题")], YES_NO)
    assert located(message, "survey", 2, "type") and "choice list 'colours' is not in the choices sheet" in message


def test_select_without_choices_sheet():
    message = one_error([("type", "name", "label::中文"), ("select_multiple colours", "a", "问题")], None)
    assert located(message, "survey", 2, "type") and "colours" in message and "no choices sheet" in message


def test_duplicated_names():
    found = errors_of(
        [("type", "name", "label::中文"), ("begin group", "g", "组"), ("text", "a", "问题"), ("end group", None, None),
         ("begin group", "g", "组"), ("text", "a", "问题"), ("end group", None, None), ("select_one yes_no", "b", "问题")],
        YES_NO + [("yes_no", "yes", "是的")],
    )
    assert len(found) == 3, found
    assert any(located(m, "survey", 5, "name") and "duplicate group name 'g' (same as row 2)" in m for m in found)
    assert any(located(m, "survey", 6, "name") and "duplicate name 'a' (same as row 3)" in m for m in found)
    assert any(located(m, "choices", 4, "name") and "option 'yes' appears twice in list 'yes_no'" in m for m in found)


def test_broken_relevant_expression():
    message = one_error(
        [("type", "name", "label::中文", "relevant"), ("select_one yes_no", "a", "问题", None),
         ("text", "b", "问题", "${a} = 'yes' and regex(${a}, 'x')")],
        YES_NO,
    )
    assert located(message, "survey", 3, "relevant") and "cannot parse the condition" in message and "regex" in message


def test_relevant_errors_found_by_the_loader_are_located():
    found = errors_of(
        [("type", "name", "label::中文", "relevant"), ("select_one yes_no", "a", "问题", "${b} = 'x'"),
         ("select_one yes_no", "b", "问题", "${a} = 'maybe'")],
        YES_NO,
    )
    assert len(found) == 2, found
    assert located(found[0], "survey", 2, "relevant") and "comes after this one" in found[0]
    assert located(found[1], "survey", 3, "relevant") and "has no option 'maybe'" in found[1]


def test_group_problems():
    found = errors_of([
        ("type", "name", "label::中文", "relevant"),
        ("begin group", "g", "组", None),
        ("text", "a", "问题", None),
        ("end group", None, None, None),
        ("end group", None, None, None),
        ("begin group", "k", "组", None),
        ("text", "b", "问题", None),
    ])
    assert len(found) == 2, found
    assert any(located(m, "survey", 5, "type") and "end group without a matching begin group" in m for m in found), found
    assert any(located(m, "survey", 6, "type") and "group 'k' has no end group" in m for m in found), found


def test_group_relevant_and_nested_groups_reach_every_question():
    q, warnings = warnings_of([
        ("type", "name", "label::中文", "relevant"),
        ("select_one yes_no", "x", "问题", None),
        ("begin group", "g", "组", "${x} = 'yes'"),
        ("text", "a", "问题", None),
        ("begin group", "h", "内组", None),
        ("text", "b", "问题", "string-length(${a}) > 0"),
        ("end group", None, None, None),
        ("text", "c", "问题", None),
        ("end group", None, None, None),
        ("text", "d", "问题", None),
    ], YES_NO)
    assert [s.code for s in q.sections] == ["g", "h"]
    assert [(x.code, x.section, x.relevant) for x in q.questions] == [
        ("x", None, None), ("a", "g", "${x} = 'yes'"), ("b", "h", "(${x} = 'yes') and (string-length(${a}) > 0)"),
        ("c", "g", "${x} = 'yes'"), ("d", None, None)]
    assert q.question("b").condition.evaluate({"x": "yes", "a": "好"}) and not q.question("b").condition.evaluate({"x": "no", "a": "好"})
    assert len(warnings) == 1 and "nested groups became sections of their own (row 5)" in warnings[0]


def test_section_column_contradicting_the_group():
    message = one_error([("type", "name", "label::中文", "section"), ("begin group", "g", "组", None),
                         ("text", "a", "问题", "other"), ("end group", None, None, None)])
    assert located(message, "survey", 3, "section")


def test_required_must_be_yes_or_no():
    message = one_error([("type", "name", "label::中文", "required"), ("text", "a", "问题", "${x} = 1")])
    assert located(message, "survey", 2, "required")


def test_none_marker_cannot_be_mixed_with_codes():
    message = one_error([("type", "name", "label::中文", "positive"), ("select_one yes_no", "a", "问题", "- yes")], YES_NO)
    assert located(message, "survey", 2, "positive")


def test_unsupported_sheet_is_reported():
    message = one_error([("type", "name", "label::中文"), ("text", "a", "问题")], None, SETTINGS,
                        external_choices=[("list_name", "name"), ("x", "y")])
    assert "external_choices" in message and "not supported" in message


# ---------------------------------------------------------------------------------------------- loader errors, located

def test_loader_errors_are_translated_to_cells():
    survey = [
        ("type", "name", "label::中文", "label::English", "indicator", "positive", "demographic", "our_type"),
        ("select_one yes_no", "a", "问题", "Q", "popularity", None, None, None),             # row 2: bad indicator
        ("select_one yes_no", "b", None, "Only English", None, None, None, None),            # row 3: no Chinese label
        ("select_one yes_no", "名字", "问题", None, None, None, None, None),                  # row 4: bad code
        ("text", "c", "问题", None, None, "yes", None, None),                                # row 5: text has no options
        ("select_one yes_no", "d", "问题", None, None, None, "sex", "quiz"),                   # row 6: quiz without correct, demographic on quiz
        ("select_one yes_no", "e", "问题", None, "awareness", "yes maybe", None, None),      # row 7: unknown option
        ("select_one bad", "f", "问题", None, None, None, None, None),                      # row 8: list with a bad code
    ]
    choices = YES_NO + [("bad", "大写", "大写")]                                          # choices row 4: bad option code
    settings = [("form_id", "version", "form_title"), ("表单", "2", "问卷")]
    found = errors_of(survey, choices, settings)
    expected = [
        ("survey", 2, "indicator", "invalid value 'popularity'"),
        ("survey", 3, "label::中文", "is required"),
        ("survey", 7, "positive", "option 'maybe' does not exist"),
        ("survey", 4, "name", "code '名字' is malformed"),
        ("survey", 5, "positive", "a text question has no options"),
        ("survey", 6, "correct", "is required for a quiz question"),
        ("survey", 6, "demographic", "only a single_choice question can be a demographic"),
        ("choices", 4, "name", "code '大写' is malformed"),
        ("settings", 2, "form_id", "code '表单' is malformed"),
    ]
    for sheet, row, column, fragment in expected:
        assert any(located(m, sheet, row, column) and fragment in m for m in found), (sheet, row, column, fragment, found)
    assert len(found) == len(expected), found


def test_missing_title_version_and_settings_sheet_take_defaults_with_warnings(tmp_path):
    q, warnings = warnings_of([("type", "name", "label::中文"), ("text", "a", "问题")], None, [("form_id", "version"), ("t", 1)])
    assert q.title == {"zh": "t"} and located(warnings[0], "settings", 2, None) and "no Chinese title" in warnings[0]
    path = tmp_path / "Kobo Form-2.xlsx"
    path.write_bytes(xlsform([("type", "name", "label::中文"), ("text", "a", "问题")], None, None))
    q, warnings = import_xlsform(path)
    assert (q.code, q.version, q.title) == ("kobo_form_2", 1, {"zh": "kobo_form_2"})
    assert len(warnings) == 3 and all("sheet settings" in w for w in warnings)
    q, warnings = warnings_of([("type", "name", "label::中文"), ("text", "a", "问题")], None,
                              [("form_id", "version", "form_title"), ("My-Form", "vHk3xB2", "问卷")])
    assert (q.code, q.version) == ("my_form", 1)
    assert any("form_id 'My-Form' became 'my_form'" in w for w in warnings)
    assert any(located(w, "settings", 2, "version") and "imported as version 1" in w for w in warnings)


def test_english_default_language_with_form_title_imports():
    """Issue 16 item 3: this reported "column form_title: is required"."""
    q, warnings = warnings_of([("type", "name", "label::中文", "label::English"), ("text", "a", "问题", "Question")], None,
                              [("form_id", "version", "form_title", "default_language"), ("t", 1, "Survey", "English")])
    assert q.title == {"zh": "Survey", "en": "Survey"}
    assert q.question("a").label == {"zh": "问题", "en": "Question"}


def test_all_problems_are_collected_before_raising():
    found = errors_of(
        [("type", "name", "label::中文", "constraint", "relevant"),
         ("geopoint", "a", "位置", None, None),
         ("decimal", "b", "数字", ". > 1", None),
         ("text", "c", "文字", None, "${b} >"),
         ("select_one nothing", "d", "选择", None, None)],
        YES_NO,
    )
    assert len(found) == 4, found
    assert [m.split("：")[0] for m in found] == [
        "survey 表第 2 行 type 列", "survey 表第 3 行 constraint 列", "survey 表第 4 行 relevant 列", "survey 表第 5 行 type 列",
    ]


def test_row_numbers_count_blank_rows_like_excel():
    message = one_error([("type", "name", "label::中文"), (None, None, None), ("text", "a", "问题"), (None, None, None), ("geopoint", "b", "x")])
    assert located(message, "survey", 5, "type")


# ---------------------------------------------------------------------------------------------- broken workbooks

def test_missing_survey_sheet():
    with pytest.raises(XLSFormError) as info:
        read_xlsform(xlsform(None, YES_NO, SETTINGS, Sheet1=[("type", "name"), ("text", "a")]))
    assert len(info.value.errors) == 1
    assert "survey" in info.value.errors[0] and "Sheet1" in info.value.errors[0]


def test_english_only_kobo_form_imports_with_its_names_normalised():
    survey = [("type", "name", "label", "hint", "relevant"),
              ("integer", "What_is_your_age", "What is your age?", "In years", None),
              ("select_one yn", "Q2", "Do you live here?", None, "${What_is_your_age} >= 18"),
              ("text", "Q3", "Why not?", None, "selected(${Q2}, 'No')")]
    choices = [("list_name", "name", "label"), ("yn", "Yes", "Yes"), ("yn", "No", "No")]
    q, warnings = warnings_of(survey, choices, [("form_title",), ("Kobo form",)])
    assert [x.code for x in q.questions] == ["what_is_your_age", "q2", "q3"]
    assert q.question("what_is_your_age").label == {"zh": "What is your age?", "en": "What is your age?"}
    assert q.question("q2").relevant == "${what_is_your_age} >= 18"
    assert q.question("q3").relevant == "selected(${q2}, 'no')" and q.question("q2").option_codes == ("yes", "no")
    assert any("What_is_your_age → what_is_your_age" in w and "Q2 → q2" in w for w in warnings)
    assert any("has no Chinese labels" in w for w in warnings)


def test_single_colon_language_columns_as_pyxform_reads_them():
    q = read([("type", "name", "label:中文", "label:English"), ("text", "a", "问题", "Question")])
    assert q.question("a").label == {"zh": "问题", "en": "Question"}


def test_citizens_language_can_be_chosen_among_several():
    survey = [("type", "name", "label::English (en)", "label::Español (es)"), ("text", "a", "Question", "Pregunta")]
    for language in ("es", "Español"):
        q, _ = import_xlsform(xlsform(survey, None, SETTINGS), language=language)
        assert q.question("a").label == {"zh": "Pregunta", "en": "Question"}
    q, warnings = import_xlsform(xlsform(survey, None, SETTINGS))
    assert q.question("a").label == {"zh": "Question", "en": "Question"}
    assert any("Español (es)" in w for w in warnings)


@pytest.mark.parametrize("content", [os.urandom(2000), b"", b"PK\x03\x04not really a zip", b"type,name\ntext,a\n",
                                     b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)])
def test_not_an_xlsx_file(content):
    with pytest.raises(XLSFormError) as info:
        read_xlsform(content, source_name="upload.xlsx")
    assert len(info.value.errors) == 1
    assert info.value.errors[0].startswith("upload.xlsx: ")
    assert ".xlsx" in info.value.errors[0]


def test_zip_that_is_not_a_workbook():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(XLSFormError) as info:
        read_xlsform(buffer.getvalue())
    assert "xlsx" in info.value.errors[0]


def test_missing_file(tmp_path):
    with pytest.raises(XLSFormError) as info:
        read_xlsform(tmp_path / "nope.xlsx")
    assert info.value.errors[0].startswith("nope.xlsx: ") and "cannot read the file" in info.value.errors[0]


def test_xlsform_error_is_a_questionnaire_error():
    assert issubclass(XLSFormError, QuestionnaireError) and issubclass(XLSFormError, ValueError)
    with pytest.raises(ValueError):
        read_xlsform(b"junk")


def test_messages_name_the_source_file(tmp_path):
    path = tmp_path / "district.xlsx"
    path.write_bytes(xlsform([("type", "name", "label::中文"), ("text", "a", "问题"), ("geopoint", "b", "位置")]))
    with pytest.raises(XLSFormError) as info:
        read_xlsform(path)
    assert info.value.errors[0].startswith("district.xlsx: survey 表第 3 行 type 列")


def test_a_missing_list_is_reported_once_not_with_its_consequences():
    message = one_error(
        [("type", "name", "label::中文", "indicator", "positive", "relevant"),
         ("select_one know", "a", "问题", "awareness", "yes", None),
         ("text", "b", "问题", None, None, "${a} = 'yes'")],
        YES_NO,
    )
    assert located(message, "survey", 2, "type") and "choice list 'know'" in message


def test_documented_example_imports():
    """The example tables in XLSFORM.md, read as markdown tables (as pyxform's tests write forms)."""
    from pathlib import Path

    import questionnaires

    doc = (Path(questionnaires.__file__).parent / "XLSFORM.md").read_text(encoding="utf-8")
    example = doc.split("## Example", 1)[1]
    sheets = {}
    for name in ("survey", "choices", "settings"):
        block = example.split(f"`{name}`:", 1)[1].strip().split("\n\n", 1)[0]
        rows = [line.strip().strip("|").split("|") for line in block.splitlines() if line.startswith("|")]
        rows = [tuple(cell.strip().strip("`") or None for cell in row) for row in rows if not set("".join(row)) <= set("-: ")]
        sheets[name] = rows
    q = read(sheets["survey"], sheets["choices"], sheets["settings"])
    assert [s.code for s in q.sections] == ["about_you", "campaign"]
    assert q.question("resident").screening_eligible == {"yes"} and q.question("resident").type == "yes_no"
    assert (q.question("years_in_city").min, q.question("years_in_city").max) == (0, 100)
    sat = q.question("sat_traffic_order")
    assert sat.type == "satisfaction" and sat.positive == {"very_satisfied", "satisfied"} and sat.invalid == {"unknown"}
    assert q.question("aware_campaign").option_label("no") == "不知道"
    assert q.question("suggestion").max_length == 300 and not q.question("suggestion").required
