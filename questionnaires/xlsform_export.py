"""XLSForm export: a questionnaire as an .xlsx workbook ODK's own tools accept.

pyxform converts every export without error or warning and ODK Validate accepts it (see the tests);
`read_xlsform(write_xlsform(q))` gives back `q` exactly. Labels are written `label::中文 (zh)` /
`label::English (en)`; the settings sheet carries no `title::English` (pyxform fails on it) and puts
the English title, intro and thanks in our own columns; screening is written in terms ODK Collect
obeys (a closing note and "screening passed" in front of every later question's condition), which the
import takes off again. A note is a `note` row; a "please specify" option is named in our `specify`
column and its text box written as the ODK row `<code>_other` (our_type `specify`); at most N choices and
exclusive options are the constraint ODK's documentation writes; `randomize` is the parameter
`randomize=true`.
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from .loader import DEFAULT_INVALID, DEFAULT_OPTIONS, DEFAULT_POSITIVE
from .model import CHOICE_TYPES, DATE_TYPES, Question, Questionnaire

__all__ = ["write_xlsform", "write_xlsform_file", "screening_condition", "XLSFORM_TYPES", "DATE_FUNCTIONS"]

# Our date kinds as ODK writes them, and the XPath function that makes a date of a text in ODK's
# comparisons (`${visit} >= date('2024-01-01')`: a bare '2024-01-01' is no date to ODK Collect).
XLSFORM_TYPES = {"date": "date", "time": "time", "datetime": "dateTime"}
DATE_FUNCTIONS = {"date": "date", "datetime": "date-time"}

# Written as "Name (code)": pyxform and ODK Collect then know the language's code and do not warn.
WRITE_LANGUAGE_NAMES = {"zh": "中文 (zh)", "en": "English (en)"}
NONE_MARKER = "-"  # in positive / invalid: "explicitly none", overriding the type's default
# our_type of the note the export adds after a screening question; the import drops that row again.
SCREENING_END = "screening_end"
SCREENING_END_SUFFIX = "_screened_out"
# our_type of the "please specify" text row written after a question with a `specify` option (ODK
# needs the row to collect the text; the import makes it from the option again).
SPECIFY_ROW = "specify"


def _number_text(value: int | float) -> str:
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:.1f}"
        return format(Decimal(repr(value)), "f")
    return str(value)


def _constraint(question: Question) -> str:
    if question.type == "number":
        parts = []
        if question.min is not None:
            parts.append(f". >= {_number_text(question.min)}")
        if question.max is not None:
            parts.append(f". <= {_number_text(question.max)}")
        return " and ".join(parts)
    if question.type == "text" and question.max_length is not None:
        return f"string-length(.) <= {question.max_length}"
    if question.type == "date":
        bounds = ((">=", question.earliest), ("<=", question.latest))
        return " and ".join(f". {op} date('{day}')" for op, day in bounds if day)
    if question.type == "multiple_choice":
        parts = [f"count-selected(.) <= {question.max_choices}"] if question.max_choices is not None else []
        parts += [f"not(selected(., '{code}') and count-selected(.) > 1)"
                  for code in question.option_codes if code in question.exclusive]
        return " and ".join(parts)
    return ""


def _default_positive(question: Question) -> frozenset:
    if question.type == "quiz":
        return question.correct
    return frozenset(c for c in DEFAULT_POSITIVE.get(question.type, ()) if c in question.option_codes)


def _default_invalid(question: Question) -> frozenset:
    return frozenset(c for c in DEFAULT_INVALID.get(question.type, ()) if c in question.option_codes)


def _codes_cell(question: Question, codes: frozenset, default: frozenset | None = None) -> str:
    """Space-separated option codes in option order; blank when the type's default gives the same."""
    if default is not None and codes == default:
        return ""
    if not codes:
        return NONE_MARKER
    return " ".join(c for c in question.option_codes if c in codes)


def _choice_lists(questionnaire: Questionnaire) -> tuple[dict[str, str], list[tuple[str, tuple]]]:
    """Question code -> list name, and the lists in order. Questions with identical options share a list."""
    by_options: dict[tuple, str] = {}
    lists: list[tuple[str, tuple]] = []
    used: set[str] = set()
    names: dict[str, str] = {}
    for question in questionnaire.questions:
        if question.type not in CHOICE_TYPES:
            continue
        key = tuple((o.code, tuple(sorted(o.label.items()))) for o in question.options)
        if key in by_options:
            names[question.code] = by_options[key]
            continue
        if question.type in DEFAULT_OPTIONS and question.options == DEFAULT_OPTIONS[question.type] and question.type not in used:
            name = question.type
        else:
            name, n = question.code, 2
            while name in used:
                name, n = f"{question.code}_{n}", n + 1
        used.add(name)
        by_options[key] = name
        names[question.code] = name
        lists.append((name, question.options))
    return names, lists


def screening_condition(question: Question) -> str:
    """The XLSForm condition "this screening question was passed", as ODK evaluates it."""
    eligible = [c for c in question.option_codes if c in question.screening_eligible]
    parts = [f"${{{question.code}}} = '{code}'" for code in eligible]
    if not parts:
        return "false()"
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _with_screening(relevant: str | None, screening: str | None) -> str | None:
    """ODK Collect knows nothing of our screening rule, so every question after a screening question is
    exported with "screening passed" in front of its own condition; the import takes it off again."""
    if not screening:
        return relevant
    return f"{screening} and ({relevant})" if relevant else screening


def odk_dates(relevant: str | None, questionnaire: Questionnaire) -> str | None:
    """A condition as ODK Collect reads it: a date compared with `date('2024-01-01')`, a date-time with
    `date-time('2024-05-01T08:30')` (the import turns them back into the plain text ours compares)."""
    if not relevant:
        return relevant
    kinds = {q.code: DATE_FUNCTIONS[q.type] for q in questionnaire.questions if q.type in DATE_FUNCTIONS}
    if not kinds:
        return relevant
    from .logic import tokenize

    tokens = tokenize(relevant)
    out, last = [], 0
    for i, token in enumerate(tokens):
        if token.kind != "STRING" or token.value == "":
            continue
        neighbours = [tokens[j] for j in (i - 2, i + 2) if 0 <= j < len(tokens)
                      and tokens[(i + j) // 2].kind == "OP" and tokens[j].kind == "REF"]
        function = next((kinds[n.value] for n in neighbours if n.value in kinds), None)
        if function is None:
            continue
        end = token.position + len(token.value) + 2
        out.append(relevant[last:token.position] + f"{function}({relevant[token.position:end]})")
        last = end
    return "".join(out) + relevant[last:]


def _strip_screening(relevant: str, screening: str | None) -> str:
    """The question's own condition, without the screening part `_with_screening` put in front."""
    if not screening:
        return relevant
    if relevant == screening:
        return ""
    prefix = f"{screening} and ("
    if relevant.startswith(prefix) and relevant.endswith(")"):
        return relevant[len(prefix):-1]
    return relevant


def _screening_end_row(question: Question) -> dict[str, Any]:
    """A note ODK shows to a respondent who fails screening; every later question is then hidden."""
    return {
        "type": "note",
        "name": f"{question.code}{SCREENING_END_SUFFIX}",
        ZH_LABEL: "感谢您的参与！您不在本次调查的范围内，访问到此结束。",
        EN_LABEL: "Thank you! You are not in this survey's population; the interview ends here.",
        "relevant": f"not({screening_condition(question)})",
        "our_type": SCREENING_END,
    }


def _note_row(question: Question, section_cell: str, screening: str | None) -> dict[str, Any]:
    help_ = question.help or {}
    return {
        "type": "note",
        "name": question.code,
        ZH_LABEL: question.label.get("zh"),
        EN_LABEL: question.label.get("en"),
        ZH_HINT: help_.get("zh"),
        EN_HINT: help_.get("en"),
        "relevant": _with_screening(question.relevant, screening),
        "section": section_cell,
    }


def _question_row(question: Question, list_name: str | None, section_cell: str, screening: str | None = None) -> dict[str, Any]:
    if question.is_note:
        return _note_row(question, section_cell, screening)
    if question.other_of is not None:
        # ODK needs the row to collect the text; the import drops it and makes it from `specify` again.
        row = _question_row(replace(question, other_of=None), None, section_cell, screening)
        row["our_type"] = SPECIFY_ROW
        return row
    if question.type in CHOICE_TYPES:
        xls_type = f"{'select_multiple' if question.type == 'multiple_choice' else 'select_one'} {list_name}"
    elif question.type == "number":
        xls_type = "integer" if question.integer else "decimal"
    elif question.type in DATE_TYPES:
        xls_type = XLSFORM_TYPES[question.type]
    else:
        xls_type = "text"
    help_ = question.help or {}
    row = {
        "type": xls_type,
        "name": question.code,
        ZH_LABEL: question.label.get("zh"),
        EN_LABEL: question.label.get("en"),
        ZH_HINT: help_.get("zh"),
        EN_HINT: help_.get("en"),
        "required": "yes" if question.required else "no",
        "relevant": _with_screening(question.relevant, screening),
        "constraint": _constraint(question),
        "our_type": question.type if question.type in ("yes_no", "satisfaction", "quiz") else None,
        "indicator": question.indicator,
        "section": section_cell,
        "demographic": question.demographic,
    }
    if question.type in CHOICE_TYPES:
        row["positive"] = _codes_cell(question, question.positive, _default_positive(question))
        row["invalid"] = _codes_cell(question, question.invalid, _default_invalid(question))
        row["correct"] = _codes_cell(question, question.correct) if question.correct else None
        if question.screening_eligible is not None:
            row["screening_eligible"] = _codes_cell(question, question.screening_eligible)
        row["specify"] = question.specify
        row["parameters"] = "randomize=true" if question.randomize else None
    return row


ZH_LABEL, EN_LABEL = f"label::{WRITE_LANGUAGE_NAMES['zh']}", f"label::{WRITE_LANGUAGE_NAMES['en']}"
ZH_HINT, EN_HINT = f"hint::{WRITE_LANGUAGE_NAMES['zh']}", f"hint::{WRITE_LANGUAGE_NAMES['en']}"
SURVEY_HEADERS = (
    "type", "name", ZH_LABEL, EN_LABEL, ZH_HINT, EN_HINT, "required", "relevant",
    "constraint", "parameters", "our_type", "indicator", "positive", "invalid", "correct", "screening_eligible",
    "demographic", "section", "specify",
)
CHOICES_HEADERS = ("list_name", "name", ZH_LABEL, EN_LABEL)
# No "title::English": pyxform takes a settings column with "::" for a translation and then fails
# ("'dict' object has no attribute 'nodeType'"). The texts ODK has no place for go in our own columns.
SETTINGS_HEADERS = (
    "form_id", "version", "form_title", "default_language",
    "our_title_en", "our_intro_zh", "our_intro_en", "our_thanks_zh", "our_thanks_en",
)


def _survey_rows(questionnaire: Questionnaire) -> tuple[list[dict], list[tuple[str, tuple]]]:
    """Groups follow the order of `sections`; a question that cannot sit in its section's group (the
    section's questions are not consecutive, or the section is not declared) names it in the section column."""
    list_names, lists = _choice_lists(questionnaire)
    declared = [s.code for s in questionnaire.sections]
    titles = {s.code: s.title for s in questionnaire.sections}
    emitted: set[str] = set()
    rows: list[dict] = []
    open_group: str | None = None

    def begin(code: str) -> None:
        rows.append({"type": "begin group", "name": code,
                     ZH_LABEL: titles[code].get("zh"), EN_LABEL: titles[code].get("en")})
        emitted.add(code)

    def end() -> None:
        rows.append({"type": "end group", "name": None})

    def declare_up_to(code: str) -> None:
        for earlier in declared[: declared.index(code)]:
            if earlier not in emitted:
                begin(earlier)
                end()

    screening: list[str] = []
    for question in questionnaire.questions:
        section = question.section
        if open_group is not None and section != open_group:
            end()
            open_group = None
        if open_group is None and section in titles and section not in emitted:
            declare_up_to(section)
            begin(section)
            open_group = section
        section_cell = "" if open_group is not None else (section or "")
        odk = replace(question, relevant=odk_dates(question.relevant, questionnaire))
        rows.append(_question_row(odk, list_names.get(question.code), section_cell, " and ".join(screening)))
        if question.is_screening:
            rows.append(_screening_end_row(question))
            screening.append(screening_condition(question))
    if open_group is not None:
        end()
    for code in declared:
        if code not in emitted:
            begin(code)
            end()
    return rows, lists


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _write_sheet(worksheet, headers: tuple[str, ...], rows: list[dict]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    worksheet.append(list(headers))
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    for row in rows:
        worksheet.append([row.get(h) if row.get(h) not in ("",) else None for h in headers])
        for cell in worksheet[worksheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a label starting with "=" is text, not a formula
    worksheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        values = [header] + [str(row.get(header) or "") for row in rows]
        width = max(_display_width(v) for v in values) + 2
        worksheet.column_dimensions[get_column_letter(index)].width = max(8, min(width, 60))


def write_xlsform(questionnaire: Questionnaire) -> bytes:
    """The questionnaire as an XLSForm .xlsx workbook (survey, choices and settings sheets)."""
    import openpyxl

    survey_rows, lists = _survey_rows(questionnaire)
    choice_rows = [
        {"list_name": name, "name": option.code, ZH_LABEL: option.label.get("zh"), EN_LABEL: option.label.get("en")}
        for name, options in lists
        for option in options
    ]
    settings_row = {
        "form_id": questionnaire.code,
        "version": questionnaire.version,
        "form_title": questionnaire.title.get("zh"),
        "default_language": WRITE_LANGUAGE_NAMES["zh"],
        "our_title_en": questionnaire.title.get("en"),
        "our_intro_zh": (questionnaire.intro or {}).get("zh"),
        "our_intro_en": (questionnaire.intro or {}).get("en"),
        "our_thanks_zh": (questionnaire.thanks or {}).get("zh"),
        "our_thanks_en": (questionnaire.thanks or {}).get("en"),
    }
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    _write_sheet(survey, SURVEY_HEADERS, survey_rows)
    _write_sheet(workbook.create_sheet("choices"), CHOICES_HEADERS, choice_rows)
    _write_sheet(workbook.create_sheet("settings"), SETTINGS_HEADERS, [settings_row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_xlsform_file(questionnaire: Questionnaire, path: str | Path) -> Path:
    """Write the questionnaire as an XLSForm .xlsx file; returns the path."""
    path = Path(path)
    path.write_bytes(write_xlsform(questionnaire))
    return path
