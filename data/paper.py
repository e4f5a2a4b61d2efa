"""Paper questionnaires typed in afterwards: the Excel template and its import.

``paper_template`` makes an .xlsx with one row per paper questionnaire, drop-down lists of the
option labels in the user's language, number and date checks and a sheet of instructions.
``read_paper_file`` checks every row of a filled file and turns the good ones into records for
``data.imports.bulk_import``; ``import_paper`` stores them (all or only the valid ones) and audits.

The response id of a paper questionnaire is derived from the round and the form number written on
the paper (``paper_response_id``), so importing the same file twice never counts anything twice.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

import pandas as pd
from sqlalchemy.orm import Session

from data import accounts
from data.imports import bulk_import
from data.models import QuestionnaireVersion, SurveyRound
from data.responses import SubmissionRefused
from questionnaires import Question, Questionnaire, visible_questions
from questionnaires.answer_rules import answer_problems
from questionnaires.logic import And, Compare, Not, Or, Ref, Selected
from questionnaires.model import CHOICE_TYPES

# A fixed namespace: the same round code and form number give the same response id forever.
PAPER_NAMESPACE = uuid.UUID("6f1d3c2a-8b57-5e0c-9a41-2f7e6d0c5b18")

ENTRY_SHEET = {"zh": "问卷录入", "en": "Entry"}
INSTRUCTIONS_SHEET = {"zh": "填写说明", "en": "Instructions"}
LISTS_SHEET = "选项"  # hidden; holds the drop-down lists
TEMPLATE_ROWS = 5000  # rows that carry the drop-downs and checks
MAX_ROWS = 20000
MAX_BYTES = 30 * 1024 * 1024
MAX_FORM_NUMBER = 64
MAX_INTERVIEWER = 40
EARLIEST_DATE = date(2000, 1, 1)

# The fixed columns before the questions: key -> (zh header, en header).
FIXED_COLUMNS = {
    "form": ("问卷编号", "Form number"),
    "community": ("社区编码", "Community code"),
    "interviewer": ("调查员编号", "Interviewer ID"),
    "date": ("调查日期", "Survey date"),
}
# Columns that rejected-row files add; ignored when such a file is uploaded again.
ROW_COLUMN, ERROR_COLUMN = "行号", "错误"
EXTRA_COLUMNS = {"zh": (ROW_COLUMN, ERROR_COLUMN), "en": ("Row", "Errors")}
ERROR_FRAME_COLUMNS = ["行号", "列", "问题"]
ERROR_FRAME_COLUMNS_EN = {"行号": "Row", "列": "Column", "问题": "Problem"}

# Separators of several options in one cell.  ";" never occurs inside a label, so it is the safe one;
# "、" and "," also occur inside labels (电视、广播), which the reader resolves against the labels.
_STRONG_SEPARATORS = re.compile(r"[;；\n\r|]+")
_WEAK_SEPARATORS = re.compile(r"\s*[、,，/]\s*")
_DASHES = re.compile(r"[‐‑‒–—―－~～〜]")


class PaperFileError(ValueError):
    """The file as a whole cannot be read or imported; the message is in Chinese and English."""


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def paper_response_id(round_code: str, form_number: str) -> str:
    """The stable response id of paper form ``form_number`` in round ``round_code``."""
    return str(uuid.uuid5(PAPER_NAMESPACE, f"{round_code}\x1f{form_number}"))


# ----------------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class _Column:
    key: str  # form / community / interviewer / date / q:<question code>
    headers: tuple[str, str]  # (zh, en)
    question: Question | None = None
    number: int | None = None  # question number, 1-based

    def header(self, lang: str) -> str:
        return self.headers[1] if lang == "en" else self.headers[0]


def _columns(questionnaire: Questionnaire) -> list[_Column]:
    columns = [_Column(key, headers) for key, headers in FIXED_COLUMNS.items()]
    for number, question in enumerate(questionnaire.questions, start=1):
        headers = (f"{number}. {_one_line(question.text('zh'))}", f"{number}. {_one_line(question.text('en'))}")
        columns.append(_Column(f"q:{question.code}", headers, question, number))
    return columns


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _norm(value: Any) -> str:
    """Text as compared: NFKC (full-width digits and letters), one kind of dash, single spaces."""
    text = unicodedata.normalize("NFKC", str(value))
    text = _DASHES.sub("-", text)
    return " ".join(text.split())


def _norm_key(value: Any) -> str:
    return _norm(value).casefold()


# ------------------------------------------------------------------------------------ template


def _communities(areas: pd.DataFrame) -> pd.DataFrame:
    if areas is None or len(areas) == 0 or "level" not in areas:
        return pd.DataFrame(columns=["id", "code", "name_zh", "name_en"])
    frame = areas[areas["level"] == "community"]
    return frame.sort_values("code").reset_index(drop=True)


def _community_name(row, lang: str) -> str:
    name_en = row.get("name_en") if hasattr(row, "get") else None
    if lang == "en" and isinstance(name_en, str) and name_en.strip():
        return name_en
    return str(row["name_zh"])


def _option_number_text(question: Question, lang: str) -> str:
    return "；".join(f"{i}={option.text(lang)}" for i, option in enumerate(question.options, start=1)) if lang != "en" \
        else "; ".join(f"{i} = {option.text(lang)}" for i, option in enumerate(question.options, start=1))


def _show(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _range_text(question: Question, lang: str) -> str:
    kind = _msg(lang, "整数" if question.integer else "数字", "whole number" if question.integer else "number")
    low, high = question.min, question.max
    if low is not None and high is not None:
        return _msg(lang, f"{_show(low)} 到 {_show(high)} 之间的{kind}", f"a {kind} from {_show(low)} to {_show(high)}")
    if low is not None:
        return _msg(lang, f"不小于 {_show(low)} 的{kind}", f"a {kind} of at least {_show(low)}")
    if high is not None:
        return _msg(lang, f"不大于 {_show(high)} 的{kind}", f"a {kind} of at most {_show(high)}")
    return _msg(lang, kind, f"a {kind}")


def _question_numbers(questionnaire: Questionnaire) -> dict[str, int]:
    return {q.code: n for n, q in enumerate(questionnaire.questions, start=1)}


def condition_text(questionnaire: Questionnaire, question: Question, lang: str = "zh") -> str:
    """The question's skip condition in words (第1题 = “是”), or '' when it is always asked."""
    condition = question.condition
    if condition is None:
        return ""
    node = getattr(condition, "root", condition)
    numbers = _question_numbers(questionnaire)

    def ref(code: str) -> str:
        return _msg(lang, f"第{numbers.get(code, '?')}题", f"Q{numbers.get(code, '?')}")

    def value(side, other) -> str:
        if isinstance(side, Ref):
            return ref(side.code)
        if isinstance(side.value, str):
            if isinstance(other, Ref) and questionnaire.has_question(other.code):
                return f"“{questionnaire.question(other.code).option_label(side.value, lang)}”"
            return f"“{side.value}”"
        return _show(side.value)

    def render(node, top=False) -> str:
        if isinstance(node, Compare):
            words = {"=": _msg(lang, "为", "is"), "!=": _msg(lang, "不为", "is not")}
            op = words.get(node.op, node.op)
            return f"{value(node.left, node.right)} {op} {value(node.right, node.left)}"
        if isinstance(node, Selected):
            label = questionnaire.question(node.ref.code).option_label(node.option, lang) \
                if questionnaire.has_question(node.ref.code) else node.option
            return _msg(lang, f"{ref(node.ref.code)}选了“{label}”", f"{ref(node.ref.code)} includes “{label}”")
        if isinstance(node, Not):
            return _msg(lang, f"并非（{render(node.operand, True)}）", f"not ({render(node.operand, True)})")
        if isinstance(node, (And, Or)):
            joiner = _msg(lang, " 且 ", " and ") if isinstance(node, And) else _msg(lang, " 或 ", " or ")
            text = joiner.join(render(operand) for operand in node.operands)
            return text if top else f"({text})"
        return str(node)

    return render(node, top=True)


def _column_help(questionnaire: Questionnaire, column: _Column, lang: str) -> tuple[str, str]:
    """(what to write, note about required/skip) for one column, for comments and the instructions."""
    if column.question is None:
        return {
            "form": (_msg(lang, "纸质问卷上的编号，必填，文件内不能重复。同一编号再次导入不会重复计数。",
                          "The number written on the paper form; required and unique in the file. "
                          "Importing the same number again never counts it twice."), _msg(lang, "必填", "required")),
            "community": (_msg(lang, "从下拉列表选择，或填写社区编码（见隐藏表“选项”）。",
                               "Pick from the drop-down list or type the community code."), _msg(lang, "必填", "required")),
            "interviewer": (_msg(lang, "调查员的编号或姓名，选填。", "Interviewer's id or name; optional."),
                            _msg(lang, "选填", "optional")),
            "date": (_msg(lang, "调查当天的日期，如 2026-05-01；不填则记为导入时间。",
                          "The day of the interview, e.g. 2026-05-01; empty means the time of import."),
                     _msg(lang, "选填", "optional")),
        }[column.key]
    question = column.question
    if question.type == "multiple_choice":
        what = _msg(lang, f"多选题：填选项文字，多个选项用“;”或“、”分隔；也可填选项序号，如 1;3。选项：{_option_number_text(question, lang)}",
                    f"Multiple choice: write the option labels separated by “;” (or “、”); option numbers also work, "
                    f"e.g. 1;3. Options: {_option_number_text(question, lang)}")
    elif question.type in CHOICE_TYPES:
        what = _msg(lang, f"单选题：从下拉列表选择（也可填选项序号）。选项：{_option_number_text(question, lang)}",
                    f"Single choice: pick from the drop-down (or type the option number). Options: "
                    f"{_option_number_text(question, lang)}")
    elif question.type == "number":
        what = _msg(lang, f"填写{_range_text(question, lang)}", f"Write {_range_text(question, lang)}")
    else:
        what = _msg(lang, "文字", "Text")
        if question.max_length:
            what += _msg(lang, f"，最多 {question.max_length} 个字", f", at most {question.max_length} characters")
    notes = [_msg(lang, "必填", "required") if question.required else _msg(lang, "选填", "optional")]
    condition = condition_text(questionnaire, question, lang)
    if condition:
        notes.append(_msg(lang, f"跳题：仅当 {condition} 时填写，否则留空", f"skip logic: answer only if {condition}; otherwise leave empty"))
    if question.is_screening:
        allowed = "、".join(question.option_label(c, lang) for c in question.option_codes if c in question.screening_eligible)
        notes.append(_msg(lang, "甄别题：回答其他选项时后面各题留空（不计入统计）",
                          f"screening: with any answer other than {allowed} leave the rest empty (not counted)"))
    return what, _msg(lang, "；", "; ").join(notes)


def paper_template(questionnaire: Questionnaire, areas: pd.DataFrame, lang: str = "zh") -> bytes:
    """The Excel template for typing in paper questionnaires of ``questionnaire`` (xlsx bytes)."""
    return _workbook(questionnaire, areas, _lang(lang))


def _workbook(questionnaire: Questionnaire, areas: pd.DataFrame, lang: str,
              rows: list[list] | None = None, extra_headers: list[str] | None = None,
              cell_notes: Mapping[tuple[int, int], str] | None = None) -> bytes:
    import xlsxwriter

    columns = _columns(questionnaire)
    communities = _communities(areas)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": f"{questionnaire.title.get('zh', questionnaire.code)} · 纸质问卷录入",
                         "subject": "paper questionnaire template"})
    book.set_custom_property("questionnaire", f"{questionnaire.code}")
    book.set_custom_property("questionnaire_version", str(questionnaire.version))

    entry = book.add_worksheet(ENTRY_SHEET[lang])
    guide = book.add_worksheet(INSTRUCTIONS_SHEET[lang])
    lists = book.add_worksheet(LISTS_SHEET)
    lists.hide()
    entry.activate()

    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    head_required = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#FCE4D6",
                                     "border": 1})
    as_text = book.add_format({"num_format": "@"})
    as_date = book.add_format({"num_format": "yyyy-mm-dd"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    bad = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    bad_date = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "yyyy-mm-dd"})

    # ---- hidden lists: communities in A:C, then one column of option labels per choice question
    lists.write_row(0, 0, ["code", "name", _msg(lang, "下拉显示", "drop-down")])
    for i, row in communities.iterrows():
        shown = f"{row['code']} {_community_name(row, lang)}"
        lists.write_string(i + 1, 0, str(row["code"]))
        lists.write_string(i + 1, 1, _community_name(row, lang))
        lists.write_string(i + 1, 2, shown)
    list_ranges: dict[str, str] = {}
    list_column = 4
    for column in columns:
        question = column.question
        if question is None or question.type not in CHOICE_TYPES or not question.options:
            continue
        lists.write_string(0, list_column, question.code)
        for i, option in enumerate(question.options, start=1):
            lists.write_string(i, list_column, option.text(lang))
        letter = xlsxwriter.utility.xl_col_to_name(list_column)
        list_ranges[question.code] = f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(question.options) + 1}"
        list_column += 1

    # ---- entry sheet: headers with notes, widths, checks
    last = TEMPLATE_ROWS
    for index, column in enumerate(columns):
        required = column.key in ("form", "community") or (column.question is not None and column.question.required)
        entry.write_string(0, index, column.header(lang), head_required if required else head)
        what, note = _column_help(questionnaire, column, lang)
        entry.write_comment(0, index, f"{what}\n{note}", {"x_scale": 2.4, "y_scale": 2.2, "author": "survey"})
        question = column.question
        if question is None:
            width = {"form": 12, "community": 26, "interviewer": 12, "date": 12}[column.key]
            entry.set_column(index, index, width, as_date if column.key == "date" else as_text)
        elif question.type == "text":
            entry.set_column(index, index, 30, as_text)
        elif question.type == "number":
            entry.set_column(index, index, 14)
        else:
            longest = max((len(o.text(lang)) for o in question.options), default=6)
            entry.set_column(index, index, min(max(14, longest * (1.1 if lang == "en" else 2.0) + 4), 40), as_text)
        _add_validation(entry, index, column, questionnaire, lang, list_ranges, len(communities), last)
    entry.set_row(0, 72)
    entry.freeze_panes(1, 1)
    entry.autofilter(0, 0, 0, len(columns) - 1 + len(extra_headers or []))
    for offset, header in enumerate(extra_headers or []):
        entry.write_string(0, len(columns) + offset, header, head_required)
        wide = offset == len(extra_headers) - 1
        entry.set_column(len(columns) + offset, len(columns) + offset, 60 if wide else 12, wrap if wide else None)

    notes = cell_notes or {}
    for r, values in enumerate(rows or [], start=1):
        for c, value in enumerate(values):
            mark = (r, c) in notes
            if value is None or (isinstance(value, float) and math.isnan(value)):
                if mark:
                    entry.write_blank(r, c, None, bad)
            elif isinstance(value, (datetime, date)):
                entry.write_datetime(r, c, value if isinstance(value, datetime) else datetime.combine(value, time()),
                                     bad_date if mark else as_date)
            elif isinstance(value, bool):
                entry.write_string(r, c, str(value), bad if mark else None)
            elif isinstance(value, (int, float)):
                entry.write_number(r, c, value, bad if mark else None)
            else:
                entry.write_string(r, c, str(value), bad if mark else None)
            if mark:
                entry.write_comment(r, c, notes[(r, c)], {"x_scale": 2, "author": "survey"})

    # ---- instructions
    guide.set_column(0, 0, 34, wrap)
    guide.set_column(1, 1, 70, wrap)
    guide.set_column(2, 2, 12, wrap)
    guide.set_column(3, 3, 44, wrap)
    guide.write(0, 0, f"{questionnaire.title.get(lang) or questionnaire.title.get('zh', '')} · "
                      f"{_msg(lang, '纸质问卷录入说明', 'how to type in paper questionnaires')}", title)
    rules = [
        _msg(lang, f"在“{ENTRY_SHEET[lang]}”表中，每份纸质问卷填一行，从第 2 行开始；不要修改、删除或调换第 1 行的列名。",
             f"In the sheet “{ENTRY_SHEET[lang]}”, type one row per paper questionnaire from row 2; do not rename, "
             f"delete or move the column headers in row 1."),
        _msg(lang, "橙色列名为必填列；“问卷编号”和“社区编码”每行都必须填写，问卷编号在文件内不能重复。",
             "Orange headers are required; every row needs a form number (unique in the file) and a community code."),
        _msg(lang, "选择题请从下拉列表选择选项文字，也可以填写选项序号（1、2、3…）。多选题的多个选项用“;”分隔（也可用“、”）。",
             "For choice questions pick the option text from the drop-down, or type the option number (1, 2, 3, …). "
             "For multiple choice separate several options with “;”."),
        _msg(lang, "跳题：按问卷的跳题规则不需要回答的题目请留空；甄别题（如居住不满半年、未满18岁）回答不符合条件时，后面的题目全部留空，该问卷不计入统计。",
             "Skip logic: leave questions empty that the questionnaire skips for this respondent; after a screening "
             "answer that ends the interview (e.g. under 18) leave everything else empty: such a form is not counted."),
        _msg(lang, "上传后系统会逐行检查并列出有错误的行号、列名和原因；可以只导入正确的行，下载被拒的行修改后再次上传。同一问卷编号重复上传不会重复计数，也不会覆盖已导入的问卷。",
             "After uploading every row is checked; errors are listed by row, column and reason. You can import only "
             "the valid rows and upload the corrected rejected rows later. Uploading a form number again never counts "
             "it twice and never overwrites the imported form."),
        _msg(lang, "每列的填写要求也写在第 1 行列名的批注里（鼠标移到列名上即可看到）。",
             "Each column's rules are also in the note on its header (hover over the header)."),
    ]
    for i, rule in enumerate(rules, start=2):
        guide.write_string(i, 0, f"{i - 1}.", bold)
        guide.write_string(i, 1, rule, wrap)
    top = len(rules) + 3
    guide.write_row(top, 0, [_msg(lang, "列名", "Column"), _msg(lang, "填写内容", "What to write"),
                             _msg(lang, "必填", "Required"), _msg(lang, "说明", "Notes")], head)
    for i, column in enumerate(columns, start=top + 1):
        what, note = _column_help(questionnaire, column, lang)
        required = column.key in ("form", "community") or (column.question is not None and column.question.required)
        guide.write_string(i, 0, column.header(lang), wrap)
        guide.write_string(i, 1, what, wrap)
        guide.write_string(i, 2, _msg(lang, "是" if required else "否", "yes" if required else "no"), wrap)
        guide.write_string(i, 3, note, wrap)
    guide.freeze_panes(top + 1, 0)
    guide.write_string(top + len(columns) + 2, 0,
                       _msg(lang, f"问卷：{questionnaire.code} 第 {questionnaire.version} 版",
                            f"Questionnaire: {questionnaire.code} version {questionnaire.version}"))
    book.close()
    return buffer.getvalue()


def _add_validation(sheet, index: int, column: _Column, questionnaire: Questionnaire, lang: str,
                    list_ranges: Mapping[str, str], n_communities: int, last: int) -> None:
    def clip(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "…"

    header = column.header(lang)
    options: dict[str, Any] = {"input_title": clip(header, 32)}
    if column.key == "form":
        options.update({"validate": "custom", "value": f"=COUNTIF($A$2:$A${last + 1},A2)=1",
                        "error_title": _msg(lang, "问卷编号重复", "Duplicate form number"),
                        "error_message": _msg(lang, "这个问卷编号在本表中已经出现过。", "This form number is already used in this sheet."),
                        "input_message": _msg(lang, "纸质问卷上的编号，必填，不能重复", "Number on the paper form; required, unique")})
    elif column.key == "community":
        if not n_communities:
            return
        options.update({"validate": "list", "source": f"='{LISTS_SHEET}'!$C$2:$C${n_communities + 1}",
                        # A typed bare code is fine too, so a different value only warns.
                        "error_type": "warning",
                        "error_title": _msg(lang, "社区编码", "Community code"),
                        "error_message": _msg(lang, "请从列表中选择社区，或填写有效的社区编码。",
                                              "Pick a community from the list or type a valid community code.")})
    elif column.key == "interviewer":
        options.update({"validate": "length", "criteria": "<=", "value": MAX_INTERVIEWER,
                        "error_message": _msg(lang, f"最多 {MAX_INTERVIEWER} 个字", f"At most {MAX_INTERVIEWER} characters")})
    elif column.key == "date":
        options.update({"validate": "date", "criteria": "between",
                        "minimum": datetime.combine(EARLIEST_DATE, time()), "maximum": datetime(2100, 12, 31),
                        "error_title": _msg(lang, "日期", "Date"),
                        "error_message": _msg(lang, "请填写日期，如 2026-05-01", "Please enter a date such as 2026-05-01"),
                        "input_message": _msg(lang, "如 2026-05-01；不填则记为导入时间", "e.g. 2026-05-01; empty = time of import")})
    else:
        question = column.question
        if question.type in CHOICE_TYPES:
            if question.code not in list_ranges:
                return
            options.update({"validate": "list", "source": list_ranges[question.code],
                            "error_title": _msg(lang, "选项", "Option"),
                            "error_message": clip(_msg(lang, "请从下拉列表中选择（也可填选项序号）。",
                                                       "Please pick from the drop-down (or type the option number)."), 255)})
            if question.type == "multiple_choice":
                # Several options in one cell are not in the list: no error, only the drop-down as help.
                options["show_error"] = False
                options["input_message"] = clip(_msg(lang, "可多选：多个选项用“;”分隔，如 1;3", "Several options: separate with “;”, e.g. 1;3"), 255)
        elif question.type == "number":
            low = question.min if question.min is not None else -1e15
            high = question.max if question.max is not None else 1e15
            options.update({"validate": "integer" if question.integer else "decimal", "criteria": "between",
                            "minimum": low, "maximum": high,
                            "error_title": _msg(lang, "数字", "Number"),
                            "error_message": clip(_msg(lang, f"请填写{_range_text(question, lang)}",
                                                       f"Please enter {_range_text(question, lang)}"), 255),
                            "input_message": clip(_range_text(question, lang), 255)})
        elif question.type == "text" and question.max_length:
            options.update({"validate": "length", "criteria": "<=", "value": int(question.max_length),
                            "error_message": _msg(lang, f"最多 {question.max_length} 个字", f"At most {question.max_length} characters")})
        else:
            return
    if "input_message" not in options:
        options.pop("input_title")
    sheet.data_validation(1, index, last, index, options)


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


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return _norm(value)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_paper_file(data: bytes, questionnaire: Questionnaire, areas: pd.DataFrame, lang: str = "zh",
                    *, round_code: str | None = None, today: date | None = None) -> PaperImport:
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
    rows = sheet.iter_rows(values_only=True)
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


@lru_cache(maxsize=8192)
def _split_key(text: str) -> str:
    """A label's comparison key with its inner separators unified, so 电视、广播 == 电视,广播."""
    return "、".join(part for part in _WEAK_SEPARATORS.split(_norm_key(text)) if part)


def _option_lookup(question: Question) -> dict[str, str]:
    """Comparison key -> option code: labels in both languages, codes, and 1-based numbers."""
    lookup: dict[str, str] = {}
    for lang in ("zh", "en"):
        for option in question.options:
            lookup.setdefault(_split_key(option.text(lang)), option.code)
    for number, option in enumerate(question.options, start=1):
        lookup.setdefault(_split_key(option.code), option.code)
        lookup.setdefault(str(number), option.code)
    return lookup


def _options_hint(question: Question, lang: str) -> str:
    return _msg(lang, "可选：", "options: ") + _msg(lang, "、", ", ").join(o.text(lang) for o in question.options)


def _read_answer(question: Question, value: Any, lookup: Mapping[str, str] | None, lang: str) -> tuple[Any, str | None]:
    if question.type in CHOICE_TYPES:
        text = _cell_text(value)
        if question.type != "multiple_choice":
            code = lookup.get(_split_key(text))
            if code is None:
                return None, _msg(lang, f"无法识别的选项“{text}”（{_options_hint(question, lang)}）",
                                  f"unknown option “{text}” ({_options_hint(question, lang)})")
            return code, None
        codes, unknown = [], []
        for part in _STRONG_SEPARATORS.split(_norm_key(text)):
            pieces = [p for p in _WEAK_SEPARATORS.split(part.strip()) if p]
            found, leftover = _segment(pieces, lookup)
            codes.extend(c for c in found if c not in codes)
            unknown.extend(leftover)
        if unknown:
            shown = _msg(lang, "、", ", ").join(unknown)
            return None, _msg(lang, f"无法识别的选项“{shown}”（多个选项用“;”分隔；{_options_hint(question, lang)}）",
                              f"unknown option “{shown}” (separate several with “;”; {_options_hint(question, lang)})")
        return codes, None
    if question.type == "number":
        number = _number(value)
        if number is None:
            return None, _msg(lang, f"“{_cell_text(value)}”不是数字，请填写{_range_text(question, lang)}",
                              f"“{_cell_text(value)}” is not a number: enter {_range_text(question, lang)}")
        return number, None  # range and whole-number checks: answer_problems
    if isinstance(value, (datetime, date)):
        return value.isoformat(), None
    return (_cell_text(value) if isinstance(value, (int, float)) else str(value).strip()), None


def _segment(pieces: list[str], lookup: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Split pieces (a label may itself contain 、) into the fewest known options; unknown pieces back."""
    n = len(pieces)
    best: list[tuple[int, list[str]] | None] = [None] * (n + 1)  # best[i]: (unknown count, codes) for pieces[i:]
    best[n] = (0, [])
    unknown_at: dict[int, list[str]] = {n: []}
    for i in range(n - 1, -1, -1):
        choice = None
        for j in range(n, i, -1):
            code = lookup.get("、".join(pieces[i:j]))
            if code is not None and best[j] is not None:
                candidate = (best[j][0], [code, *best[j][1]])
                if choice is None or candidate[0] < choice[0] or (candidate[0] == choice[0] and len(candidate[1]) < len(choice[1])):
                    choice, unknown_at[i] = candidate, unknown_at[j]
        skip = (best[i + 1][0] + 1, best[i + 1][1])
        if choice is None or skip[0] < choice[0]:
            choice, unknown_at[i] = skip, [pieces[i], *unknown_at[i + 1]]
        best[i] = choice
    return best[0][1], unknown_at[0]


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = value
    else:
        text = _norm(value).replace(",", "")
        try:
            number = float(text)
        except ValueError:
            return None
    if not math.isfinite(number):
        return None
    return int(number) if float(number).is_integer() else float(number)


# ----------------------------------------------------------------------------- rejected rows


def rejected_rows_xlsx(paper_import: PaperImport) -> bytes:
    """The rejected rows as an .xlsx to download, fix and upload again: the template's columns,
    drop-downs and checks, the bad cells marked with their message, plus 行号 (row in the uploaded
    file) and 错误 (every problem of the row)."""
    lang = paper_import.lang
    frame = paper_import.rejected_rows
    extra = list(EXTRA_COLUMNS[lang])
    if paper_import.questionnaire is None:
        buffer = io.BytesIO()
        frame.rename(columns=dict(zip((ROW_COLUMN, ERROR_COLUMN), extra))).to_excel(
            buffer, sheet_name=ENTRY_SHEET[lang], index=False, engine="xlsxwriter")
        return buffer.getvalue()
    columns = _columns(paper_import.questionnaire)
    file_headers = [c for c in frame.columns if c not in (ROW_COLUMN, ERROR_COLUMN)]
    by_key = {_norm_key(h): h for h in file_headers}
    template_source = []
    for column in columns:
        names = [*column.headers] + ([column.question.code] if column.question else [])
        template_source.append(next((by_key[_norm_key(n)] for n in names if _norm_key(n) in by_key), None))
    matched = {h for h in template_source if h}
    others = [h for h in file_headers if h not in matched]
    layout = [*template_source, *others]
    position = {h: i for i, h in enumerate(layout) if h}
    rows, notes = [], {}
    for r, record in enumerate(frame.to_dict("records"), start=1):
        values = [None if not h or _missing(record.get(h)) else record.get(h) for h in layout]
        rows.append([*values, record.get(ROW_COLUMN), record.get(ERROR_COLUMN)])
        for column_index, message in paper_import.cell_errors.get(record.get(ROW_COLUMN), []):
            header = paper_import.headers[column_index] if column_index < len(paper_import.headers) else None
            if header in position:
                key = (r, position[header])
                notes[key] = f"{notes[key]}\n{message}" if key in notes else message
    return _workbook(paper_import.questionnaire, paper_import.areas, lang, rows=rows,
                     extra_headers=[*others, *extra], cell_notes=notes)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------- import


def import_paper(session: Session, survey_round: SurveyRound, questionnaire: Questionnaire,
                 paper_import: PaperImport, only_valid: bool, actor: str | None) -> int:
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
    try:
        added = bulk_import(session, survey_round, questionnaire, records, channel="paper", lang=lang)
    except SubmissionRefused as refused:
        raise SubmissionRefused(_rows_named(refused.messages, records, questionnaire, lang)) from None
    accounts.record(session, actor, "import.paper", survey_round.code, rows=len(records), rejected=rejected,
                    new=added, already=len(records) - added)
    return added


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
