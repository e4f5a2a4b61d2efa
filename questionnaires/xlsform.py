"""XLSForm (ODK / KoboToolbox spreadsheet) import and export for questionnaires.

An XLSForm is an .xlsx workbook with the sheets `survey`, `choices` and `settings`. `read_xlsform`
turns one into the plain dict a YAML file would give and validates it with `parse_questionnaire`, so
an imported form obeys exactly the same rules as a YAML file; `write_xlsform` does the reverse, and
`read_xlsform(write_xlsform(q)).to_dict() == q.to_dict()` holds for every valid questionnaire.

Nothing is silently dropped: an unsupported type, column, constraint or sheet is reported. Every
problem of a workbook is collected first and raised once as `XLSFormError`, whose `.errors` name the
sheet, the Excel row number (as the user sees it) and the column, in Chinese and English. Problems
found by `parse_questionnaire` are translated back to the row and column they came from.

The format, including our extension columns, is described in XLSFORM.md in this folder; the export
lives in xlsform_export.py.

Why this module is long (about 1,600 lines): it is one pipeline with one error model (every problem
located at sheet, row and column, every warning likewise, loader messages translated back to cells);
splitting the stages apart would spread that shared state over several modules. Its sections:
vocabulary, errors, reading cells (pyxform), languages and names, reading the form, loader messages.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from . import dates
from .loader import parse_questionnaire
from .logic import ConditionError, parse_condition
from .model import DATE_TYPES, Option, Question, Questionnaire, QuestionnaireError
from .xlsform_export import (  # noqa: F401 - write_xlsform and write_xlsform_file are part of this module's API
    NONE_MARKER, SCREENING_END, SPECIFY_ROW, WRITE_LANGUAGE_NAMES, _strip_screening, screening_condition, write_xlsform,
    write_xlsform_file,
)
from .model import OTHER_SUFFIX

__all__ = ["XLSFormError", "import_xlsform", "read_xlsform", "write_xlsform", "write_xlsform_file"]

# What a workbook may cost to read (docs/security.md); the worker process of data.uploads bounds the rest.
MAX_SHEET_ROWS = 5000
MAX_CONSTRAINT_CHARS = 200
MAX_NUMBER_CHARS = 30


class XLSFormError(QuestionnaireError):
    """An XLSForm workbook cannot be imported; `.errors` lists every problem, each naming sheet, row and column.

    A subclass of QuestionnaireError (and so of ValueError): code that reports invalid questionnaire
    files handles an invalid workbook the same way.
    """


# ---------------------------------------------------------------------------------------------- vocabulary

SHEETS = ("survey", "choices", "settings")
# Sheets of the XLSForm standard we cannot represent: a non-empty one is an error, not ignored.
UNSUPPORTED_SHEETS = ("external_choices", "entities", "osm")

LANGUAGE_ALIASES = {
    "zh": ("zh", "zh-cn", "zh-hans", "zh-sg", "cn", "chinese", "中文", "汉语", "简体中文", "chinese (simplified)"),
    "en": ("en", "en-us", "en-gb", "english", "英文", "英语"),
}
_LANGUAGES = {alias: code for code, aliases in LANGUAGE_ALIASES.items() for alias in aliases}

# Columns that may carry a language suffix (`label::中文`).
TRANSLATABLE = {
    "survey": ("label", "hint"),
    "choices": ("label",),
    "settings": ("title", "intro", "thanks"),
}
SURVEY_COLUMNS = (
    "type", "name", "label", "hint", "required", "relevant", "constraint",
    # our extensions
    "our_type", "indicator", "positive", "invalid", "correct", "screening_eligible", "demographic", "section", "specify",
)
EXTENSION_COLUMNS = ("our_type", "indicator", "positive", "invalid", "correct", "screening_eligible", "demographic", "section",
                     "specify")
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_id", "version", "title", "intro", "thanks", "default_language")
# Display or bookkeeping columns that do not change what is asked or how it is counted.
IGNORABLE_COLUMNS = {
    # calculation: its calculate rows are reported (and left out) on their own; parameters: read where they
    # change what is asked (range), else display only (randomize, max-pixels, audit settings)
    "survey": ("appearance", "constraint_message", "required_message", "guidance_hint", "comment", "comments", "note_to_translator",
               "calculation", "parameters"),
    "choices": ("comment", "comments"),
    "settings": ("style", "instance_name", "submission_url", "public_key", "auto_send", "auto_delete",
                 "namespaces", "allow_choice_duplicates", "clean_text_values", "comment", "comments"),
}
# Standard XLSForm columns whose behaviour we cannot reproduce: a non-empty cell is an error.
UNSUPPORTED_COLUMNS = {
    "survey": ("calculation", "default", "choice_filter", "repeat_count", "read_only", "parameters", "trigger",
               "image", "big-image", "audio", "video", "media", "body", "bind", "instance", "label_media", "hxl"),
    "choices": ("image", "big-image", "audio", "video", "media", "filter"),
    "settings": (),
}
MEDIA_COLUMNS = ("media", "image", "big-image", "audio", "video")
# Why a standard XLSForm column is ignored (it is reported with its rows as a warning).
UNSUPPORTED_COLUMN_REASONS = {
    "default": ("问卷不预先填写答案", "answers are never pre-filled"),
    "calculation": ("不支持计算（calculate）", "calculations are not supported"),
    "choice_filter": ("选项总是全部显示", "every option is always shown"),
    "read_only": ("问题总可作答", "every question can be answered"),
    "repeat_count": ("不支持重复组", "repeats are not supported"),
    **{media: ("问卷只显示文字，不显示图片、音频或视频", "the survey shows text only, no pictures, audio or video")
       for media in ("image", "big-image", "audio", "video", "media", "label_media")},
    "bind": ("ODK 专用的绑定属性", "ODK-specific bind attributes"),
    "body": ("ODK 专用的显示属性", "ODK-specific display attributes"),
    "instance": ("ODK 专用的实例属性", "ODK-specific instance attributes"),
    "parameters": ("ODK 专用的参数", "ODK-specific parameters"),
    "trigger": ("不支持触发重算", "triggers are not supported"),
    "hxl": ("不保留 Kobo 的 HXL 数据标签", "Kobo's HXL data tags are not kept"),
}
MULTI_VALUE_COLUMNS = ("positive", "invalid", "correct", "screening_eligible")

METADATA_TYPES = ("start", "end", "today", "deviceid", "username", "phonenumber", "simserial", "subscriberid",
                  "audit", "email", "imei", "start-geopoint", "background-audio")
OUR_SELECT_ONE_TYPES = ("single_choice", "yes_no", "satisfaction", "quiz")
_GEO = ("位置", "location")
_MEDIA = ("图片、音频、视频和文件", "pictures, audio, video and files")
# XLSForm types the survey cannot honour: (construct, zh, en), reported once per construct with its rows.
_REFUSED_TYPES = {
    **{kind: ("geo", "不支持位置题（geopoint、geotrace、geoshape）：市民问卷不采集位置",
              "location types (geopoint, geotrace, geoshape) are not supported: the citizens' survey collects no location")
       for kind in ("geopoint", "geotrace", "geoshape", "start-geopoint", "location")},
    **{kind: ("media", "不支持图片、音频、视频、文件和条码题：本系统只存文字和数字答案",
              "image, audio, video, file and barcode questions are not supported: the survey stores text and number answers only")
       for kind in ("image", "photo", "audio", "video", "file", "barcode", "background-audio", "background-video", "signature")},
    "rank": ("rank", "不支持排序题（rank）", "rank (ordering) questions are not supported"),
    "include": ("include", "不支持 include（从另一个文件引入题目）：请把那些行复制到本表中",
                "include (questions from another file) is not supported: copy those rows into this form"),
    "select_one_from_file": ("from_file", "不支持从外部文件读取选项（select_one_from_file）",
                             "choices from an external file (select_one_from_file) are not supported"),
    "select_multiple_from_file": ("from_file", "不支持从外部文件读取选项（select_multiple_from_file）",
                                  "choices from an external file (select_multiple_from_file) are not supported"),
    "select_one_external": ("from_file", "不支持外部选项（select_one_external）", "external choices (select_one_external) are not supported"),
    "osm": ("osm", "不支持 OpenStreetMap 题（osm）", "OpenStreetMap (osm) questions are not supported"),
    "xml-external": ("external_data", "不支持外部数据（xml-external、csv-external）", "external data (xml-external, csv-external) is not supported"),
    "csv-external": ("external_data", "不支持外部数据（xml-external、csv-external）", "external data (xml-external, csv-external) is not supported"),
}

TRUE_WORDS = ("yes", "true", "1", "y", "是", "true()")
FALSE_WORDS = ("", "no", "false", "0", "n", "否", "false()")

_NUMBER = r"-?\d+(?:\.\d+)?"
_BOUND = re.compile(rf"^\.\s*(>=|<=|>|<|=|!=)\s*({_NUMBER})$")
_STRING_LENGTH = re.compile(r"^string-length\(\s*\.\s*\)\s*(<=|<|>=|>|=)\s*(\d+)$")


# ---------------------------------------------------------------------------------------------- errors

@dataclass(frozen=True)
class _Where:
    sheet: str | None = None  # sheet name as in the workbook
    row: int | None = None  # 1-based Excel row
    column: str | None = None  # column header as written

    def prefix(self) -> tuple[str, str]:
        if self.sheet is None:
            return "", ""
        zh = f"{self.sheet} 表" + (f"第 {self.row} 行" if self.row else "") + (f" {self.column} 列" if self.column else "")
        en = f"sheet {self.sheet}" + (f", row {self.row}" if self.row else "") + (f", column {self.column}" if self.column else "")
        return zh + "：", en + ": "


class _Errors:
    """Problems (the form is refused) and warnings (imported; the organiser should know) of one workbook."""

    def __init__(self, source: str | None):
        self.source = source
        self._entries: list[tuple[_Where, str, str]] = []
        self._warnings: list[tuple[_Where, str, str]] = []
        # construct -> (zh, en, sheet, column, rows): one message per construct, naming every row
        self._refused: dict[str, tuple[str, str, str, str | None, list[int]]] = {}

    def add(self, where: _Where, zh: str, en: str) -> None:
        if (where, zh, en) not in self._entries:
            self._entries.append((where, zh, en))

    def warn(self, where: _Where, zh: str, en: str) -> None:
        if (where, zh, en) not in self._warnings:
            self._warnings.append((where, zh, en))

    def refuse(self, construct: str, zh: str, en: str, sheet: str, column: str | None, row: int) -> None:
        """A construct the product cannot honour: collected, then reported once with all its rows."""
        entry = self._refused.setdefault(construct, (zh, en, sheet, column, []))
        entry[4].append(row)

    def flush_refused(self) -> None:
        for zh, en, sheet, column, rows in self._refused.values():
            more, shown = rows[1:], rows[1:12]
            tail_zh = f"（另见第 {'、'.join(map(str, shown))} 行{' …' if len(more) > len(shown) else ''}）" if more else ""
            tail_en = f" (also row{'s' if len(more) > 1 else ''} {', '.join(map(str, shown))}{' …' if len(more) > len(shown) else ''})" if more else ""
            self.add(_Where(sheet, rows[0], column), zh + tail_zh, en + tail_en)
        self._refused.clear()

    def warnings(self) -> list[str]:
        return self._format(self._warnings)

    def locations(self) -> set[_Where]:
        return {where for where, _, _ in self._entries}

    def __bool__(self) -> bool:
        return bool(self._entries or self._refused)

    def messages(self) -> list[str]:
        return self._format(self._entries)

    def _format(self, entries) -> list[str]:
        def rank(entry):
            where = entry[0]
            sheet = (where.sheet or "").lower()
            order = SHEETS.index(sheet) + 1 if sheet in SHEETS else (0 if where.sheet is None else len(SHEETS) + 1)
            return (order, where.row or 0)

        out = []
        for where, zh, en in sorted(entries, key=rank):
            where_zh, where_en = where.prefix()
            message = f"{where_zh}{zh} / {where_en}{en}"
            out.append(f"{self.source}: {message}" if self.source else message)
        return out

    def raise_if_any(self) -> None:
        self.flush_refused()
        if self._entries:
            raise XLSFormError(self.messages())


# ---------------------------------------------------------------------------------------------- reading cells

def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "" if not text.strip() else text


def _normalise_language(raw: str) -> str | None:
    text = raw.strip().lower()
    inner = re.search(r"\(([^()]*)\)\s*$", text)
    candidates = [text]
    if inner:
        candidates = [inner.group(1).strip(), text[: inner.start()].strip(), text]
    for candidate in candidates:
        code = _LANGUAGES.get(candidate.replace("_", "-"))
        if code:
            return code
    return None


@dataclass
class _Column:
    index: int
    header: str  # as written
    base: str  # lower case, before "::"
    language: str | None = None  # raw text after "::"
    lang_id: str | None = None  # translatable columns: "zh", "en", another language's name, or "default"


@dataclass
class _Row:
    number: int
    cells: dict[int, str]  # column index -> text


@dataclass
class _Sheet:
    title: str
    header_row: int | None
    columns: list[_Column]
    rows: list[_Row]
    # (base, language code or None) -> column; filled by _resolve_columns
    by_key: dict[tuple[str, str | None], _Column] = field(default_factory=dict)

    def where(self, row: int | None = None, key: tuple[str, str | None] | str | None = None, header: str | None = None) -> _Where:
        if header is None and key is not None:
            header = self.header(key)
        return _Where(self.title, row, header)

    def header(self, key: tuple[str, str | None] | str) -> str:
        if isinstance(key, str):
            key = (key, None)
        column = self.by_key.get(key)
        if column is not None:
            return column.header
        base, language = key
        return f"{base}::{WRITE_LANGUAGE_NAMES[language]}" if language else base

    def get(self, row: _Row, key: tuple[str, str | None] | str) -> str:
        if isinstance(key, str):
            key = (key, None)
        column = self.by_key.get(key)
        return row.cells.get(column.index, "") if column is not None else ""


def _column(index: int, text: str) -> _Column:
    """`label::中文 (zh)`, and pyxform's single-colon `label:English` for the translatable columns."""
    text = text.strip()
    base, sep, language = text.partition("::")
    if not sep:
        head, colon, tail = text.partition(":")
        if colon and head.strip().lower() in ("label", "hint", "guidance_hint", "constraint_message",
                                              "required_message", "media", "image", "audio", "video", "title"):
            base, sep, language = head, "::", tail
    return _Column(index, text, base.strip().lower().replace(" ", "_"), language.strip() if sep else None)


def _sheet_from_pyxform(title: str, rows, header) -> _Sheet:
    """pyxform's plain dict of one sheet (rows as {header: text}; empty rows kept, so position i is
    Excel row i + 2) as our _Sheet."""
    headers = list(header[0].keys()) if header else []
    columns = [_column(index, text) for index, text in enumerate(headers)]
    index_of = {text: index for index, text in enumerate(headers)}
    sheet_rows = []
    for number, row in enumerate(rows or (), start=2):
        cells = {index_of[key]: str(value) for key, value in row.items()
                 if key in index_of and value is not None and str(value).strip()}
        if cells:
            sheet_rows.append(_Row(number, cells))
    return _Sheet(title, 1, columns, sheet_rows)


def _read_book(source: str | Path | bytes | bytearray | memoryview | BinaryIO, errors: _Errors) -> dict[str, _Sheet] | None:
    """The workbook's XLSForm sheets, read by pyxform (the ODK ecosystem's own reader), or None after
    reporting why the file cannot be read. Old .xls workbooks are read too."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        elif isinstance(source, (str, Path)):
            data = Path(source).read_bytes()
        else:
            data = source.read()
    except OSError as exc:
        errors.add(_Where(), f"无法读取文件：{exc}", f"cannot read the file: {exc}")
        return None
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        file_type = ".xls"
    elif zipfile.is_zipfile(io.BytesIO(data)):
        file_type = ".xlsx"
    else:
        errors.add(_Where(), "不是有效的 Excel 文件（XLSForm 必须是 .xlsx 或 .xls 工作簿）",
                   "not a valid Excel file (an XLSForm must be an .xlsx or .xls workbook)")
        return None
    try:
        book = get_xlsform(io.BytesIO(data), file_type=file_type)
    except PyXFormError as exc:
        errors.add(_Where(), f"无法读取工作簿：{exc}", f"cannot read the workbook: {exc}")
        return None
    except Exception as exc:  # a damaged workbook raises many things inside the readers; never leak a traceback
        errors.add(_Where(), f"无法打开工作簿：{type(exc).__name__}: {exc}", f"cannot open the workbook: {type(exc).__name__}: {exc}")
        return None
    names = list(book.sheet_names or ())
    for kind in (*SHEETS, *UNSUPPORTED_SHEETS):
        if len(getattr(book, kind, None) or ()) > MAX_SHEET_ROWS:
            errors.add(_Where(kind), f"超过 {MAX_SHEET_ROWS} 行", f"more than {MAX_SHEET_ROWS} rows")
            return None
    sheets: dict[str, _Sheet] = {"_names": names}  # type: ignore[dict-item]
    for kind in (*SHEETS, *UNSUPPORTED_SHEETS):
        rows = getattr(book, kind, None)
        if rows is None:
            continue
        title = next((n for n in names if n.strip().lower() == kind), names[0] if kind == "survey" and len(names) == 1 else kind)
        sheets[kind] = _sheet_from_pyxform(title, rows, getattr(book, f"{kind}_header", None))
    return sheets


def _column_has_values(sheet: _Sheet, column: _Column) -> list[_Row]:
    return [row for row in sheet.rows if column.index in row.cells]


def _rows_text(rows: list[_Row]) -> tuple[str, str]:
    numbers = [str(r.number) for r in rows[:12]]
    more = len(rows) > len(numbers)
    return ("第 " + "、".join(numbers) + " 行" + (" …" if more else ""),
            ("row " if len(rows) == 1 else "rows ") + ", ".join(numbers) + (" …" if more else ""))


def _resolve_columns(sheet: _Sheet, kind: str, errors: _Errors) -> None:
    """Map each header to a known column. Columns that only change how ODK shows a form are ignored,
    columns we cannot honour and unknown columns are ignored with a warning naming their rows; a
    translatable column's language is noted here and mapped by `_choose_languages`."""
    known = {"survey": SURVEY_COLUMNS, "choices": CHOICES_COLUMNS, "settings": SETTINGS_COLUMNS}[kind]
    for column in sheet.columns:
        column.base = _pyxform_alias(kind, column.base, known)
        if kind == "choices" and column.base == "list name":
            column.base = "list_name"
        if kind == "settings" and column.base == "form_title":
            column.base = "title"  # form_title is the title in the default language; title::English etc. the others
        if kind == "settings" and column.language is None and (match := re.fullmatch(r"our_(title|intro|thanks)_(zh|en)", column.base)):
            column.base, column.language = match.group(1), match.group(2)  # what the export writes
    for column in sheet.columns:
        base = column.base
        where = _Where(sheet.title, sheet.header_row, column.header)
        if base.startswith("$") or base in IGNORABLE_COLUMNS[kind]:
            continue
        if base in UNSUPPORTED_COLUMNS[kind] or (column.language is not None and base in MEDIA_COLUMNS):
            used = _column_has_values(sheet, column)
            if used:
                rows_zh, rows_en = _rows_text(used)
                zh, en = UNSUPPORTED_COLUMN_REASONS.get(base, ("本系统不使用此列", "the survey system does not use it"))
                errors.warn(where, f"已忽略 {column.header} 列（{rows_zh}）：{zh}",
                            f"column {column.header!r} ignored ({rows_en}): {en}")
            continue
        if base not in known:
            used = _column_has_values(sheet, column)
            if used:
                rows_zh, rows_en = _rows_text(used)
                errors.warn(where, f"不认识的列 {column.header}，已忽略（{rows_zh}；拼写错误？）",
                            f"unknown column {column.header!r} ignored ({rows_en}; misspelt?)")
            continue
        if column.language is not None and base not in TRANSLATABLE[kind]:
            errors.add(where, f"{base} 列不能带语言后缀", f"column {base!r} cannot have a language suffix")
            continue
        if base in TRANSLATABLE[kind]:
            column.lang_id = _language_id(column.language) if column.language is not None else ""
            continue  # mapped to zh / en once the form's languages are known
        key = (base, None)
        if key in sheet.by_key:
            errors.add(where, f"与 {sheet.by_key[key].header} 列重复", f"duplicates column {sheet.by_key[key].header!r}")
            continue
        sheet.by_key[key] = column


# pyxform's alias tables name a column by where it goes in the XForm; these are our names for those places.
_ALIAS_TARGETS = {
    "label": "label", "type": "type", "name": "name", "list name": "list_name", "id_string": "form_id", "title": "title",
    ("bind", "relevant"): "relevant", ("bind", "required"): "required", ("bind", "constraint"): "constraint",
    ("bind", "jr:constraintMsg"): "constraint_message", ("bind", "jr:requiredMsg"): "required_message",
    ("bind", "calculate"): "calculation", ("bind", "readonly"): "read_only", ("control", "appearance"): "appearance",
    ("control", "jr:count"): "repeat_count",
}


def _pyxform_alias(kind: str, base: str, known: Iterable[str]) -> str:
    """The column another spelling ODK accepts stands for, from pyxform's own alias tables: `relevance` is
    `relevant`, `caption` is `label`, `id_string` / `set_form_id` are `form_id`, `value` in choices is `name`."""
    from pyxform import aliases

    if base in known:
        return base
    table = {"survey": aliases.survey_header, "choices": aliases.list_header, "settings": aliases.settings_header}[kind]
    target = table.get(base, base)
    return _ALIAS_TARGETS.get(target, base) if isinstance(target, (str, tuple)) else base


_CJK = re.compile(r"[\u3400-\u9fff]")


def _language_id(raw: str | None) -> str:
    """'zh' or 'en' for the names and codes of Chinese and English, else the name itself (lower case)."""
    if not raw:
        return ""
    code = re.search(r"\(([^()]*)\)\s*$", raw)
    return _normalise_language(raw) or (code.group(1) if code else raw).strip().lower()


def _choose_languages(sheets: dict[str, _Sheet | None], default_language: str | None, requested: str | None,
                      errors: _Errors) -> None:
    """Decide which language citizens read (the `zh` texts) and which is the English one.

    Chinese when the form has it. Otherwise the requested language, the settings' default_language,
    English, or the first language found, in that order; its texts then stand in for both languages,
    so an English-only form imports. Columns in any other language are ignored with a warning.
    """
    default_id = _language_id(default_language) if default_language else None
    translatable = [(kind, sheet, column) for kind, sheet in sheets.items() if sheet is not None
                    for column in sheet.columns if column.lang_id is not None]

    def plain_id(kind: str, sheet: _Sheet, column: _Column) -> str:
        if default_id:
            return default_id
        texts = [row.cells[column.index] for row in sheet.rows if column.index in row.cells]
        # A plain `label` column without default_language is Chinese unless it holds no Chinese at all.
        return "zh" if kind == "settings" or not texts or any(_CJK.search(t) for t in texts) else "default"

    for kind, sheet, column in translatable:
        if column.lang_id == "":
            column.lang_id = plain_id(kind, sheet, column)
    found: list[str] = []
    for kind, _, column in translatable:
        if kind != "settings" and column.lang_id not in found:
            found.append(column.lang_id)
    if "zh" in found or not found:
        citizens = "zh"
    else:
        wanted = _language_id(requested) if requested else None
        if wanted and wanted not in found:  # a language's name where its columns give the code too
            wanted = next((c.lang_id for _, _, c in translatable
                           if c.language and c.language.strip().lower().startswith(requested.strip().lower())), wanted)
        citizens = next((c for c in (wanted, default_id, "en") if c in found), found[0])
        name = {"en": "English", "default": "未注明语言的"}.get(citizens, citizens)
        name_en = {"en": "English", "default": "unnamed-language"}.get(citizens, citizens)
        errors.warn(_Where(), f"表单没有中文标签：市民看到的是 {name} 文字（中文和英文界面都显示它）",
                    f"the form has no Chinese labels: citizens read the {name_en} texts (shown in both the Chinese and English views)")
    english = "en" if "en" in found else (citizens if citizens != "zh" else None)
    ignored: dict[str, None] = {}
    for kind, sheet, column in translatable:
        keys = []
        if column.lang_id == citizens or (kind == "settings" and column.lang_id == "zh"):
            keys.append((column.base, "zh"))
        if column.lang_id == english or (kind == "settings" and column.lang_id == "en"):
            keys.append((column.base, "en"))
        if not keys:
            keys = _plain_stand_in(translatable, sheet, column, citizens, english, errors)
        if not keys:
            if _column_has_values(sheet, column):
                ignored.setdefault(column.language or column.header)
            continue
        for key in keys:
            if key in sheet.by_key:
                if kind == "settings" and sheet.by_key[key].language is not None and column.language is None:
                    continue  # form_title beside title::中文: the explicit one wins
                errors.add(_Where(sheet.title, sheet.header_row, column.header),
                           f"与 {sheet.by_key[key].header} 列重复", f"duplicates column {sheet.by_key[key].header!r}")
                continue
            sheet.by_key[key] = column
    if ignored:
        names = ", ".join(ignored)
        errors.warn(_Where(), f"已忽略这些语言的文字：{names}（本系统显示市民语言和英文两种）",
                    f"texts in these languages are ignored: {names} (the survey shows the citizens' language and English)")


def _plain_stand_in(translatable, sheet: _Sheet, column: _Column, citizens: str, english: str | None,
                    errors: _Errors) -> list:
    """A plain column (`label` without a language) where the sheet has no column of that kind in the
    citizens' language stands in for it, as in ODK, where the plain column is the default language: Kobo
    writes `label` beside `hint::English (en)`, and the labels are then the plain column's texts."""
    if column.lang_id != "default" or citizens == "zh":
        return []  # a plain column without Chinese text never stands in for Chinese
    languages = {c.lang_id for _, s, c in translatable if s is sheet and c.base == column.base}
    if citizens in languages or not _column_has_values(sheet, column):
        return []
    errors.warn(_Where(sheet.title, sheet.header_row, column.header),
                f"没有市民语言的 {column.base} 列：用不带语言的 {column.header} 列代替",
                f"no {column.base} column in the citizens' language: the plain {column.header!r} column is used instead")
    return [(column.base, "zh")] + ([(column.base, "en")] if english is None or english not in languages else [])


def _code_from_name(name: str, option: bool = False) -> str:
    """Kobo's `What_is_your_age`, `Q2`, `q-2` as our lower-case codes; '' when nothing usable is left."""
    code = re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]+", "_", name.strip().lower())).strip("_")
    if code and not option and not code[0].isalpha():
        code = "q_" + code
    return code


def _normalise_names(sheets: dict[str, _Sheet | None], errors: _Errors) -> None:
    """Rename question, group and option names to our code format, everywhere they are referred to."""
    survey, choices = sheets["survey"], sheets["choices"]
    renamed: dict[str, str] = {}
    option_renamed: dict[str, str] = {}

    def rename(sheet: _Sheet | None, option: bool, into: dict[str, str]) -> None:
        column = sheet.by_key.get(("name", None)) if sheet is not None else None
        if column is None:
            return
        taken = {row.cells.get(column.index) for row in sheet.rows}
        for row in sheet.rows:
            name = row.cells.get(column.index, "").strip()
            code = _code_from_name(name, option) if name else ""
            if not code or code == name:
                continue
            if code in taken and into.get(name) != code:
                continue  # would collide: the name is left for the loader to report
            into[name] = code
            row.cells[column.index] = code
            taken.add(code)

    rename(survey, False, renamed)
    rename(choices, True, option_renamed)
    if not renamed and not option_renamed:
        return

    def in_condition(text: str) -> str:
        text = re.sub(r"\$\{\s*([^}]*?)\s*\}", lambda m: "${" + renamed.get(m.group(1), m.group(1)) + "}", text)
        return re.sub(r"'([^']*)'", lambda m: "'" + option_renamed.get(m.group(1), m.group(1)) + "'", text)

    for key in (("relevant", None), ("constraint", None)):
        column = survey.by_key.get(key)
        for row in survey.rows if column is not None else ():
            if column.index in row.cells:
                row.cells[column.index] = in_condition(row.cells[column.index])
    for column in survey.columns:  # answers piped into labels and hints: ${What_is_your_age}
        if column.base in ("label", "hint"):
            for row in survey.rows:
                if "${" in row.cells.get(column.index, ""):
                    row.cells[column.index] = re.sub(r"\$\{\s*([^}]*?)\s*\}",
                                                     lambda m: "${" + renamed.get(m.group(1), m.group(1)) + "}",
                                                     row.cells[column.index])
    for key in (*MULTI_VALUE_COLUMNS, "specify"):
        column = survey.by_key.get((key, None))
        for row in survey.rows if column is not None else ():
            if column.index in row.cells:
                row.cells[column.index] = " ".join(option_renamed.get(c, c) for c in _split_codes(row.cells[column.index]))
    pairs = list(renamed.items()) + list(option_renamed.items())
    shown = ", ".join(f"{a} → {b}" for a, b in pairs[:15]) + (" …" if len(pairs) > 15 else "")
    errors.warn(_Where(), f"名称已改为本系统的代码格式（小写字母、数字和 _）：{shown}",
                f"names changed to the survey's code format (lower-case letters, digits, _): {shown}")


# ---------------------------------------------------------------------------------------------- reading the form

@dataclass
class _QuestionRows:
    """Where a question's data came from, to translate loader messages back to cells."""
    row: int
    option_rows: list[int] = field(default_factory=list)  # choices sheet rows, in option order
    section_from_column: bool = False
    group_row: int | None = None
    options_missing: bool = False  # its choice list could not be found (already reported)


def _split_codes(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,，]+", text.strip()) if part]


def _parse_number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


# `date('2024-01-01')` and `date-time('2024-05-01T08:30:00')` in a condition or constraint: ODK's way of
# writing a date; ours is the ISO text itself ('2024-01-01', '2024-05-01T08:30').
_DATE_CALL = re.compile(r"""\b(date|date-time)\(\s*(['"])([^'"]*)\2\s*\)""")
_DATE_BOUND = re.compile(r"^\.\s*(>=|<=|>|<)\s*'(\d{4}-\d{2}-\d{2})'$")


def _plain_dates(text: str) -> str:
    def plain(match: re.Match) -> str:
        kind = "date" if match.group(1) == "date" else "datetime"
        return "'" + (dates.read(kind, match.group(3)) or match.group(3)) + "'"

    return _DATE_CALL.sub(plain, text) if text else text


def _date_constraint(text: str, where: _Where, errors: _Errors) -> dict[str, Any]:
    """`. >= date('2024-01-01') and . <= date('2026-12-31')` (either half; strict > / < move a day) on a
    date question: its `earliest` / `latest`. today() and anything else are refused by name."""
    if re.search(r"\b(today|now)\s*\(", text):
        errors.add(where, f"不支持含 today() 或 now() 的约束 {text}：本系统只检查固定的日期，请写成 . <= date('2026-12-31')",
                   f"a constraint with today() or now() is not supported ({text!r}): the survey checks fixed dates; "
                   f"write . <= date('2026-12-31')")
        return {}
    result: dict[str, Any] = {}
    for part in (p.strip() for p in re.split(r"\s+and\s+", _plain_dates(text.strip()))):
        match = _DATE_BOUND.match(part)
        day = dates.as_object("date", match.group(2)) if match else None
        if day is None:
            errors.add(where, f"不支持的日期约束 {text}（只支持 . >= date('2024-01-01') and . <= date('2026-12-31')）",
                       f"unsupported date constraint {text!r} (only . >= date('2024-01-01') and . <= date('2026-12-31') "
                       f"are supported)")
            return {}
        op = match.group(1)
        if op in (">", "<"):
            day += timedelta(days=1 if op == ">" else -1)
        key = "earliest" if op.startswith(">") else "latest"
        if key in result:
            errors.add(where, f"约束中 {op} 出现了两次", f"{op} appears twice in the constraint")
            return {}
        result[key] = day.isoformat()
    return result


def _parse_constraint(text: str, our_type: str, where: _Where, errors: _Errors, integer: bool = False) -> dict[str, Any]:
    """The supported subset: `. >= A and . <= B` (either half) for numbers, `string-length(.) <= N` for
    text; strict `>` / `<` where they mean the same thing for whole numbers (`. > 17` is `min: 18`,
    `string-length(.) < 300` is `max_length: 299`)."""
    unsupported_zh = (
        f"不支持的约束 {text}（只支持 . >= 最小值 and . <= 最大值，或 string-length(.) <= 最多字数）"
    )
    unsupported_en = (
        f"unsupported constraint {text!r} (only '. >= MIN and . <= MAX' or 'string-length(.) <= N' are supported)"
    )
    if len(text) > MAX_CONSTRAINT_CHARS or any(len(n) > MAX_NUMBER_CHARS for n in re.findall(r"[\d.]+", text)):
        errors.add(where, f"约束太长或其中的数字超过 {MAX_NUMBER_CHARS} 位", f"the constraint is too long or has a number "
                   f"longer than {MAX_NUMBER_CHARS} characters")
        return {}
    parts = [p.strip() for p in re.split(r"\s+and\s+", text.strip())]
    if our_type == "text":
        match = _STRING_LENGTH.match(text.strip())
        if len(parts) == 1 and match and match.group(1) in ("<=", "<"):
            limit = int(match.group(2)) - (1 if match.group(1) == "<" else 0)
            if limit >= 1:
                return {"max_length": limit}
        errors.add(where, unsupported_zh, unsupported_en)
        return {}
    if our_type != "number":
        errors.add(where, "只有数字题、文字题和多选题可以设置约束",
                   "only number, text and multiple-choice questions can have a constraint")
        return {}
    result: dict[str, Any] = {}
    for part in parts:
        match = _BOUND.match(part)
        if not match or match.group(1) not in (">=", "<=", ">", "<"):
            errors.add(where, unsupported_zh, unsupported_en)
            return {}
        op, value = match.group(1), _parse_number(match.group(2))
        if op in (">", "<"):
            if not (integer and isinstance(value, int)):
                errors.add(where, f"小数题不支持严格的 {op}（请改用 {op}=）",
                           f"a strict {op} is only supported on whole numbers (write {op}= for a decimal)")
                return {}
            op, value = op + "=", value + (1 if op == ">" else -1)
        key = "min" if op == ">=" else "max"
        if key in result:
            errors.add(where, f"约束中 {op} 出现了两次", f"{op} appears twice in the constraint")
            return {}
        result[key] = value
    return result


def _range(sheet: _Sheet, row: _Row, errors: _Errors) -> dict[str, Any]:
    """ODK's slider `range` (parameters start=0 end=10 step=1, its defaults) as a number question
    with those limits: the same answers, typed instead of slid."""
    column = next((c for c in sheet.columns if c.base == "parameters"), None)
    text = row.cells.get(column.index, "") if column is not None else ""
    values = dict(part.split("=", 1) for part in re.split(r"[\s,;]+", text.strip()) if "=" in part)
    try:
        start, end, step = (_parse_number(values.get(k, d).strip()) for k, d in (("start", "0"), ("end", "10"), ("step", "1")))
    except ValueError:
        errors.add(sheet.where(row.number, header=column.header if column else "parameters"),
                   f"range 的参数无法读取：{text}", f"cannot read the range parameters {text!r}")
        return {}
    errors.warn(sheet.where(row.number, "type"), f"滑块（range）改为 {start} 到 {end} 的数字题",
                f"the range slider became a number question from {start} to {end}")
    return {"integer": isinstance(step, int) and isinstance(start, int), "min": min(start, end), "max": max(start, end)}


def _parameters(sheet: _Sheet, row: _Row) -> tuple[dict[str, str], str, str]:
    """The row's `parameters` cell as {name: value} (ODK writes `start=0 end=10 step=1`), its text and header."""
    column = next((c for c in sheet.columns if c.base == "parameters"), None)
    text = row.cells.get(column.index, "") if column is not None else ""
    values = {k.strip().lower(): v.strip() for k, v in (part.split("=", 1) for part in re.split(r"[\s,;]+", text.strip())
                                                         if "=" in part)}
    return values, text, column.header if column is not None else "parameters"


def _randomize(sheet: _Sheet, row: _Row, errors: _Errors) -> bool:
    """ODK's `randomize=true` parameter of a select question: each respondent sees the options shuffled
    (a `seed` is not needed: ours is the response id)."""
    values, _, header = _parameters(sheet, row)
    value = values.get("randomize", "").lower()
    if value and value not in TRUE_WORDS and value not in FALSE_WORDS:
        errors.add(sheet.where(row.number, header=header), f"randomize 只能是 true 或 false，而不是 {value}",
                   f"randomize must be true or false, not {value!r}")
        return False
    return value in TRUE_WORDS and value != ""


_SELF = "_self_"  # the answer itself (XLSForm's `.`) in a constraint read with our condition parser
MAX_EXHAUSTIVE_OPTIONS = 12


def _choice_constraint(text: str, options: list[dict], where: _Where, errors: _Errors,
                       name: str | None = None) -> dict[str, Any]:
    """A multiple-choice constraint as `max_choices` and `exclusive`: `count-selected(.) <= N` and an
    exclusive option written any way ODK's own documentation writes it (`not(selected(., 'none') and
    count-selected(.) > 1)`, `(selected(., 'none') and count-selected(.) = 1) or not(selected(., 'none'))`;
    `${own name}` for `.`). The constraint is read with our condition parser and judged by what it accepts: every set of options
    (every set of up to three and each run of neighbours when there are more than 12 options) is tried
    against it, and it is taken only when "at most N, these options alone" accepts exactly the same sets."""
    unsupported = (
        f"不支持的约束 {text}（多选题只支持 count-selected(.) <= N 和 not(selected(., '选项') and count-selected(.) > 1)）",
        f"unsupported constraint {text!r} (a multiple-choice question supports only 'count-selected(.) <= N' and "
        f"'not(selected(., 'option') and count-selected(.) > 1)')",
    )
    if len(text) > MAX_CONSTRAINT_CHARS:
        errors.add(where, f"约束太长（最多 {MAX_CONSTRAINT_CHARS} 个字符）", f"the constraint is too long (at most "
                   f"{MAX_CONSTRAINT_CHARS} characters)")
        return {}
    # `.` outside quotes is the answer itself
    pieces = re.split(r"('[^']*'|\"[^\"]*\")", text)
    written = "".join(p if i % 2 else re.sub(r"(?<![\w.])\.(?![\w.])", "${" + _SELF + "}", p) for i, p in enumerate(pieces))
    if name:  # the question named by its own name, as some forms write it: count-selected(${q}) <= 2
        written = re.sub(r"\$\{\s*" + re.escape(name) + r"\s*\}", "${" + _SELF + "}", written)
    try:
        condition = parse_condition(written)
    except ConditionError:
        errors.add(where, *unsupported)
        return {}
    if set(condition.references()) != {_SELF}:
        errors.add(where, *unsupported)
        return {}
    codes = [o["code"] for o in options if isinstance(o, dict) and isinstance(o.get("code"), str)]
    if not codes:
        return {}
    import itertools

    n = len(codes)
    if n <= MAX_EXHAUSTIVE_OPTIONS:
        trials = [list(c) for size in range(1, n + 1) for c in itertools.combinations(codes, size)]
    else:
        trials = [list(c) for size in range(1, 4) for c in itertools.combinations(codes, size)]
        trials += [codes[i:i + size] for size in range(4, n + 1) for i in range(0, n - size + 1)]
    accepted = {tuple(t): condition.evaluate({_SELF: t}) for t in trials}
    largest = max((len(t) for t, ok in accepted.items() if ok), default=0)
    exclusive: list[str] = []
    if largest > 1:
        exclusive = [c for c in codes if accepted.get((c,)) and not any(
            ok for t, ok in accepted.items() if c in t and len(t) > 1)]
    limit = largest if largest < n - len(exclusive) else None

    def model(chosen: tuple) -> bool:
        return (limit is None or len(chosen) <= limit) and not (len(chosen) > 1 and set(chosen) & set(exclusive))

    if largest == 0 or any(model(t) != ok for t, ok in accepted.items()):
        errors.add(where, *unsupported)
        return {}
    result: dict[str, Any] = {}
    if limit is not None:
        result["max_choices"] = limit
    if exclusive:
        result["exclusive"] = exclusive
    return result


def _label(sheet: _Sheet, row: _Row, base: str) -> dict[str, str]:
    label = {}
    for language in ("zh", "en"):
        value = sheet.get(row, (base, language))
        if value:
            label[language] = value
    return label


def _read_choices(sheet: _Sheet | None, errors: _Errors) -> dict[str, list[tuple[dict, int]]]:
    lists: dict[str, list[tuple[dict, int]]] = {}
    if sheet is None or not sheet.rows:
        return lists
    for key in ("list_name", "name"):
        if key not in {k for k, _ in sheet.by_key}:
            errors.add(_Where(sheet.title, sheet.header_row), f"缺少 {key} 列", f"column {key!r} is missing")
            return lists
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        list_name = sheet.get(row, "list_name").strip()
        name = sheet.get(row, "name").strip()
        if not list_name:
            if name or _label(sheet, row, "label"):
                errors.add(sheet.where(row.number, "list_name"), "缺少选项列表名", "the list name is missing")
            continue
        if not name:
            errors.add(sheet.where(row.number, "name"), "缺少选项代码", "the option name is missing")
            continue
        if (list_name, name) in seen:
            errors.add(
                sheet.where(row.number, "name"),
                f"选项列表 {list_name} 中的选项 {name} 重复（与第 {seen[(list_name, name)]} 行相同）",
                f"option {name!r} appears twice in list {list_name!r} (same as row {seen[(list_name, name)]})",
            )
            continue
        seen[(list_name, name)] = row.number
        option: dict[str, Any] = {"code": name}
        label = _label(sheet, row, "label")
        if label:
            option["label"] = label
        lists.setdefault(list_name, []).append((option, row.number))
    return lists


def _read_settings(sheet: _Sheet | None, errors: _Errors, source_name: str | None) -> tuple[dict, int | None]:
    """The settings row, with defaults (and a warning each) for what ODK lets a form leave out."""
    data: dict[str, Any] = {}
    row_number = None
    if sheet is not None and sheet.rows:
        row = sheet.rows[0]
        row_number = row.number
        for extra in sheet.rows[1:]:
            errors.add(sheet.where(extra.number), "settings 表只能有一行数据", "the settings sheet can only have one row of values")
        form_id = sheet.get(row, "form_id").strip()
        if form_id:
            data["code"] = _code_from_name(form_id) or form_id
            if data["code"] != form_id:
                errors.warn(sheet.where(row.number, "form_id"), f"form_id {form_id} 已改为 {data['code']}",
                            f"form_id {form_id!r} became {data['code']!r}")
        version = sheet.get(row, "version").strip()
        if version:
            if re.fullmatch(r"\d+", version) and 1 <= int(version) <= 2**31 - 1:
                data["version"] = int(version)
            else:
                # Kobo writes versions such as "vHk3…" or "1 (2021-03-04)"; ours count 1, 2, 3 …
                errors.warn(sheet.where(row.number, "version"), f"版本 {version} 不是整数，按第 1 版导入",
                            f"version {version!r} is not a whole number; imported as version 1")
                data["version"] = 1
        for key in ("title", "intro", "thanks"):
            value = _label(sheet, row, key)
            if value:
                data[key] = value
    elif sheet is not None:
        row_number = (sheet.header_row or 1) + 1
    where = _Where("settings") if sheet is None else sheet.where(row_number)
    if "code" not in data:
        stem = Path(source_name).stem if source_name else ""
        data["code"] = _code_from_name(stem) or "imported_form"
        errors.warn(where, f"没有 form_id，问卷代码取为 {data['code']}", f"no form_id: the questionnaire code is {data['code']!r}")
    if "version" not in data:
        data["version"] = 1
        errors.warn(where, "没有 version，按第 1 版导入", "no version: imported as version 1")
    title = data.get("title") or {}
    if not title.get("zh"):
        title["zh"] = title.get("en") or data["code"]
        data["title"] = title
        errors.warn(where, f"没有中文标题，标题取为 {title['zh']}", f"no Chinese title: the title is {title['zh']!r}")
    return data, row_number


def _survey_type(raw: str) -> tuple[str, str | None]:
    """('select_one', 'yes_no'), ('select_one', 'yes_no or_other'), ('integer', None), ('begin_group', None) …

    The type vocabulary is pyxform's own (its select and group patterns and question-type dictionary),
    so every alias ODK accepts (`select one from X`, `select all that apply from X or specify other`,
    `phone number`, `begin loop over X`, `percentage`, …) is understood the way ODK understands it.
    """
    from pyxform import aliases, constants
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
    from pyxform.xls2json import RE_BEGIN_CONTROL, RE_END_CONTROL, RE_SELECT

    text = " ".join(raw.strip().split())
    lowered = text.lower()
    ours = {constants.SELECT_ONE: "select_one", constants.SELECT_ALL_THAT_APPLY: "select_multiple",
            constants.SELECT_ONE_EXTERNAL: "select_one_external"}
    if lowered in aliases.select:
        command = aliases.select[lowered]
        return ("select_one_from_file" if lowered in aliases.select_from_file else ours.get(command, command)), None
    match = re.match(RE_SELECT.pattern, text, re.IGNORECASE)
    if match:
        command = match.group("select_command").lower()
        if command in aliases.select_from_file:
            return "select_one_from_file", match.group("list_name")
        kind = ours.get(aliases.select[command], aliases.select[command])
        return kind, match.group("list_name") + (" or_other" if match.group("specify_other") else "")
    for pattern, edge in ((RE_BEGIN_CONTROL, "begin"), (RE_END_CONTROL, "end")):
        match = pattern.match(lowered)
        if match:
            control = aliases.control[match.group("type")]
            return f"{edge}_{'group' if control == constants.GROUP else 'repeat'}", None
    if lowered.split(" ")[0] == "osm":
        return "osm", None
    entry = QUESTION_TYPE_DICT.get(lowered)
    if entry is not None:
        bind = entry.get("bind", {})
        if "jr:preload" in bind or lowered in ("audit", "background-audio"):
            return "metadata", None
        if lowered in ("note", "calculate", "hidden", "acknowledge", "trigger", "range", "rank"):
            return lowered, None
        control = entry.get("control", {}).get("tag")
        if control == "input" and bind.get("type") == "string":
            return "text", None
        if control == "input" and bind.get("type") in ("int", "decimal"):
            return {"int": "integer"}.get(bind["type"], bind["type"]), None
        if control == "input" and bind.get("type") in ("date", "time", "dateTime"):
            return bind["type"].lower(), None  # date, time, datetime: ours by the same names
    return lowered, None


def _refused_list(kind: str, list_name: str | None) -> tuple[str, str, str] | None:
    """`select_one ${q}`: options taken from the answers to an earlier (repeated) question, which Kobo and
    ODK allow; our options are fixed, so the construct is refused by name."""
    if kind in ("select_one", "select_multiple") and (list_name or "").strip().startswith("${"):
        return ("from_answers", "不支持以前面的答案作为选项（select_one ${…}）：请在 choices 表中列出选项",
                "choices from earlier answers (select_one ${...}) are not supported: list the options in the choices sheet")
    return None


def _refused_search(sheet: _Sheet, row: _Row, kind: str, errors: _Errors) -> bool:
    """A select whose appearance is `search('file')` takes its options from a CSV file loaded with the form
    (the choices sheet only names the file's columns): refused, not imported with those column names as
    options."""
    column = next((c for c in sheet.columns if c.base == "appearance" and c.language is None), None)
    appearance = row.cells.get(column.index, "") if column is not None else ""
    if kind not in ("select_one", "select_multiple") or not re.search(r"\bsearch\s*\(", appearance):
        return False
    errors.refuse("search", "不支持从预载的 CSV 文件读取选项（search()）",
                  "choices from a pre-loaded CSV file (search()) are not supported", sheet.title, column.header, row.number)
    return True


def _partial_date(sheet: _Sheet, row: _Row, kind: str, errors: _Errors) -> None:
    """`month-year` / `year` on a date: ODK asks for part of the date and stores its first day; ours asks
    for the whole date, which the organiser should know (a warning, the question imports)."""
    column = next((c for c in sheet.columns if c.base == "appearance" and c.language is None), None)
    appearance = row.cells.get(column.index, "").lower().split() if column is not None else []
    partial = next((a for a in appearance if a in ("month-year", "year")), None)
    if kind == "date" and partial:
        errors.warn(sheet.where(row.number, column.header),
                    f"外观 {partial} 未采用：本系统的日期题总是问完整的日期（第 {row.number} 行）",
                    f"appearance {partial} not used (row {row.number}): the survey's date questions ask for the whole date")


ACKNOWLEDGE_LIST = "(acknowledge)"  # cannot be a list name of the choices sheet (parentheses)


def _acknowledge_list(sheet: _Sheet, row: _Row, lists: dict[str, list[tuple[dict, int]]], errors: _Errors) -> str:
    """ODK's `acknowledge` (legacy `trigger`): one box the respondent ticks, stored as OK. The same answer
    as a single-choice question with the one option `ok`, which is what it becomes (with a warning)."""
    label_column = sheet.by_key.get(("label", "zh"))
    chinese = label_column is not None and label_column.lang_id == "zh"
    option = {"code": "ok", "label": {"zh": "确认" if chinese else "OK", "en": "OK"}}
    lists[ACKNOWLEDGE_LIST] = [(option, row.number)]
    errors.warn(sheet.where(row.number, "type"), "确认题（acknowledge）改为只有一个选项“确认”（ok）的单选题",
                "acknowledge became a single-choice question with the one option 'ok' (OK)")
    return ACKNOWLEDGE_LIST


def _pipes_left_out(sheet: _Sheet, left_out: list[_Row], shown_rows: list[int], errors: _Errors) -> None:
    """A label or hint that shows a calculate or metadata field (`#${name_number}`), which is left out: named
    as such, instead of the loader's "unknown question" (the texts cannot be shown as ODK shows them)."""
    kinds = {sheet.get(r, "name").strip(): sheet.get(r, "type").strip() for r in left_out if sheet.get(r, "name").strip()}
    shown = set(shown_rows)
    for (base, language), column in list(sheet.by_key.items()):
        if base not in ("label", "hint"):
            continue
        for row in sheet.rows:
            names = re.findall(r"\$\{\s*([^}]*?)\s*\}", row.cells.get(column.index, "")) if row.number in shown else []
            for name in dict.fromkeys(n for n in names if n in kinds):
                errors.add(sheet.where(row.number, (base, language)),
                           f"显示了 {kinds[name]} 字段 {name} 的值，而 {kinds[name]} 行不导入",
                           f"shows the value of {kinds[name]} field {name!r}, which is not imported ({kinds[name]} rows are left out)")


def _untitled_group(sheet: _Sheet, row: _Row, name: str, errors: _Errors) -> dict[str, str]:
    """ODK lets a group go without a label (its questions are simply shown together); our section needs a
    title, so the group's name stands in, with a warning."""
    errors.warn(sheet.where(row.number, ("label", "zh")), f"分组 {name} 没有标签：分区标题取为 {name}",
                f"group {name!r} has no label: the section is titled {name!r}")
    return {"zh": name}


def _read_survey(sheet: _Sheet, lists: dict[str, list[tuple[dict, int]]], choices: _Sheet | None, errors: _Errors):
    questions: list[dict] = []
    rows: list[_QuestionRows] = []
    sections: list[dict] = []
    section_rows: list[int] = []
    if ("type", None) not in sheet.by_key:
        errors.add(_Where(sheet.title, sheet.header_row), "缺少 type 列", "column 'type' is missing")
        return questions, rows, sections, section_rows
    if ("name", None) not in sheet.by_key:
        errors.add(_Where(sheet.title, sheet.header_row), "缺少 name 列", "column 'name' is missing")
        return questions, rows, sections, section_rows

    names: dict[str, int] = {}
    group_names: dict[str, int] = {}
    groups: list[tuple[str, int, str]] = []  # open groups, outermost first: (name, row, relevant)
    nested: list[_Row] = []
    metadata: list[_Row] = []
    calculated: list[_Row] = []
    unshowable_notes: list[_Row] = []
    media_only_notes: list[_Row] = []  # a note with a picture or sound but no text: nothing to show
    screening: list[str] = []  # "screening passed" conditions as our export writes them

    def where(row: _Row, key) -> _Where:
        return sheet.where(row.number, key)

    def no_extra_columns(row: _Row, allowed: Iterable[str], what_zh: str, what_en: str) -> None:
        allowed = set(allowed) | {"type", "name"}
        for (base, language), column in sheet.by_key.items():
            if base not in allowed and column.index in row.cells:
                errors.add(
                    where(row, (base, language)),
                    f"{what_zh}不能设置 {column.header} 列",
                    f"{what_en} cannot have a {column.header!r} value",
                )

    for row in sheet.rows:
        raw_type = sheet.get(row, "type")
        kind, list_name = _survey_type(raw_type)
        name = sheet.get(row, "name").strip()

        if not kind:
            if any(column.index in row.cells for column in sheet.by_key.values()):
                errors.add(where(row, "type"), "缺少题型", "the type is missing")
            continue

        if kind == "begin_group":
            no_extra_columns(row, ("label", "relevant"), "分组", "a group")
            group_relevant = _plain_dates(sheet.get(row, "relevant").strip())
            if group_relevant:
                try:
                    parse_condition(group_relevant)
                except ConditionError as exc:
                    errors.add(where(row, "relevant"), f"条件无法解析：{exc.where_zh}{exc.message_zh}",
                               f"cannot parse the condition: {exc.where_en}{exc.message_en}")
                    group_relevant = ""
            if not name:
                errors.add(where(row, "name"), "分组缺少名称（即分区代码）", "the group needs a name (the section code)")
            elif name in group_names:
                errors.add(
                    where(row, "name"),
                    f"分组名称 {name} 重复（与第 {group_names[name]} 行相同）",
                    f"duplicate group name {name!r} (same as row {group_names[name]})",
                )
            else:
                group_names[name] = row.number
                section: dict[str, Any] = {"code": name}
                title = _label(sheet, row, "label")
                if title:
                    section["title"] = title
                else:
                    section["title"] = _untitled_group(sheet, row, name, errors)
                sections.append(section)
                section_rows.append(row.number)
            if groups:
                # A group inside a group becomes a section of its own; its questions also obey the outer
                # group's condition.
                nested.append(row)
            groups.append((name, row.number, group_relevant))
            continue

        if kind == "end_group":
            if not groups:
                errors.add(where(row, "type"), "end group 前面没有对应的 begin group", "end group without a matching begin group")
            else:
                open_name, open_row, _ = groups.pop()
                if name and name != open_name:
                    errors.add(
                        where(row, "name"),
                        f"结束的分组 {name} 与第 {open_row} 行开始的分组 {open_name} 不一致",
                        f"ends group {name!r}, but group {open_name!r} was begun in row {open_row}",
                    )
            continue

        if kind in ("begin_repeat", "end_repeat"):
            if kind == "begin_repeat":
                errors.refuse("repeat", "不支持重复组（begin repeat）：每位受访者只回答一份问卷，请把重复的问题展开写出",
                              "repeats ('begin repeat') are not supported: each respondent answers one questionnaire; "
                              "write the repeated questions out", sheet.title, "type", row.number)
            continue
        if kind == "metadata" or kind in METADATA_TYPES:
            metadata.append(row)
            continue
        if kind == "note" and sheet.get(row, "our_type").strip() == SCREENING_END:
            continue  # written by our export for ODK Collect; our runner ends the interview itself
        if kind in ("calculate", "hidden"):
            calculated.append(row)
            continue
        refusal = _REFUSED_TYPES.get(kind) or _refused_list(kind, list_name)
        if refusal is None and _refused_search(sheet, row, kind, errors):
            continue
        if refusal is not None:
            construct, zh, en = refusal
            errors.refuse(construct, zh, en, sheet.title, "type", row.number)
            continue
        if kind in ("acknowledge", "trigger"):
            kind, list_name = "select_one", _acknowledge_list(sheet, row, lists, errors)

        if kind == "note":
            # A note showing a value this survey does not keep (a calculation, metadata) cannot be shown.
            dropped = {sheet.get(r, "name").strip() for r in calculated + metadata} - {""}
            shown = {ref for column in sheet.columns if column.base in ("label", "hint")
                     for ref in re.findall(r"\$\{\s*([^}]*?)\s*\}", row.cells.get(column.index, ""))}
            if shown & dropped:
                unshowable_notes.append(row)
                continue
            if not any(row.cells.get(column.index, "").strip() for column in sheet.columns if column.base == "label"):
                media_only_notes.append(row)
                continue
        our_type_text = sheet.get(row, "our_type").strip()
        if kind == "text" and our_type_text == SPECIFY_ROW:
            # The "please specify" box our export writes for ODK after a question with a `specify` option;
            # ours is made from that option again.
            parent = questions[-1] if questions else {}
            if not (parent.get("specify") and name == f"{parent.get('code')}{OTHER_SUFFIX}"):
                errors.add(where(row, "our_type"),
                           f"our_type {SPECIFY_ROW} 只能用于紧跟在有 specify 列的选择题之后、名为 <题目名>{OTHER_SUFFIX} 的文字题",
                           f"our_type {SPECIFY_ROW} is only for the text question <name>{OTHER_SUFFIX} right after a "
                           f"choice question with a specify column")
            continue
        if kind == "select_one":
            allowed = OUR_SELECT_ONE_TYPES
        elif kind == "select_multiple":
            allowed = ("multiple_choice",)
        elif kind in ("integer", "decimal", "range"):
            allowed = ("number",)
        elif kind == "text":
            allowed = ("text",)
        elif kind in DATE_TYPES:
            allowed = (kind,)
            _partial_date(sheet, row, kind, errors)
        elif kind == "note":
            allowed = ("note",)
        else:
            errors.refuse(f"type:{kind}", f"不支持的题型 {raw_type.strip()}", f"unsupported type {raw_type.strip()!r}",
                          sheet.title, "type", row.number)
            continue
        if our_type_text and our_type_text not in allowed:
            errors.add(
                where(row, "our_type"),
                f"题型 {raw_type.strip()} 的 our_type 只能是 {' / '.join(allowed)}，而不是 {our_type_text}",
                f"our_type for {raw_type.strip()!r} must be one of {', '.join(allowed)}, not {our_type_text!r}",
            )
        our_type = our_type_text if our_type_text in allowed else allowed[0]

        question: dict[str, Any] = {}
        info = _QuestionRows(row.number)
        if name:
            question["code"] = name
            if name in names:
                errors.add(
                    where(row, "name"),
                    f"名称 {name} 重复（与第 {names[name]} 行相同）",
                    f"duplicate name {name!r} (same as row {names[name]})",
                )
                continue  # reported; checking the copy as well would only repeat the loader's duplicate message
            names[name] = row.number
        question["type"] = our_type
        label = _label(sheet, row, "label")
        if label:
            question["label"] = label
        hint = _label(sheet, row, "hint")
        if hint:
            question["help"] = hint

        required = sheet.get(row, "required").strip().lower()
        if our_type == "note" and required in FALSE_WORDS:
            pass  # a note has no answer: never required
        elif required in TRUE_WORDS:
            question["required"] = True
        elif required in FALSE_WORDS:
            question["required"] = False
        else:
            # A condition (`${age} > 60`): ODK asks the question always and requires it only sometimes.
            # Ours is required or not; taking it as either would silently change the form, so it is refused.
            written = sheet.get(row, "required").strip()
            errors.add(
                where(row, "required"),
                f"不支持有条件的必答（required 列中的条件 {written}）：请填 yes 或 no；只在某些情况下才问的题请用 relevant 列",
                f"conditional required (the condition {written!r} in the required column) is not supported: write "
                f"yes or no; to ask a question only in some cases, use the relevant column",
            )

        open_group = groups[-1][:2] if groups else None
        section_code = sheet.get(row, "section").strip()
        if open_group is not None:
            info.group_row = open_group[1]
            if section_code and section_code != open_group[0]:
                errors.add(
                    where(row, "section"),
                    f"问题在分组 {open_group[0]} 中，section 列却是 {section_code}",
                    f"the question is inside group {open_group[0]!r} but its section column says {section_code!r}",
                )
            if open_group[0]:
                question["section"] = open_group[0]
        elif section_code:
            question["section"] = section_code
            info.section_from_column = True

        or_other = False
        if kind in ("select_one", "select_multiple") and list_name and len(list_name.split()) == 2 \
                and list_name.split()[1].lower() == "or_other":
            list_name, or_other = list_name.split()[0], True
        if kind in ("select_one", "select_multiple"):
            info.options_missing = list_name not in lists
            if not list_name or len(list_name.split()) != 1:
                if True:
                    errors.add(
                        where(row, "type"),
                        f"{kind} 后面应写一个选项列表名，如 {kind} yes_no",
                        f"{kind} must be followed by one choice list name, e.g. '{kind} yes_no'",
                    )
            elif list_name not in lists:
                where_list = "choices 表中" if choices is not None else "工作簿中没有 choices 表，"
                where_list_en = "in the choices sheet" if choices is not None else "(the workbook has no choices sheet)"
                errors.add(
                    where(row, "type"),
                    f"{where_list}找不到选项列表 {list_name}",
                    f"choice list {list_name!r} is not {where_list_en}" if choices is not None
                    else f"choice list {list_name!r} is missing {where_list_en}",
                )
            else:
                question["options"] = [dict(option) for option, _ in lists[list_name]]
                info.option_rows = [number for _, number in lists[list_name]]
                if or_other and "other" not in {o["code"] for o in question["options"]}:
                    # ODK adds the option "other" itself; ours is written out so it can be counted.
                    question["options"].append({"code": "other", "label": {"zh": "其他", "en": "Other"}})
                if or_other:
                    # ODK's "please specify" text (<name>_other) is ours too: the option asks for it.
                    question["specify"] = "other"
        specify = sheet.get(row, "specify").strip()
        if specify:
            if or_other and specify != "other":
                errors.add(where(row, "specify"), f"or_other 的“请注明”选项是 other，而 specify 列是 {specify}",
                           f"or_other's 'please specify' option is 'other', but the specify column says {specify!r}")
            question["specify"] = specify
        if kind in ("select_one", "select_multiple"):
            randomize = _randomize(sheet, row, errors)
            if randomize:
                question["randomize"] = True

        for key in ("indicator", "demographic"):
            value = sheet.get(row, key).strip()
            if value:
                question[key] = value
        for key in MULTI_VALUE_COLUMNS:
            text = sheet.get(row, key)
            if not text.strip():
                continue
            codes = _split_codes(text)
            if key in ("positive", "invalid") and codes == [NONE_MARKER]:
                codes = []
            elif NONE_MARKER in codes:
                errors.add(
                    where(row, key),
                    f"“{NONE_MARKER}”表示“没有”，不能与选项代码同时填写",
                    f"'{NONE_MARKER}' means 'none' and cannot be combined with option names",
                )
                continue
            if key == "screening_eligible":
                question["screening"] = {"eligible": codes}
            else:
                question[key] = codes

        if our_type == "number":
            question["integer"] = kind == "integer"
        if kind == "range":
            question.update(_range(sheet, row, errors))
        constraint = sheet.get(row, "constraint").strip()
        if constraint and our_type == "multiple_choice":
            question.update(_choice_constraint(constraint, question.get("options") or [], where(row, "constraint"),
                                               errors, name))
        elif constraint and our_type == "date":
            question.update(_date_constraint(constraint, where(row, "constraint"), errors))
        elif constraint:
            question.update(_parse_constraint(constraint, our_type, where(row, "constraint"), errors,
                                              integer=kind == "integer"))

        relevant = _plain_dates(_strip_screening(sheet.get(row, "relevant").strip(), " and ".join(screening)))
        if relevant:
            try:
                parse_condition(relevant)
            except ConditionError as exc:
                errors.add(
                    where(row, "relevant"),
                    f"条件无法解析：{exc.where_zh}{exc.message_zh}",
                    f"cannot parse the condition: {exc.where_en}{exc.message_en}",
                )
                relevant = ""
        # A group's condition holds for every question in it: ours live on the questions.
        conditions = [g[2] for g in groups if g[2]] + ([relevant] if relevant else [])
        if len(conditions) == 1:
            question["relevant"] = conditions[0]
        elif conditions:
            question["relevant"] = " and ".join(f"({c})" for c in conditions)
        if "screening" in question:
            screening_question = Question(code=name, type=our_type, label={}, options=tuple(
                Option(o["code"], {}) for o in question.get("options", ())),
                screening_eligible=frozenset(question["screening"]["eligible"]))
            screening.append(screening_condition(screening_question))

        questions.append(question)
        rows.append(info)

    for open_name, open_row, _ in groups:
        errors.add(sheet.where(open_row, "type"), f"分组 {open_name} 缺少 end group", f"group {open_name!r} has no end group")
    if metadata:
        kinds = ", ".join(dict.fromkeys(sheet.get(r, "type").strip() for r in metadata))
        rows_zh, rows_en = _rows_text(metadata)
        errors.warn(sheet.where(metadata[0].number, "type"),
                    f"元数据字段 {kinds} 未导入（{rows_zh}）：访问的开始和结束时间由本系统自己记录，设备和用户信息不收集",
                    f"metadata fields {kinds} not imported ({rows_en}): the system records each interview's start and "
                    f"end time itself and collects no device or user data")
    if calculated:
        rows_zh, rows_en = _rows_text(calculated)
        kinds = "/".join(dict.fromkeys(_survey_type(sheet.get(r, "type"))[0] for r in calculated))  # calculate, hidden
        errors.warn(sheet.where(calculated[0].number, "type"),
                    f"计算字段（{kinds}）未导入（{rows_zh}）：本系统不存储派生值，得分由 indicator/positive 列从答案算出",
                    f"{kinds} rows not imported ({rows_en}): derived values are not stored; scores come from the "
                    f"answers through the indicator and positive columns")
    for notes, why_zh, why_en in (
            (unshowable_notes, "它显示的计算值或元数据本系统不保存",
             "they show a calculated value or metadata, which the survey does not keep"),
            (media_only_notes, "没有文字，只有图片、音频或视频，本系统不显示媒体文件",
             "they have no text, only an image, audio or video, and the survey shows no media")):
        if notes:
            rows_zh, rows_en = _rows_text(notes)
            errors.warn(sheet.where(notes[0].number, "type"), f"说明文字（note）未导入（{rows_zh}）：{why_zh}",
                        f"notes not imported ({rows_en}): {why_en}")
    if nested:
        rows_zh, rows_en = _rows_text(nested)
        errors.warn(sheet.where(nested[0].number, "type"),
                    f"嵌套分组已展开为相继的分区（{rows_zh}）", f"nested groups became sections of their own ({rows_en})")
    _pipes_left_out(sheet, calculated + metadata, [info.row for info in rows] + section_rows, errors)
    if not questions and not errors:
        errors.add(_Where(sheet.title), "没有任何问题", "there are no questions")
    return questions, rows, sections, section_rows


# ---------------------------------------------------------------------------------------------- loader messages

_QUESTION_WHERE = re.compile(r"^问题 (?P<name>\S+?)(?: 的字段 (?P<field>\S+))?: ")
_SECTION_WHERE = re.compile(r"^分区 (?P<name>\S+?)(?: 的字段 (?P<field>\S+))?: ")
_FIELD_WHERE = re.compile(r"^字段 (?P<field>\S+): ")


def _split_message(message: str, kind: str, name: str | None, field_path: str | None) -> tuple[str, str] | None:
    """Split the rest of a loader message (after its location) into the Chinese and English text."""
    if kind == "question":
        en_where = f"question {name}, field {field_path}: " if field_path else f"question {name}: "
    elif kind == "section":
        en_where = f"section {name}, field {field_path}: " if field_path else f"section {name}: "
    else:
        en_where = f"field {field_path}: "
    separator = f" / {en_where}"
    position = message.find(separator)
    if position < 0:
        return None
    return message[:position], message[position + len(separator):]


def _field_parts(field_path: str) -> tuple[str, int | None, str]:
    """'options[2].label.zh' -> ('options', 2, 'label.zh'); 'positive[0]' -> ('positive', 0, '')."""
    match = re.match(r"^([a-z_]+)(?:\[(\d+)\])?(?:\.(.*))?$", field_path)
    if not match:
        return field_path, None, ""
    return match.group(1), int(match.group(2)) if match.group(2) is not None else None, match.group(3) or ""


def _label_key(base: str, rest: str) -> tuple[str, str | None]:
    language = rest.split(".")[0] if rest else "zh"
    return base, language if language in ("zh", "en") else "zh"


def _translate_loader_errors(
    messages: list[str],
    source: str,
    data: dict,
    survey: _Sheet,
    choices: _Sheet | None,
    settings: _Sheet | None,
    settings_row: int | None,
    question_rows: list[_QuestionRows],
    section_rows: list[int],
    errors: _Errors,
) -> None:
    already = errors.locations()
    code_index: dict[str, int] = {}
    for index, question in enumerate(data.get("questions", [])):
        code = question.get("code")
        if isinstance(code, str):
            code_index.setdefault(code, index)
    section_index = {s.get("code"): i for i, s in enumerate(data.get("sections", []))}
    # Questions whose choice list is missing: option checks on them only repeat that problem.
    no_options = {
        data["questions"][i].get("code") for i, info in enumerate(question_rows) if info.options_missing
    }
    follow_ups = tuple(f"question {code!r} has no option" for code in no_options if isinstance(code, str))

    for message in messages:
        prefix = f"{source}: "
        body = message[len(prefix):] if message.startswith(prefix) else message
        where: _Where | None = None
        split = None
        match = _QUESTION_WHERE.match(body)
        if match:
            name, field_path = match.group("name"), match.group("field")
            split = _split_message(body[match.end():], "question", name, field_path)
            index = int(name[1:]) - 1 if name.startswith("#") and name[1:].isdigit() else code_index.get(name)
            if index is not None and index < len(question_rows):
                info = question_rows[index]
                base = _field_parts(field_path or "")[0]
                if info.options_missing and base in ("options", "positive", "invalid", "correct", "screening", "exclusive",
                                                    "specify", "max_choices"):
                    continue
                if split is not None and base == "relevant" and follow_ups and split[1].startswith(follow_ups):
                    continue
                where = _question_where(info, field_path, data["questions"][index], survey, choices)
        elif (match := _SECTION_WHERE.match(body)):
            name, field_path = match.group("name"), match.group("field")
            split = _split_message(body[match.end():], "section", name, field_path)
            index = int(name[1:]) - 1 if name.startswith("#") and name[1:].isdigit() else section_index.get(name)
            if index is not None and index < len(section_rows):
                base, _, rest = _field_parts(field_path or "code")
                key = _label_key("label", rest) if base == "title" else ("name", None)
                where = survey.where(section_rows[index], key)
        elif (match := _FIELD_WHERE.match(body)):
            field_path = match.group("field")
            split = _split_message(body[match.end():], "field", None, field_path)
            base, _, rest = _field_parts(field_path)
            if base == "questions":
                if any(w.sheet == survey.title for w in already):
                    continue  # no question left because every row has a reported problem
                where = _Where(survey.title)
            elif settings is None:
                where = _Where("settings")
            else:
                key = {"code": ("form_id", None), "version": ("version", None)}.get(base) or _label_key(base, rest)
                if key == ("title", "zh") and key not in settings.by_key:
                    key = ("form_title", None)  # name the column organisers usually write
                where = settings.where(settings_row, key)
        if settings is None and where is not None and where.sheet == "settings":
            continue  # the missing settings sheet is already reported
        if where is None or split is None:
            zh, _, en = body.partition(" / ")
            errors.add(_Where(), zh, en or zh)
            continue
        if where in already:
            continue  # the cell already has a problem reported by the reader; one message per cell is enough
        errors.add(where, *split)


def _question_where(info: _QuestionRows, field_path: str | None, question: dict, survey: _Sheet, choices: _Sheet | None) -> _Where:
    if not field_path:
        return survey.where(info.row)
    base, index, rest = _field_parts(field_path)
    if base == "options" and index is not None and index < len(info.option_rows) and choices is not None:
        if rest.startswith("label"):
            key = _label_key("label", rest.partition(".")[2])
        else:
            key = ("name", None)
        return choices.where(info.option_rows[index], key)
    if base == "options":
        return survey.where(info.row, "type")
    if base == "label":
        return survey.where(info.row, _label_key("label", rest))
    if base == "help":
        return survey.where(info.row, _label_key("hint", rest))
    if base == "code":
        return survey.where(info.row, "name")
    if base == "section":
        if info.section_from_column or info.group_row is None:
            return survey.where(info.row, "section")
        return survey.where(info.group_row, "name")
    if base in ("type", "integer"):
        return survey.where(info.row, "our_type" if question.get("type") in ("yes_no", "satisfaction", "quiz") and base == "type" else "type")
    if base in ("min", "max", "max_length"):
        return survey.where(info.row, "constraint")
    if base == "screening":
        return survey.where(info.row, "screening_eligible")
    if base in ("max_choices", "exclusive"):
        return survey.where(info.row, "constraint")
    if base == "specify":
        return survey.where(info.row, "specify" if ("specify", None) in survey.by_key else "type")
    if base == "randomize":
        return survey.where(info.row, "type")
    if base in ("required", "relevant", "indicator", "positive", "invalid", "correct", "demographic"):
        return survey.where(info.row, base)
    return survey.where(info.row)


# ---------------------------------------------------------------------------------------------- public: read

def read_xlsform(path_or_bytes: str | Path | bytes | BinaryIO, source_name: str | None = None,
                 language: str | None = None) -> Questionnaire:
    """Import an XLSForm workbook (a path, the file's bytes or a binary file object).

    Raises XLSFormError listing every problem, each naming the sheet, row and column. See
    `import_xlsform` for the warnings of a form that imports.
    """
    return import_xlsform(path_or_bytes, source_name, language)[0]


def import_xlsform(path_or_bytes: str | Path | bytes | BinaryIO, source_name: str | None = None,
                   language: str | None = None) -> tuple[Questionnaire, list[str]]:
    """Import an XLSForm workbook; returns the questionnaire and the warnings (bilingual, each naming
    the sheet, row and column): what was ignored, defaulted or renamed on the way.

    `language` is the citizens' language when the form has no Chinese labels (a language name or code
    as written in the columns, e.g. "English" or "en"); without it, the settings' default_language,
    then English, then the first language found. Raises XLSFormError listing every problem.
    """
    if source_name is None and isinstance(path_or_bytes, (str, Path)):
        source_name = Path(path_or_bytes).name
    errors = _Errors(source_name)
    book = _read_book(path_or_bytes, errors)
    if book is None:
        errors.raise_if_any()
        raise XLSFormError(["无法打开工作簿 / cannot open the workbook"])  # pragma: no cover - defensive
    names = book.pop("_names")
    for name in UNSUPPORTED_SHEETS:
        if name in book and book[name].rows:
            title = book[name].title
            errors.add(_Where(title), f"不支持 {title} 表", f"the {title!r} sheet is not supported")
    if "survey" not in book:
        found = ", ".join(names)
        errors.add(
            _Where(),
            f"缺少 survey 表（XLSForm 的问题写在名为 survey 的工作表中；本工作簿只有：{found}）",
            f"the survey sheet is missing (XLSForm questions go in a sheet named 'survey'; this workbook has: {found})",
        )
        errors.raise_if_any()

    sheets: dict[str, _Sheet | None] = {k: book.get(k) for k in SHEETS}
    settings = sheets["settings"]
    default_language = None
    if settings is not None:
        # default_language decides what a plain `label` column means; resolve it before the other columns
        column = next((c for c in settings.columns if c.base == "default_language" and c.language is None), None)
        value = settings.rows[0].cells.get(column.index, "").strip() if column and settings.rows else ""
        default_language = value or None
    for kind, sheet in sheets.items():
        if sheet is not None:
            _resolve_columns(sheet, kind, errors)
    _choose_languages(sheets, default_language, language, errors)
    renames = _normalise_names(sheets, errors)

    survey = sheets["survey"]
    lists = _read_choices(sheets["choices"], errors)
    data, settings_row = _read_settings(settings, errors, source_name)
    questions, question_rows, sections, section_rows = _read_survey(survey, lists, sheets["choices"], errors)
    if sections:
        data["sections"] = sections
    data["questions"] = questions

    source = source_name or "XLSForm"
    errors.flush_refused()
    try:
        questionnaire = parse_questionnaire(data, source)
    except QuestionnaireError as exc:
        _translate_loader_errors(
            exc.errors, source, data, survey, sheets["choices"], settings, settings_row, question_rows, section_rows, errors
        )
        errors.raise_if_any()
        raise XLSFormError(exc.errors) from exc  # pragma: no cover - every loader message is translated above
    errors.raise_if_any()
    return questionnaire, errors.warnings()
