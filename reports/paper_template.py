"""The paper questionnaire workbooks users download; ``data.paper`` reads them back.

The template is an .xlsx with one row per paper form, drop-down lists of the option labels in the
user's language (warning style, so an option's number may be typed too), number and date checks,
header notes with skip conditions, and a sheet of instructions.  The rejected rows of a checked file
come back in the same layout, each bad cell marked with its message, to fix and upload again."""

from __future__ import annotations

import io
import math
from datetime import date, datetime, time
from typing import Any, Mapping

import pandas as pd

from data.paper import PaperImport
from data.paper_layout import (
    EARLIEST_DATE, ENTRY_SHEET, ERROR_COLUMN, EXTRA_COLUMNS, INSTRUCTIONS_SHEET, LISTS_SHEET, MAX_INTERVIEWER, ROW_COLUMN,
    TEMPLATE_ROWS, _Column, _columns, _lang, _msg,
)
from data.scope import Scope, restrict_areas
from questionnaires import Question, Questionnaire
from questionnaires.logic import And, Call, Compare, Not, Or, Ref, Selected
from questionnaires import dates
from questionnaires.model import CHOICE_TYPES, DATE_TYPES
from questionnaires.typed_answers import comparison_key as _norm_key, range_text as _range_text, show_number as _show
from reports.safe_cells import XLSXWRITER_OPTIONS

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


def _choice_limits_text(question: Question, lang: str) -> str:
    """At most N choices, and the options that go alone (以上都没有), in words; '' when neither."""
    parts = []
    if question.max_choices is not None:
        parts.append(_msg(lang, f"最多选 {question.max_choices} 项", f"at most {question.max_choices} options"))
    for code in question.option_codes:
        if code in question.exclusive:
            parts.append(_msg(lang, f"选“{question.option_label(code, lang)}”时不能再选其他项",
                              f"“{question.option_label(code, lang)}” goes alone"))
    if not parts:
        return ""
    return _msg(lang, "（" + "；".join(parts) + "）", " (" + "; ".join(parts) + ")")


def _question_numbers(questionnaire: Questionnaire) -> dict[str, int]:
    return questionnaire.question_numbers()


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
        if isinstance(side, Call):
            if side.function == "count-selected":
                return _msg(lang, f"{ref(side.ref.code)}所选项数", f"the number of options chosen in {ref(side.ref.code)}")
            return _msg(lang, f"{ref(side.ref.code)}的字数", f"the length of {ref(side.ref.code)}")
        if side.value == "" and isinstance(other, Ref):
            return _msg(lang, "空（未回答）", "empty (not answered)")
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
        what += _choice_limits_text(question, lang)
    elif question.type in CHOICE_TYPES:
        what = _msg(lang, f"单选题：从下拉列表选择（也可填选项序号）。选项：{_option_number_text(question, lang)}",
                    f"Single choice: pick from the drop-down (or type the option number). Options: "
                    f"{_option_number_text(question, lang)}")
    elif question.type == "number":
        what = _msg(lang, f"填写{_range_text(question, lang)}", f"Write {_range_text(question, lang)}")
    elif question.type in DATE_TYPES:
        what = _msg(lang, f"填写{_date_text(question, lang)}", f"Write {_date_text(question, lang)}")
    else:
        what = _msg(lang, "文字", "Text")
        if question.max_length:
            what += _msg(lang, f"，最多 {question.max_length} 个字", f", at most {question.max_length} characters")
    notes = [_msg(lang, "必填", "required") if question.required else _msg(lang, "选填", "optional")]
    if question.other_of is not None:
        parent = questionnaire.question(question.other_of)
        notes[0] = _msg(lang, f"第{_question_numbers(questionnaire)[parent.code]}题选了“{parent.option_label(parent.specify, 'zh')}”时"
                              f"{'必填' if question.required else '选填'}，否则留空",
                        f"{'required' if question.required else 'optional'} when Q{_question_numbers(questionnaire)[parent.code]} "
                        f"includes “{parent.option_label(parent.specify, 'en')}”; otherwise leave empty")
    condition = condition_text(questionnaire, question, lang) if question.other_of is None else ""
    if condition:
        notes.append(_msg(lang, f"跳题：仅当 {condition} 时填写，否则留空", f"skip logic: answer only if {condition}; otherwise leave empty"))
    if question.is_screening:
        allowed = "、".join(question.option_label(c, lang) for c in question.option_codes if c in question.screening_eligible)
        notes.append(_msg(lang, "甄别题：回答其他选项时后面各题留空（不计入统计）",
                          f"screening: with any answer other than {allowed} leave the rest empty (not counted)"))
    return what, _msg(lang, "；", "; ").join(notes)


def paper_template(questionnaire: Questionnaire, areas: pd.DataFrame, lang: str = "zh", *, scope: Scope) -> bytes:
    """The Excel template for typing in paper questionnaires of ``questionnaire`` (xlsx bytes); its
    community list holds only the communities of ``scope``."""
    return _workbook(questionnaire, restrict_areas(scope, areas), _lang(lang))


def _workbook(questionnaire: Questionnaire, areas: pd.DataFrame, lang: str,
              rows: list[list] | None = None, extra_headers: list[str] | None = None,
              cell_notes: Mapping[tuple[int, int], str] | None = None) -> bytes:
    import xlsxwriter

    columns = _columns(questionnaire)
    communities = _communities(areas)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, **XLSXWRITER_OPTIONS})
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
    # Date and time questions' columns show what Excel holds as the ISO text the survey stores.
    date_formats = {kind: book.add_format({"num_format": PAPER_FORMATS[kind]}) for kind in DATE_TYPES}
    bad_date_formats = {kind: book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": PAPER_FORMATS[kind]})
                        for kind in DATE_TYPES}

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
        elif question.type in DATE_TYPES:
            entry.set_column(index, index, 18 if question.type == "datetime" else 12, date_formats[question.type])
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
    cell_kinds = {i: column.question.type for i, column in enumerate(columns)
                  if column.question is not None and column.question.type in DATE_TYPES}
    for r, values in enumerate(rows or [], start=1):
        for c, value in enumerate(values):
            mark = (r, c) in notes
            if value is None or (isinstance(value, float) and math.isnan(value)):
                if mark:
                    entry.write_blank(r, c, None, bad)
            elif isinstance(value, (datetime, date, time)):
                # A date, time or date-time cell shown as its column asks (a rejected row comes back as typed).
                kind = cell_kinds.get(c)
                shown = (bad_date_formats if mark else date_formats)[kind] if kind else (bad_date if mark else as_date)
                entry.write_datetime(r, c, value if isinstance(value, (datetime, time)) else datetime.combine(value, time()),
                                     shown)
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


def clip(text: str, n: int) -> str:
    """A text cut to Excel's limit for a validation title (32) or message (255)."""
    return text if len(text) <= n else text[: n - 1] + "…"


def _add_validation(sheet, index: int, column: _Column, questionnaire: Questionnaire, lang: str,
                    list_ranges: Mapping[str, str], n_communities: int, last: int) -> None:
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
            # "warning", not Excel's default "stop": the instructions allow typing the option number, which
            # is not in the list of labels, and "stop" would refuse it.
            options.update({"validate": "list", "source": list_ranges[question.code], "error_type": "warning",
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
        elif question.type in DATE_TYPES:
            options.update(_date_validation(question, lang))
        elif question.type == "text" and question.max_length:
            options.update({"validate": "length", "criteria": "<=", "value": int(question.max_length),
                            "error_message": _msg(lang, f"最多 {question.max_length} 个字", f"At most {question.max_length} characters")})
        else:
            return
    if "input_message" not in options:
        options.pop("input_title")
    sheet.data_validation(1, index, last, index, options)


# The cell formats of date and time columns: Excel shows a typed 2024/5/1 or 8:30 as the survey writes it.
PAPER_FORMATS = {"date": "yyyy-mm-dd", "time": "hh:mm", "datetime": "yyyy-mm-dd hh:mm"}


def _date_text(question: Question, lang: str) -> str:
    """'2024-01-01 到 2026-12-31 之间的日期（如 2024-05-01）' / 'a time such as 08:30' …"""
    example = dates.shown(question.type, dates.EXAMPLES[question.type])
    if question.earliest or question.latest:
        return dates.bounds_text(question.type, question.earliest, question.latest, lang) + _msg(
            lang, f"（如 {example}）", f" (e.g. {example})")
    return dates.kind_text(question.type, lang)


def _date_validation(question: Question, lang: str) -> dict[str, Any]:
    """Excel's own date or time check: what the header note asks for, in the question's bounds. A date
    with a time is checked as a date from the first to the last minute of the span (Excel holds both as
    numbers of days)."""
    low = dates.as_object("date", question.earliest) or date(1900, 1, 1)
    high = dates.as_object("date", question.latest) or date(2100, 12, 31)
    if question.type == "time":
        check = {"validate": "time", "criteria": "between", "minimum": time(0, 0), "maximum": time(23, 59, 59)}
    else:
        check = {"validate": "date", "criteria": "between", "minimum": datetime.combine(low, time()),
                 "maximum": datetime.combine(high, time(23, 59, 59) if question.type == "datetime" else time())}
    title = dates.KIND_WORDS[question.type][0 if lang != "en" else 1]
    return {**check, "error_title": title[:32],
            "error_message": clip(_msg(lang, f"请填写{_date_text(question, lang)}", f"Please enter {_date_text(question, lang)}"), 255),
            "input_message": clip(_date_text(question, lang), 255)}


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
        with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": XLSXWRITER_OPTIONS}) as writer:
            frame.rename(columns=dict(zip((ROW_COLUMN, ERROR_COLUMN), extra))).to_excel(
                writer, sheet_name=ENTRY_SHEET[lang], index=False)
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
