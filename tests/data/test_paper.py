"""Paper questionnaires: the Excel template, reading a filled file and importing it, on SQLite and
PostgreSQL.  Files are filled with openpyxl the way a person would type them: option labels, not codes."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from data.scope import CITY
from data import accounts, paper
from data.areas import areas_frame
from data.questionnaire_versions import save_questionnaire
from data.reads import round_responses
from data.rounds import change_round_status, create_round, round_by_code
from data.tallies import round_tally
from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city, synthetic_answers
from data.models import Response
from questionnaires import clean_answers, load_default
from reports.paper_template import paper_template, rejected_rows_xlsx

QUESTIONNAIRE = load_default()
RATES = {"awareness": 0.9, "support": 0.95, "participation": 0.7, "satisfaction": 0.95}
ROUND = "P1"


@pytest.fixture
def city(engine):
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        build_city(session)
        create_round(session, ROUND, "纸质轮", version, DEFAULT_TARGETS,
                          opens_at=datetime.now() - timedelta(days=5), closes_at=datetime.now() + timedelta(days=5))
    with read_session(engine) as session:
        areas = areas_frame(session)
    return engine, areas


def communities(areas):
    return areas[areas["level"] == "community"]["code"].tolist()


def header(number_or_code, lang="zh"):
    """The template header of a question (by code) or a fixed column (by key)."""
    if number_or_code in paper.FIXED_COLUMNS:
        return paper.FIXED_COLUMNS[number_or_code][1 if lang == "en" else 0]
    numbers = {q.code: n for n, q in enumerate(QUESTIONNAIRE.questions, start=1)}
    question = QUESTIONNAIRE.question(number_or_code)
    return f"{numbers[question.code]}. {' '.join(question.text(lang).split())}"


def typed_row(answers, form, community, lang="zh", when=None, separator=";"):
    """What a typist enters for one paper form: labels in the user's language, skipped questions empty."""
    row = {header("form", lang): form, header("community", lang): community,
           header("interviewer", lang): "DX-01", header("date", lang): when or datetime.combine(date.today(), datetime.min.time())}
    for code, value in clean_answers(QUESTIONNAIRE, answers).items():
        question = QUESTIONNAIRE.question(code)
        if isinstance(value, list):
            value = separator.join(question.option_label(v, lang) for v in value)
        elif question.options:
            value = question.option_label(value, lang)
        row[header(code, lang)] = value
    return row


def fill(template: bytes, rows: list[dict], sheet=None) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book[sheet] if sheet else book.worksheets[0]
    position = {cell.value: cell.column for cell in sheet[1]}
    for r, row in enumerate(rows, start=2):
        for name, value in row.items():
            sheet.cell(row=r, column=position[name], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sample_rows(areas, n, seed=7, lang="zh", start=1):
    rng = np.random.default_rng(seed)
    codes = communities(areas)
    return [typed_row(synthetic_answers(QUESTIONNAIRE, rng, RATES), f"P{start + i:04d}", codes[i % len(codes)], lang)
            for i in range(n)]


def stored(engine):
    with read_session(engine) as session:
        survey_round = round_by_code(session, ROUND)
        count = session.scalar(select(func.count()).select_from(Response).where(Response.round_id == survey_round.id))
        tally = round_tally(session, survey_round.id)
    return count, tally


def do_import(engine, checked, only_valid=False, actor="clerk"):
    with write_session(engine) as session:
        return paper.import_paper(session, round_by_code(session, ROUND), QUESTIONNAIRE, checked,
                                  only_valid=only_valid, actor=actor, scope=CITY)


# ------------------------------------------------------------------------------------ template


def test_template_has_headers_lists_validations_and_instructions(city):
    _, areas = city
    book = openpyxl.load_workbook(io.BytesIO(paper_template(QUESTIONNAIRE, areas, scope=CITY)))
    assert book.sheetnames == ["问卷录入", "填写说明", "选项"]
    assert book["选项"].sheet_state == "hidden"
    entry = book["问卷录入"]
    headers = [cell.value for cell in entry[1]]
    assert headers[:4] == ["问卷编号", "社区编码", "调查员编号", "调查日期"]
    assert headers[4] == "1. 您在本市居住（工作、学习）是否已满半年？"
    assert len(headers) == 4 + len(QUESTIONNAIRE.questions)
    assert entry.freeze_panes == "B2"
    assert entry.column_dimensions["A"].width > 5

    validations = {str(dv.sqref).split(":")[0]: dv for dv in entry.data_validations.dataValidation}
    letter = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    lists = book["选项"]
    for question in QUESTIONNAIRE.questions:
        dv = validations.get(f"{letter[header(question.code)]}2")
        if question.options:
            assert dv is not None and dv.type == "list", question.code
            # The list holds the option labels in Chinese.
            cells = dv.formula1.split("!")[1].replace("$", "")
            shown = [c.value for row in lists[cells] for c in row]
            assert shown == [o.text("zh") for o in question.options]
        elif question.type == "number":
            assert dv.type == "whole" and float(dv.formula1) == question.min and float(dv.formula2) == question.max
    assert validations["B2"].type == "list"  # communities
    community_cells = validations["B2"].formula1.split("!")[1].replace("$", "")
    entries = [c.value for row in lists[community_cells] for c in row]
    assert len(entries) == 45 and entries[0].startswith("BJ0101 ")
    assert validations["D2"].type == "date"
    assert validations["A2"].type == "custom"  # unique form numbers
    # Header notes explain multiple choice and skip logic.
    channels = entry[f"{letter[header('learn_channels')]}1"]
    assert "“;”" in channels.comment.text and "第5题" in channels.comment.text
    guide = "\n".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "每份纸质问卷填一行" in guide and "留空" in guide and "必填" in guide


# ----------------------------------------------------------------------------- round trips


def test_filled_template_imports_once_and_moves_the_tally(city):
    engine, areas = city
    rows = sample_rows(areas, 12)
    rows[0][header("learn_channels")] = None  # optional
    rows[1][header("suggestion")] = "希望多建公园"
    data = fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), rows)
    checked = paper.read_paper_file(data, QUESTIONNAIRE, areas)
    assert checked.errors.empty, checked.errors
    assert (checked.total_count, checked.valid_count) == (12, 12)
    assert all(r["channel"] == "paper" and r["started_at"].date() == date.today() for r in checked.records)

    before_count, before_tally = stored(engine)
    assert do_import(engine, checked) == 12
    count, tally = stored(engine)
    assert (before_count, count) == (0, 12)
    assert before_tally.empty
    pooled = tally[tally["item"] == ""].groupby("indicator")["respondents"].sum()
    assert (pooled == 12).all()

    with read_session(engine) as session:
        responses = round_responses(session, round_by_code(session, ROUND).id, scope=CITY)
        events = accounts.audit_events(session, action="import.paper")
    assert set(responses["channel"]) == {"paper"} and set(responses["interviewer"]) == {"DX-01"}
    assert "希望多建公园" in [a.get("suggestion") for a in responses["answers"]]
    assert len(events) == 1 and events.iloc[0]["target"] == ROUND and events.iloc[0]["detail"]["rows"] == 12

    # The same file again: nothing new, the tally unchanged.
    again = paper.read_paper_file(data, QUESTIONNAIRE, areas)
    assert do_import(engine, again) == 0
    count_again, tally_again = stored(engine)
    assert count_again == 12
    pd.testing.assert_frame_equal(tally.sort_values(["community_id", "indicator", "item"]).reset_index(drop=True),
                                  tally_again.sort_values(["community_id", "indicator", "item"]).reset_index(drop=True))


def test_two_bad_rows_refuse_everything_or_import_the_eight_valid(city):
    engine, areas = city
    rows = sample_rows(areas, 10)
    rows[2][header("community")] = "XX9999"  # Excel row 4
    rows[7][header("years_in_city")] = 150  # Excel row 9, out of 0..100
    rows[7][header("sex")] = "未知"
    data = fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), rows)
    checked = paper.read_paper_file(data, QUESTIONNAIRE, areas)
    assert (checked.total_count, checked.valid_count) == (10, 8)
    assert set(checked.errors["行号"]) == {4, 9}
    errors = {(r.行号, r.列): r.问题 for r in checked.errors.itertuples()}
    assert "XX9999" in errors[(4, "社区编码")] and "不存在" in errors[(4, "社区编码")]
    assert errors[(9, header("years_in_city"))] == "请输入 0 到 100 之间的整数"
    assert "未知" in errors[(9, header("sex"))] and "男" in errors[(9, header("sex"))]

    with pytest.raises(paper.PaperFileError, match="2 行错误"):
        do_import(engine, checked, only_valid=False)
    assert stored(engine)[0] == 0

    assert do_import(engine, checked, only_valid=True) == 8
    assert stored(engine)[0] == 8
    with read_session(engine) as session:
        detail = accounts.audit_events(session, action="import.paper").iloc[0]["detail"]
    assert detail["rows"] == 8 and detail["rejected"] == 2

    assert list(checked.rejected_rows["行号"]) == [4, 9]
    book = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(checked)))
    sheet = book["问卷录入"]
    table = pd.DataFrame(list(sheet.iter_rows(min_row=2, values_only=True)), columns=[c.value for c in sheet[1]])
    assert list(table["行号"]) == [4, 9]
    assert list(table["问卷编号"]) == ["P0003", "P0008"]
    assert "社区编码" in table["错误"][0] and "XX9999" in table["错误"][0]
    assert header("years_in_city") in table["错误"][1] and header("sex") in table["错误"][1]
    bad_cell = sheet.cell(row=2, column=2)
    assert bad_cell.comment is not None and "不存在" in bad_cell.comment.text

    # Fix the two rejected rows in the downloaded file and upload it: exactly two more.
    sheet.cell(row=2, column=2, value=communities(areas)[0])
    position = {c.value: c.column for c in sheet[1]}
    sheet.cell(row=3, column=position[header("years_in_city")], value=15)
    sheet.cell(row=3, column=position[header("sex")], value="女")
    out = io.BytesIO()
    book.save(out)
    fixed = paper.read_paper_file(out.getvalue(), QUESTIONNAIRE, areas)
    assert fixed.errors.empty, fixed.errors
    assert do_import(engine, fixed) == 2
    assert stored(engine)[0] == 10


def test_every_row_is_checked(city):
    engine, areas = city
    codes = communities(areas)
    rows = sample_rows(areas, 9)
    rows[0][header("form")] = None  # row 2: no form number
    rows[1][header("form")] = rows[2][header("form")]  # rows 3 and 4: duplicate
    rows[3][header("date")] = "2026-13-45"  # row 5
    rows[4][header("date")] = datetime.now() + timedelta(days=3)  # row 6: future
    rows[5][header("aware_campaign")] = None  # row 7: required question empty
    rows[6][header("community")] = codes[0][:4]  # row 8: a street code
    rows[7][header("aware_campaign")] = "不知道"  # row 9: learn_channels should now be empty
    rows[7][header("learn_channels")] = "电视、广播"
    data = fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), rows)
    checked = paper.read_paper_file(data, QUESTIONNAIRE, areas)
    errors = checked.errors
    by_row = {row: list(group["列"]) for row, group in errors.groupby("行号")}
    text = {row: " ".join(group["问题"]) for row, group in errors.groupby("行号")}
    assert "请填写问卷编号" in text[2]
    assert "重复" in text[3] and "第 4 行" in text[3] and "第 3 行" in text[4]
    assert by_row[5] == ["调查日期"] and "2026-13-45" in text[5]
    assert by_row[6] == ["调查日期"] and "晚于今天" in text[6]
    assert by_row[7][0] == header("aware_campaign") and "请回答此题" in text[7]
    assert by_row[8] == ["社区编码"] and "街道" in text[8]
    assert by_row[9] == [header("learn_channels")] and "留空" in text[9]
    assert 10 not in by_row
    assert checked.valid_count == 1 and checked.total_count == 9


def test_labels_numbers_codes_and_separators_are_all_read(city):
    _, areas = city
    rows = sample_rows(areas, 4)
    community = areas[areas["level"] == "community"].iloc[0]
    rows[0][header("community")] = f"{community['code']} {community['name_zh']}"  # the drop-down entry
    rows[0][header("aware_campaign")] = "知道"
    rows[0][header("learn_channels")] = "电视、广播、网站、微信、微博、短视频等网络平台、其他"  # labels that contain 、
    rows[0][header("years_in_city")] = "１２"  # full-width digits typed as text
    rows[1][header("aware_campaign")] = 1  # option number
    rows[1][header("learn_channels")] = "1;3；8"
    rows[1][header("age_group")] = "18-29岁"  # ASCII dash for the label's 18—29岁
    rows[2][header("aware_campaign")] = "yes"  # option code
    rows[2][header("learn_channels")] = "tv_radio, online"
    rows[2][header("date")] = "2026/1/5"
    rows[3][header("aware_campaign")] = "知道"
    rows[3][header("learn_channels")] = "电视、广播、火星"
    data = fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), rows)
    checked = paper.read_paper_file(data, QUESTIONNAIRE, areas)
    answers = [r["answers"] for r in checked.records]
    assert answers[0]["learn_channels"] == ["tv_radio", "online", "other"] and answers[0]["years_in_city"] == 12
    assert checked.records[0]["community_id"] == int(community["id"])
    assert answers[1]["aware_campaign"] == "yes" and answers[1]["learn_channels"] == ["tv_radio", "online", "other"]
    assert answers[1]["age_group"] == "18_29"
    assert answers[2]["learn_channels"] == ["tv_radio", "online"]
    assert checked.records[2]["submitted_at"] == datetime(2026, 1, 5)
    assert list(checked.errors["行号"]) == [5] and "火星" in checked.errors["问题"].iloc[0]


# ------------------------------------------------------------------------------ file problems


def test_file_level_problems_raise_a_clear_bilingual_error(city):
    _, areas = city
    template = paper_template(QUESTIONNAIRE, areas, scope=CITY)

    def refused(data) -> str:
        with pytest.raises(paper.PaperFileError) as caught:
            paper.read_paper_file(data, QUESTIONNAIRE, areas)
        return str(caught.value)

    assert "不是 Excel 文件" in refused(np.random.default_rng(1).bytes(4096))
    assert "not an Excel" in refused(b"form,community\n1,CD0101\n")
    assert "文件是空的" in refused(b"")
    assert ".xls" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "not an Excel" in refused(b"PK\x03\x04" + bytes(300))  # a zip header, then rubbish
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    assert "损坏" in refused(other_zip.getvalue())

    book = openpyxl.load_workbook(io.BytesIO(template))
    book["问卷录入"].title = "Sheet1"
    message = refused(_save(book))
    assert "找不到工作表“问卷录入”" in message and "Sheet1" in message

    book = openpyxl.load_workbook(io.BytesIO(template))
    book["问卷录入"]["C1"] = "访员"
    book["问卷录入"]["G1"] = "年龄"
    message = refused(_save(book))
    assert "缺少列：“调查员编号”、“3. 您的年龄是？”" in message and "“访员”" in message and "missing columns" in message

    assert "没有问卷数据" in refused(template)  # headers only, nothing typed

    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["问卷录入"]
    for cell in sheet[1]:
        cell.value = None
    assert "是空的" in refused(_save(book))


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_closed_round_takes_no_paper_forms(city):
    engine, areas = city
    data = fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), sample_rows(areas, 2))
    checked = paper.read_paper_file(data, QUESTIONNAIRE, areas)
    with write_session(engine) as session:
        change_round_status(session, None, round_by_code(session, ROUND), "closed", scope=CITY)
    with pytest.raises(paper.PaperFileError, match="not open"):
        do_import(engine, checked)
    assert stored(engine)[0] == 0


# -------------------------------------------------------------------------------------- English


def test_english_template_round_trip(city):
    engine, areas = city
    template = paper_template(QUESTIONNAIRE, areas, lang="en", scope=CITY)
    book = openpyxl.load_workbook(io.BytesIO(template))
    assert book.sheetnames[0] == "Entry" and book["选项"].sheet_state == "hidden"
    headers = [c.value for c in book["Entry"][1]]
    assert headers[:4] == ["Form number", "Community code", "Interviewer ID", "Survey date"]
    assert headers[4].startswith("1. Have you lived")

    rows = sample_rows(areas, 6, lang="en", seed=11)
    rows[5][header("sex", "en")] = "Unknown"
    checked = paper.read_paper_file(fill(template, rows), QUESTIONNAIRE, areas, lang="en")
    assert checked.valid_count == 5
    assert checked.errors.iloc[0]["问题"].startswith("unknown option “Unknown”")
    assert list(checked.errors_for_display().columns) == ["Row", "Column", "Problem"]
    with pytest.raises(paper.PaperFileError, match="1 rows have errors"):
        do_import(engine, checked)
    assert do_import(engine, checked, only_valid=True) == 5
    rejected = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(checked)))["Entry"]
    assert [c.value for c in rejected[1]][-2:] == ["Row", "Errors"]
    assert rejected.cell(row=2, column=len(headers) + 1).value == 7

    # A Chinese template read by an English user (and vice versa) matches the same columns.
    zh_rows = sample_rows(areas, 2, start=100)
    mixed = paper.read_paper_file(fill(paper_template(QUESTIONNAIRE, areas, scope=CITY), zh_rows), QUESTIONNAIRE, areas, lang="en")
    assert mixed.valid_count == 2
    assert do_import(engine, mixed) == 2


def test_single_choice_drop_downs_warn_so_the_typed_option_number_is_kept_and_imported(city):
    """Issue 16 item 5: Excel's default "stop" style refused the option number the instructions allow."""
    engine, areas = city
    template = paper_template(QUESTIONNAIRE, areas, scope=CITY)
    entry = openpyxl.load_workbook(io.BytesIO(template))["问卷录入"]
    headers = [cell.value for cell in entry[1]]
    validations = {str(dv.sqref).split(":")[0]: dv for dv in entry.data_validations.dataValidation}
    letter = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    single = [q for q in QUESTIONNAIRE.questions if q.options and q.type != "multiple_choice"]
    assert single
    for question in single:
        dv = validations[f"{letter[header(question.code)]}2"]
        assert dv.type == "list" and dv.errorStyle == "warning", question.code
        assert "序号" in dv.error  # the message says the number may be typed, and now Excel lets it through
    rows = sample_rows(areas, 2)
    for question in single:
        if header(question.code) in rows[0]:
            answer = rows[0][header(question.code)]
            rows[0][header(question.code)] = [o.text("zh") for o in question.options].index(answer) + 1
    expected = paper.read_paper_file(fill(template, sample_rows(areas, 2)), QUESTIONNAIRE, areas).records[0]["answers"]
    checked = paper.read_paper_file(fill(template, rows), QUESTIONNAIRE, areas)
    assert checked.errors.empty
    assert checked.records[0]["answers"] == expected
    do_import(engine, checked)
    assert stored(engine)[0] == 2
