"""Paper questionnaires typed in afterwards: reading a filled template and importing it.

The module is split by job: ``paper_layout`` (what template and reader share),
``reports.paper_template`` (the workbook users download: the blank template and the rejected rows to
fix and upload again), this module (``read_paper_file`` checks every row of a
filled file and turns the good ones into records for ``data.imports.bulk_import``; ``import_paper``
stores them, all or only the valid ones, and audits), and ``questionnaires.typed_answers`` (how a
typed label, code or option number becomes an answer).

The response id of a paper questionnaire is derived from the round and the form number written on
the paper (``paper_response_id``), so importing the same file twice never counts anything twice.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

import pandas as pd
from sqlalchemy.orm import Session

from data import accounts
from data.imports import bulk_import
from data.responses import SubmissionRefused
from questionnaires.answer_rules import answer_problems
from data.models import QuestionnaireVersion, SurveyRound
from data.scope import CITY, Scope, check_communities
from questionnaires import Question, Questionnaire, visible_questions
from questionnaires.model import CHOICE_TYPES
from questionnaires.typed_answers import (
    cell_text as _cell_text,
    comparison_key as _norm_key,
    normalise_text as _norm,
    option_lookup as _option_lookup,
    read_typed_answer as _read_answer,
    typed_number as _number,
)

from .paper_layout import (  # noqa: F401 - re-exported: pages and tests use data.paper.*
    EARLIEST_DATE, ENTRY_SHEET, ERROR_COLUMN, ERROR_FRAME_COLUMNS, ERROR_FRAME_COLUMNS_EN, EXTRA_COLUMNS,
    FIXED_COLUMNS, INSTRUCTIONS_SHEET, LISTS_SHEET, MAX_BYTES, MAX_COLUMNS, MAX_FORM_NUMBER, MAX_INTERVIEWER, MAX_ROWS,
    PAPER_NAMESPACE, ROW_COLUMN, TEMPLATE_ROWS, PaperFileError, _Column, _columns, _lang, _msg, paper_response_id,
)

# ---------------------------------------------------------------------------------------- reading


@dataclass
class PaperImport:
    """A checked paper file: the records ready for ``bulk_import`` and every problem found."""

    records: list[dict]
    errors: pd.DataFrame  # 行号 (Excel row), 列 (column header), 问题 (message)
    rejected_rows: pd.DataFrame  # the rows with errors as in the file, plus 行号 and 错误
    valid_count: int
    total_count: int
    lang: str = "zh"
    questionnaire: Questionnaire | None = field(default=None, repr=False)
    areas: pd.DataFrame | None = field(default=None, repr=False)
    cell_errors: dict = field(default_factory=dict, repr=False)  # excel row -> [(column index, message)]
    headers: list = field(default_factory=list, repr=False)  # the file's headers, by column index

    @property
    def rejected_count(self) -> int:
        return self.total_count - self.valid_count

    def errors_for_display(self) -> pd.DataFrame:
        """The error table with column names in the user's language."""
        return self.errors.rename(columns=ERROR_FRAME_COLUMNS_EN) if self.lang == "en" else self.errors


def _file_error(zh: str, en: str) -> PaperFileError:
    return PaperFileError(f"{zh} / {en}")


def _open_workbook(data: bytes):
    import openpyxl

    if not isinstance(data, (bytes, bytearray)) or not data:
        raise _file_error("文件是空的", "the file is empty")
    if len(data) > MAX_BYTES:
        raise _file_error(f"文件太大（超过 {MAX_BYTES // 1024 // 1024} MB）", f"the file is too large (over {MAX_BYTES // 1024 // 1024} MB)")
    if bytes(data[:8]) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _file_error("这是旧版 Excel（.xls）或加密的文件，请在 Excel 中另存为 .xlsx 后再上传",
                          "this is an old Excel (.xls) or encrypted file: save it as .xlsx and upload again")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _file_error("不是 Excel 文件（.xlsx），请上传由模板填写的 .xlsx 文件",
                          "not an Excel (.xlsx) file: upload the .xlsx made from the template")
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any reader failure is a broken file, never a traceback for the user
        raise _file_error("无法读取该 Excel 文件，文件可能已损坏或不是 .xlsx 格式",
                          "the Excel file cannot be read: it may be damaged or not an .xlsx file") from None


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_paper_file(data: bytes, questionnaire: Questionnaire, areas: pd.DataFrame, lang: str = "zh",
                    *, round_code: str | None = None, today: date | None = None, scope: Scope = CITY) -> PaperImport:
    """Check every row of a filled template.  File-level problems raise ``PaperFileError``; row
    problems are collected in ``errors`` / ``rejected_rows`` and those rows get no record.

    Record ids use ``round_code`` when given; ``import_paper`` always sets them from its round.
    """
    lang = _lang(lang)
    today = today or date.today()
    book = _open_workbook(data)
    try:
        raw_headers, raw_rows = _read_entry_sheet(book)
    finally:
        book.close()
    columns = _columns(questionnaire)
    index_of = _match_headers(raw_headers, columns)
    if not raw_rows:
        raise _file_error("文件中没有问卷数据（第 2 行起为空）", "the file holds no questionnaire rows (nothing from row 2 on)")

    communities = _community_lookup(areas)
    lookups = {c.question.code: _option_lookup(c.question) for c in columns
               if c.question is not None and c.question.type in CHOICE_TYPES}
    ignored = {_norm_key(h) for pair in EXTRA_COLUMNS.values() for h in pair}
    kept = [i for i, h in enumerate(raw_headers) if h and _norm_key(h) not in ignored]
    form_rows: dict[str, list[int]] = {}
    parsed = []
    for excel_row, values in raw_rows:
        cell = lambda key: values[index_of[key]] if index_of[key] < len(values) else None  # noqa: E731
        problems: list[tuple[int, str]] = []  # (column index in the file, message)

        def problem(key: str, message: str) -> None:
            problems.append((index_of[key], message))

        form = _cell_text(cell("form"))
        if not form:
            problem("form", _msg(lang, "请填写问卷编号", "please fill in the form number"))
        elif len(form) > MAX_FORM_NUMBER:
            problem("form", _msg(lang, f"问卷编号太长（最多 {MAX_FORM_NUMBER} 个字符）", f"form number too long (at most {MAX_FORM_NUMBER} characters)"))
        else:
            form_rows.setdefault(form, []).append(excel_row)

        community_id = None
        community_value = cell("community")
        if _is_blank(community_value):
            problem("community", _msg(lang, "请填写社区编码", "please fill in the community code"))
        else:
            community_id, message = _find_community(communities, community_value, lang)
            if message:
                problem("community", message)
            elif not scope.allows_community(community_id):
                problem("community", _msg(lang, f"社区 {_cell_text(community_value)} 不在您的数据范围内",
                                          f"community {_cell_text(community_value)} is outside your data scope"))

        interviewer = _cell_text(cell("interviewer")) or None
        if interviewer and len(interviewer) > MAX_INTERVIEWER:
            problem("interviewer", _msg(lang, f"调查员编号太长（最多 {MAX_INTERVIEWER} 个字）", f"interviewer id too long (at most {MAX_INTERVIEWER} characters)"))

        when, message = _read_date(cell("date"), lang, today)
        if message:
            problem("date", message)

        answers: dict[str, Any] = {}
        unreadable: set[str] = set()
        for column in columns:
            if column.question is None:
                continue
            question = column.question
            value = cell(column.key)
            if _is_blank(value):
                continue
            answer, message = _read_answer(question, value, lookups.get(question.code), lang)
            if message:
                problem(column.key, message)
                unreadable.add(question.code)
            else:
                answers[question.code] = answer

        shown = {q.code for q in visible_questions(questionnaire, answers)}
        for column in columns:
            question = column.question
            if question is not None and question.code in answers and question.code not in shown:
                problem(column.key, _msg(lang, "按跳题规则本题不应作答，请留空（或检查前面的答案）",
                                         "by the skip logic this question is not asked here: leave it empty "
                                         "(or check the earlier answers)"))
        for code, message in answer_problems(questionnaire, answers, lang).items():
            if code not in unreadable and code in {q.code for q in questionnaire.questions}:
                problem(f"q:{code}", message)
        parsed.append({"row": excel_row, "values": values, "form": form, "community_id": community_id,
                       "interviewer": interviewer, "when": when, "answers": answers, "problems": problems})

    for form, rows in form_rows.items():
        if len(rows) > 1:
            for item in parsed:
                if item["form"] == form and item["row"] in rows:
                    others = "、".join(str(r) for r in rows if r != item["row"])
                    item["problems"].insert(0, (index_of["form"], _msg(
                        lang, f"问卷编号 {form} 重复（另见第 {others} 行）",
                        f"form number {form} appears more than once (also row {others.replace('、', ', ')})")))

    now = datetime.now()
    records, error_rows, rejected, cell_errors = [], [], [], {}
    for item in parsed:
        if item["problems"]:
            item["problems"].sort(key=lambda p: p[0])
            cell_errors[item["row"]] = item["problems"]
            for column_index, message in item["problems"]:
                error_rows.append({"行号": item["row"], "列": raw_headers[column_index], "问题": message})
            original = {raw_headers[i]: (item["values"][i] if i < len(item["values"]) else None) for i in kept}
            summary = _msg(lang, "；", "; ").join(f"{raw_headers[i]}：{m}" if lang != "en" else f"{raw_headers[i]}: {m}"
                                                  for i, m in item["problems"])
            rejected.append({**original, ROW_COLUMN: item["row"], ERROR_COLUMN: summary})
            continue
        moment = datetime.combine(item["when"], time()) if item["when"] else now
        records.append({
            "id": paper_response_id(round_code or "", item["form"]),
            "form_number": item["form"],
            "row": item["row"],
            "community_id": item["community_id"],
            "interviewer": item["interviewer"],
            "started_at": moment,
            "submitted_at": moment,
            "answers": item["answers"],
            "channel": "paper",
        })
    errors = pd.DataFrame(error_rows, columns=ERROR_FRAME_COLUMNS)
    rejected_frame = pd.DataFrame(rejected, columns=[*(raw_headers[i] for i in kept), ROW_COLUMN, ERROR_COLUMN])
    return PaperImport(records=records, errors=errors, rejected_rows=rejected_frame, valid_count=len(records),
                       total_count=len(parsed), lang=lang, questionnaire=questionnaire, areas=areas,
                       cell_errors=cell_errors, headers=raw_headers)


def _read_entry_sheet(book) -> tuple[list[str], list[tuple[int, tuple]]]:
    names = {_norm_key(name): name for name in book.sheetnames}
    sheet_name = next((names[_norm_key(n)] for n in ENTRY_SHEET.values() if _norm_key(n) in names), None)
    if sheet_name is None:
        found = "、".join(book.sheetnames) or "-"
        raise _file_error(f"找不到工作表“{ENTRY_SHEET['zh']}”（文件中的工作表：{found}），请使用系统下载的模板",
                          f"sheet “{ENTRY_SHEET['en']}” / “{ENTRY_SHEET['zh']}” not found (sheets in the file: "
                          f"{', '.join(book.sheetnames) or '-'}); use the template from the system")
    sheet = book[sheet_name]
    if not hasattr(sheet, "iter_rows"):
        raise _file_error(f"工作表“{sheet_name}”不是表格", f"sheet “{sheet_name}” is not a worksheet")
    rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    header_values = None
    for header_values in rows:
        break
    if header_values is None or all(_is_blank(v) for v in header_values):
        raise _file_error(f"工作表“{sheet_name}”是空的（第 1 行没有列名）",
                          f"sheet “{sheet_name}” is empty (no column headers in row 1)")
    headers = [" ".join(str(v).split()) if not _is_blank(v) else "" for v in header_values]
    while headers and not headers[-1]:
        headers.pop()
    data = []
    for excel_row, values in enumerate(rows, start=2):
        if excel_row > 2 * MAX_ROWS:  # blank rows count too: a sheet padded to a million rows stops here
            raise _file_error(f"行数太多（最多 {MAX_ROWS} 行），请分成几个文件上传",
                              f"too many rows (at most {MAX_ROWS}): split the file")
        if all(_is_blank(v) for v in values[: len(headers)]):
            continue
        if len(data) >= MAX_ROWS:
            raise _file_error(f"行数太多（最多 {MAX_ROWS} 行），请分成几个文件上传",
                              f"too many rows (at most {MAX_ROWS}): split the file")
        data.append((excel_row, tuple(values[: len(headers)])))
    return headers, data


def _match_headers(headers: list[str], columns: list[_Column]) -> dict[str, int]:
    """Column key -> index in the file; every template column must be there, under either language."""
    position = {}
    for index, header in enumerate(headers):
        if header:
            position.setdefault(_norm_key(header), index)
    seen = [h for h in headers if h]
    duplicates = sorted({h for h in seen if seen.count(h) > 1})
    index_of, missing = {}, []
    for column in columns:
        names = [*column.headers] + ([column.question.code] if column.question else [])
        found = next((position[_norm_key(n)] for n in names if _norm_key(n) in position), None)
        if found is None:
            missing.append(column)
        else:
            index_of[column.key] = found
    if missing or duplicates:
        known = {_norm_key(n) for c in columns for n in c.headers} | {
            _norm_key(h) for pair in EXTRA_COLUMNS.values() for h in pair}
        known |= {_norm_key(c.question.code) for c in columns if c.question}
        unknown = [h for h in seen if _norm_key(h) not in known]
        zh, en = [], []
        if missing:
            zh.append("缺少列：" + "、".join(f"“{c.headers[0]}”" for c in missing))
            en.append("missing columns: " + ", ".join(f"“{c.headers[1]}”" for c in missing))
        if unknown:
            zh.append("无法识别的列（可能被改名）：" + "、".join(f"“{h}”" for h in unknown))
            en.append("unrecognised columns (renamed?): " + ", ".join(f"“{h}”" for h in unknown))
        if duplicates:
            zh.append("列名重复：" + "、".join(f"“{h}”" for h in duplicates))
            en.append("duplicate columns: " + ", ".join(f"“{h}”" for h in duplicates))
        raise _file_error("；".join(zh) + "。请不要修改模板第 1 行的列名", "; ".join(en) + ". Do not change the headers in row 1")
    return index_of


def _community_lookup(areas: pd.DataFrame) -> dict:
    by_code, by_name, other_levels = {}, {}, {}
    if areas is not None and len(areas):
        for row in areas.to_dict("records"):
            code = _norm_key(row["code"])
            if row["level"] == "community":
                by_code[code] = int(row["id"])
                for name in (row.get("name_zh"), row.get("name_en")):
                    if isinstance(name, str) and name.strip():
                        by_name.setdefault(_norm_key(name), set()).add(int(row["id"]))
            else:
                other_levels[code] = row["level"]
    return {"code": by_code, "name": by_name, "other": other_levels}


def _find_community(lookup: dict, value: Any, lang: str) -> tuple[int | None, str | None]:
    text = _cell_text(value)
    key = _norm_key(text)
    first = key.split(" ", 1)[0]
    for candidate in (key, first):
        if candidate in lookup["code"]:
            return lookup["code"][candidate], None
    named = lookup["name"].get(key) or (lookup["name"].get(key.split(" ", 1)[1]) if " " in key else None)
    if named and len(named) == 1:
        return next(iter(named)), None
    level = lookup["other"].get(key) or lookup["other"].get(first)
    if level:
        kind = {"district": ("区县", "a district"), "street": ("街道", "a street")}.get(level, (level, level))
        return None, _msg(lang, f"{text} 是{kind[0]}编码，请填写社区编码", f"{text} is {kind[1]} code; give a community code")
    return None, _msg(lang, f"社区编码 {text} 不存在", f"unknown community code {text}")


def _read_date(value: Any, lang: str, today: date) -> tuple[date | None, str | None]:
    if _is_blank(value):
        return None, None
    wrong = _msg(lang, f"日期无法识别：{_cell_text(value)}（请写成 2026-05-01）",
                 f"not a date: {_cell_text(value)} (write e.g. 2026-05-01)")
    when = None
    if isinstance(value, datetime):
        when = value.date()
    elif isinstance(value, date):
        when = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if 36526 <= value < 73051:  # an Excel serial day number between 2000 and 2100
            when = (datetime(1899, 12, 30) + timedelta(days=float(value))).date()
        elif 20000101 <= value <= 21001231 and float(value).is_integer():
            when = _parse_date_text(str(int(value)))
    elif isinstance(value, str):
        when = _parse_date_text(_norm(value))
    if when is None:
        return None, wrong
    if when > today:
        return None, _msg(lang, f"调查日期 {when.isoformat()} 晚于今天", f"survey date {when.isoformat()} is in the future")
    if when < EARLIEST_DATE:
        return None, _msg(lang, f"调查日期 {when.isoformat()} 太早", f"survey date {when.isoformat()} is too early")
    return when, None


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


def _parse_date_text(text: str) -> date | None:
    match = _DATE_TEXT.match(text)
    if match is None and re.fullmatch(r"\d{8}", text):
        match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------- import


def import_paper(session: Session, survey_round: SurveyRound, questionnaire: Questionnaire,
                 paper_import: PaperImport, only_valid: bool, actor: str | None, *, scope: Scope) -> int:
    """Store the checked paper questionnaires in the caller's transaction; returns how many are new.

    With ``only_valid=False`` any row error refuses the whole file and nothing is written.  Form
    numbers already imported into this round are skipped (never doubled, never overwritten).
    """
    lang = paper_import.lang
    rejected = paper_import.total_count - paper_import.valid_count
    if rejected and not only_valid:
        raise _file_error(f"文件中有 {rejected} 行错误，未导入任何问卷；请改正后重新上传，或选择只导入正确的行",
                          f"{rejected} rows have errors, nothing was imported: fix them and upload again, "
                          f"or import only the valid rows")
    if survey_round is None or survey_round.status != "open":
        raise _file_error("本轮调查未开放或已结束，不能导入", "this survey round is not open: nothing can be imported")
    stored = session.get(QuestionnaireVersion, survey_round.questionnaire_id)
    if stored is not None and stored.content_hash != questionnaire.content_hash():
        raise _file_error("问卷与本轮调查使用的问卷不一致，请下载本轮的模板",
                          "the questionnaire is not the one this round uses: download this round's template")
    records = [{**record, "id": paper_response_id(survey_round.code, record["form_number"]), "channel": "paper"}
               for record in paper_import.records]
    # Checked again here, whatever the reader was given: the records may come from anywhere.
    check_communities(scope, [record.get("community_id") for record in records], _community_codes(paper_import.areas))
    try:
        added = bulk_import(session, survey_round, questionnaire, records, channel="paper", lang=lang)
    except SubmissionRefused as refused:
        raise SubmissionRefused(_rows_named(refused.messages, records, questionnaire, lang)) from None
    accounts.record(session, actor, "import.paper", survey_round.code, rows=len(records), rejected=rejected,
                    new=added, already=len(records) - added)
    return added


def _community_codes(areas: pd.DataFrame | None) -> dict:
    if areas is None or len(areas) == 0:
        return {}
    return dict(zip(areas["id"], areas["code"]))


def _rows_named(messages: Mapping[str, str], records: list[dict], questionnaire: Questionnaire, lang: str) -> dict:
    """'#3 sex' -> '第 5 行 4. 您的性别是？' so that a late refusal still points at the file."""
    headers = {c.question.code: c.header(lang) for c in _columns(questionnaire) if c.question}
    named = {}
    for key, message in messages.items():
        match = re.match(r"#(\d+) (.+)", key)
        if match and 1 <= int(match.group(1)) <= len(records):
            row = records[int(match.group(1)) - 1].get("row")
            column = headers.get(match.group(2), "")
            key = _msg(lang, f"第 {row} 行 {column}".strip(), f"row {row} {column}".strip())
        named[key] = message
    return named
