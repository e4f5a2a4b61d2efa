"""XLSForm (ODK / KoboToolbox spreadsheet) import and export for questionnaires.

An XLSForm is an .xlsx workbook with the sheets `survey`, `choices` and `settings`. `read_xlsform`
turns one into the plain dict a YAML file would give and validates it with `parse_questionnaire`, so
an imported form obeys exactly the same rules as a YAML file; `write_xlsform` does the reverse, and
`read_xlsform(write_xlsform(q)).to_dict() == q.to_dict()` holds for every valid questionnaire.

Nothing is silently dropped: an unsupported type, column, constraint or sheet is reported. Every
problem of a workbook is collected first and raised once as `XLSFormError`, whose `.errors` name the
sheet, the Excel row number (as the user sees it) and the column, in Chinese and English. Problems
found by `parse_questionnaire` are translated back to the row and column they came from.

The format, including our extension columns, is described in XLSFORM.md in this folder.

Why one module of ~1,150 lines: reading and writing one format must stay in step (the round trip
above is tested for every valid questionnaire), and both use the same column tables and messages.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from .loader import DEFAULT_INVALID, DEFAULT_POSITIVE, DEFAULT_OPTIONS, parse_questionnaire
from .logic import ConditionError, parse_condition
from .model import CHOICE_TYPES, Question, Questionnaire, QuestionnaireError

__all__ = ["XLSFormError", "read_xlsform", "write_xlsform", "write_xlsform_file"]


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
WRITE_LANGUAGE_NAMES = {"zh": "中文", "en": "English"}

# Columns that may carry a language suffix (`label::中文`).
TRANSLATABLE = {
    "survey": ("label", "hint"),
    "choices": ("label",),
    "settings": ("title", "intro", "thanks"),
}
SURVEY_COLUMNS = (
    "type", "name", "label", "hint", "required", "relevant", "constraint",
    # our extensions
    "our_type", "indicator", "positive", "invalid", "correct", "screening_eligible", "demographic", "section",
)
EXTENSION_COLUMNS = ("our_type", "indicator", "positive", "invalid", "correct", "screening_eligible", "demographic", "section")
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_id", "version", "title", "intro", "thanks", "default_language")
# Display or bookkeeping columns that do not change what is asked or how it is counted.
IGNORABLE_COLUMNS = {
    "survey": ("appearance", "constraint_message", "required_message", "guidance_hint", "comment", "comments", "note_to_translator"),
    "choices": ("comment", "comments"),
    "settings": ("style", "instance_name", "submission_url", "public_key", "auto_send", "auto_delete",
                 "namespaces", "allow_choice_duplicates", "clean_text_values", "comment", "comments"),
}
# Standard XLSForm columns whose behaviour we cannot reproduce: a non-empty cell is an error.
UNSUPPORTED_COLUMNS = {
    "survey": ("calculation", "default", "choice_filter", "repeat_count", "read_only", "parameters", "trigger",
               "image", "big-image", "audio", "video", "media", "body", "bind", "instance", "label_media"),
    "choices": ("image", "big-image", "audio", "video", "media", "filter"),
    "settings": (),
}
MULTI_VALUE_COLUMNS = ("positive", "invalid", "correct", "screening_eligible")
NONE_MARKER = "-"  # in positive / invalid: "explicitly none", overriding the type's default

METADATA_TYPES = ("start", "end", "today", "deviceid", "username", "phonenumber", "simserial", "subscriberid",
                  "audit", "email", "imei", "start-geopoint", "background-audio")
OUR_SELECT_ONE_TYPES = ("single_choice", "yes_no", "satisfaction", "quiz")

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
    def __init__(self, source: str | None):
        self.source = source
        self._entries: list[tuple[_Where, str, str]] = []

    def add(self, where: _Where, zh: str, en: str) -> None:
        if (where, zh, en) not in self._entries:
            self._entries.append((where, zh, en))

    def locations(self) -> set[_Where]:
        return {where for where, _, _ in self._entries}

    def __bool__(self) -> bool:
        return bool(self._entries)

    def messages(self) -> list[str]:
        def rank(entry):
            where = entry[0]
            sheet = (where.sheet or "").lower()
            order = SHEETS.index(sheet) + 1 if sheet in SHEETS else (0 if where.sheet is None else len(SHEETS) + 1)
            return (order, where.row or 0)

        out = []
        for where, zh, en in sorted(self._entries, key=rank):
            where_zh, where_en = where.prefix()
            message = f"{where_zh}{zh} / {where_en}{en}"
            out.append(f"{self.source}: {message}" if self.source else message)
        return out

    def raise_if_any(self) -> None:
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


def _read_sheet(worksheet) -> _Sheet:
    rows = []
    header = None
    header_row = None
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells = {i: _cell_text(v) for i, v in enumerate(values)}
        cells = {i: v for i, v in cells.items() if v != ""}
        if not cells:
            continue
        if header is None:
            header, header_row = cells, number
            continue
        rows.append(_Row(number, cells))
    columns = []
    for index, text in sorted((header or {}).items()):
        text = text.strip()
        base, sep, language = text.partition("::")
        columns.append(_Column(index, text, base.strip().lower().replace(" ", "_"), language.strip() if sep else None))
    return _Sheet(worksheet.title, header_row, columns, rows)


def _column_has_values(sheet: _Sheet, column: _Column) -> list[_Row]:
    return [row for row in sheet.rows if column.index in row.cells]


def _resolve_columns(sheet: _Sheet, kind: str, default_language: str, errors: _Errors) -> None:
    """Map each header to a known column, reporting unknown, duplicated and unsupported ones."""
    known = {"survey": SURVEY_COLUMNS, "choices": CHOICES_COLUMNS, "settings": SETTINGS_COLUMNS}[kind]
    for column in sheet.columns:
        if kind == "choices" and column.base == "list name":
            column.base = "list_name"
        if kind == "settings" and column.base == "form_title":
            column.base = "title"  # form_title is the title in the default language; title::English etc. the others
    for column in sheet.columns:
        base = column.base
        where = _Where(sheet.title, sheet.header_row, column.header)
        if base.startswith("$") or base in IGNORABLE_COLUMNS[kind]:
            continue
        if base in UNSUPPORTED_COLUMNS[kind] or (column.language is not None and base in ("media", "image", "audio", "video", "big-image")):
            for row in _column_has_values(sheet, column):
                errors.add(
                    _Where(sheet.title, row.number, column.header),
                    f"不支持 {column.header} 列（请删除此单元格的内容）",
                    f"column {column.header!r} is not supported (please clear this cell)",
                )
            continue
        if base not in known:
            if _column_has_values(sheet, column):
                errors.add(where, f"不认识的列 {column.header}（拼写错误？）", f"unknown column {column.header!r} (misspelt?)")
            continue
        if column.language is not None:
            if base not in TRANSLATABLE[kind]:
                errors.add(where, f"{base} 列不能带语言后缀", f"column {base!r} cannot have a language suffix")
                continue
            language = _normalise_language(column.language)
            if language is None:
                errors.add(
                    where,
                    f"不支持的语言 {column.language}（只支持中文和英文，如 label::中文、label::English）",
                    f"unsupported language {column.language!r} (only Chinese and English, e.g. label::中文, label::English)",
                )
                continue
        elif base in TRANSLATABLE[kind]:
            language = default_language
        else:
            language = None
        key = (base, language)
        if key in sheet.by_key:
            errors.add(
                where,
                f"与 {sheet.by_key[key].header} 列重复",
                f"duplicates column {sheet.by_key[key].header!r}",
            )
            continue
        sheet.by_key[key] = column


def _open_workbook(source: str | Path | bytes | bytearray | memoryview | BinaryIO, errors: _Errors):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            stream: Any = io.BytesIO(bytes(source))
        elif isinstance(source, (str, Path)):
            stream = io.BytesIO(Path(source).read_bytes())
        else:
            stream = io.BytesIO(source.read())
        data = stream.getvalue()
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            errors.add(
                _Where(),
                "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入",
                "this is an old Excel (.xls) file; save it as .xlsx in Excel and import that",
            )
            return None
        if not zipfile.is_zipfile(stream):
            errors.add(_Where(), "不是有效的 .xlsx 文件（XLSForm 必须是 Excel .xlsx 工作簿）",
                       "not a valid .xlsx file (an XLSForm must be an Excel .xlsx workbook)")
            return None
        stream.seek(0)
        return openpyxl.load_workbook(stream, data_only=True)
    except OSError as exc:
        errors.add(_Where(), f"无法读取文件：{exc}", f"cannot read the file: {exc}")
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        errors.add(_Where(), f"不是有效的 .xlsx 文件：{exc}", f"not a valid .xlsx file: {exc}")
    except Exception as exc:  # openpyxl raises many things on a damaged workbook; never leak a traceback
        errors.add(_Where(), f"无法打开工作簿：{type(exc).__name__}: {exc}", f"cannot open the workbook: {type(exc).__name__}: {exc}")
    return None


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


def _parse_constraint(text: str, our_type: str, where: _Where, errors: _Errors) -> dict[str, Any]:
    """The supported subset: `. >= A and . <= B` (either half) for numbers, `string-length(.) <= N` for text."""
    unsupported_zh = (
        f"不支持的约束 {text}（只支持 . >= 最小值 and . <= 最大值，或 string-length(.) <= 最多字数）"
    )
    unsupported_en = (
        f"unsupported constraint {text!r} (only '. >= MIN and . <= MAX' or 'string-length(.) <= N' are supported)"
    )
    parts = [p.strip() for p in re.split(r"\s+and\s+", text.strip())]
    if our_type == "text":
        match = _STRING_LENGTH.match(text.strip())
        if len(parts) == 1 and match and match.group(1) == "<=" and int(match.group(2)) >= 1:
            return {"max_length": int(match.group(2))}
        errors.add(where, unsupported_zh, unsupported_en)
        return {}
    if our_type != "number":
        errors.add(where, "只有数字题和文字题可以设置约束", "only number and text questions can have a constraint")
        return {}
    result: dict[str, Any] = {}
    for part in parts:
        match = _BOUND.match(part)
        if not match or match.group(1) not in (">=", "<="):
            errors.add(where, unsupported_zh, unsupported_en)
            return {}
        key = "min" if match.group(1) == ">=" else "max"
        if key in result:
            errors.add(where, f"约束中 {match.group(1)} 出现了两次", f"{match.group(1)} appears twice in the constraint")
            return {}
        result[key] = _parse_number(match.group(2))
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


def _read_settings(sheet: _Sheet | None, errors: _Errors) -> tuple[dict, int | None]:
    data: dict[str, Any] = {}
    if sheet is None:
        errors.add(
            _Where(),
            "缺少 settings 表（需要 form_id、version 和 form_title 三列）",
            "the settings sheet is missing (it needs the columns form_id, version and form_title)",
        )
        return data, None
    if not sheet.rows:
        return data, (sheet.header_row or 1) + 1
    row = sheet.rows[0]
    for extra in sheet.rows[1:]:
        errors.add(sheet.where(extra.number), "settings 表只能有一行数据", "the settings sheet can only have one row of values")
    form_id = sheet.get(row, "form_id").strip()
    if form_id:
        data["code"] = form_id
    version = sheet.get(row, "version").strip()
    if version:
        data["version"] = int(version) if re.fullmatch(r"\d+", version) else version
    for key in ("title", "intro", "thanks"):
        value = _label(sheet, row, key)
        if value:
            data[key] = value
    return data, row.number


def _survey_type(raw: str) -> tuple[str, str | None]:
    """('select_one', 'yes_no'), ('integer', None), ('begin_group', None) ..."""
    text = " ".join(raw.strip().split())
    lowered = text.lower()
    for prefix, kind in (
        ("select_one_from_file", "select_one_from_file"),
        ("select_multiple_from_file", "select_multiple_from_file"),
        ("select_one", "select_one"),
        ("select one", "select_one"),
        ("select_multiple", "select_multiple"),
        ("select multiple", "select_multiple"),
        ("select all that apply", "select_multiple"),
    ):
        if lowered == prefix or lowered.startswith(prefix + " "):
            return kind, text[len(prefix):].strip() or None
    aliases = {
        "begin group": "begin_group", "begin_group": "begin_group",
        "end group": "end_group", "end_group": "end_group",
        "begin repeat": "begin_repeat", "begin_repeat": "begin_repeat",
        "end repeat": "end_repeat", "end_repeat": "end_repeat",
        "int": "integer", "string": "text",
    }
    return aliases.get(lowered, lowered), None


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
    open_group: tuple[str, int] | None = None  # (name, row)

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
            if open_group is not None:
                errors.add(
                    where(row, "type"),
                    f"不支持嵌套分组（第 {open_group[1]} 行的分组 {open_group[0]} 还没有结束）",
                    f"nested groups are not supported (group {open_group[0]!r} from row {open_group[1]} is still open)",
                )
                continue
            no_extra_columns(row, ("label",), "分组", "a group")
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
                sections.append(section)
                section_rows.append(row.number)
            open_group = (name, row.number)
            continue

        if kind == "end_group":
            if open_group is None:
                errors.add(where(row, "type"), "end group 前面没有对应的 begin group", "end group without a matching begin group")
            elif name and name != open_group[0]:
                errors.add(
                    where(row, "name"),
                    f"结束的分组 {name} 与第 {open_group[1]} 行开始的分组 {open_group[0]} 不一致",
                    f"ends group {name!r}, but group {open_group[0]!r} was begun in row {open_group[1]}",
                )
            open_group = None
            continue

        our_type_text = sheet.get(row, "our_type").strip()
        if kind == "select_one":
            allowed = OUR_SELECT_ONE_TYPES
        elif kind == "select_multiple":
            allowed = ("multiple_choice",)
        elif kind in ("integer", "decimal"):
            allowed = ("number",)
        elif kind == "text":
            allowed = ("text",)
        else:
            if kind in ("begin_repeat", "end_repeat"):
                zh, en = "不支持重复组（repeat）", f"repeats are not supported ({raw_type.strip()!r})"
            elif kind in METADATA_TYPES:
                zh = f"不支持元数据字段 {raw_type.strip()}（请删除这一行）"
                en = f"metadata field {raw_type.strip()!r} is not supported (delete this row)"
            elif kind == "note":
                zh = "不支持说明文字（note）：本系统的问卷只有问题，说明请写在问题的提示（hint）中"
                en = "unsupported type 'note': put explanations in a question's hint"
            else:
                zh, en = f"不支持的题型 {raw_type.strip()}", f"unsupported type {raw_type.strip()!r}"
            errors.add(where(row, "type"), zh, en)
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
        if required in TRUE_WORDS:
            question["required"] = True
        elif required in FALSE_WORDS:
            question["required"] = False
        else:
            errors.add(
                where(row, "required"),
                f"required 只能填 yes 或 no，不支持条件 {required}",
                f"required must be yes or no; {required!r} is not supported",
            )

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

        if kind in ("select_one", "select_multiple"):
            info.options_missing = list_name not in lists
            if not list_name or len(list_name.split()) != 1:
                if list_name and list_name.split()[-1] == "or_other":
                    errors.add(where(row, "type"), "不支持 or_other（其他，请注明）", "'or_other' is not supported")
                else:
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
        constraint = sheet.get(row, "constraint").strip()
        if constraint:
            question.update(_parse_constraint(constraint, our_type, where(row, "constraint"), errors))

        relevant = sheet.get(row, "relevant").strip()
        if relevant:
            try:
                parse_condition(relevant)
            except ConditionError as exc:
                errors.add(
                    where(row, "relevant"),
                    f"条件无法解析：{exc.where_zh}{exc.message_zh}",
                    f"cannot parse the condition: {exc.where_en}{exc.message_en}",
                )
            else:
                question["relevant"] = relevant

        questions.append(question)
        rows.append(info)

    if open_group is not None:
        errors.add(
            sheet.where(open_group[1], "type"),
            f"分组 {open_group[0]} 缺少 end group",
            f"group {open_group[0]!r} has no end group",
        )
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
                if info.options_missing and base in ("options", "positive", "invalid", "correct", "screening"):
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
    if base in ("required", "relevant", "indicator", "positive", "invalid", "correct", "demographic"):
        return survey.where(info.row, base)
    return survey.where(info.row)


# ---------------------------------------------------------------------------------------------- public: read

def read_xlsform(path_or_bytes: str | Path | bytes | BinaryIO, source_name: str | None = None) -> Questionnaire:
    """Import an XLSForm workbook (a path, the file's bytes or a binary file object).

    Raises XLSFormError listing every problem, each naming the sheet, row and column.
    """
    if source_name is None and isinstance(path_or_bytes, (str, Path)):
        source_name = Path(path_or_bytes).name
    errors = _Errors(source_name)
    workbook = _open_workbook(path_or_bytes, errors)
    if workbook is None:
        errors.raise_if_any()
        raise XLSFormError(["无法打开工作簿 / cannot open the workbook"])  # pragma: no cover - defensive

    worksheets = {ws.title.strip().lower(): ws for ws in workbook.worksheets}
    for name in UNSUPPORTED_SHEETS:
        if name in worksheets and _read_sheet(worksheets[name]).rows:
            ws = worksheets[name]
            errors.add(_Where(ws.title), f"不支持 {ws.title} 表", f"the {ws.title!r} sheet is not supported")
    if "survey" not in worksheets:
        found = ", ".join(ws.title for ws in workbook.worksheets)
        errors.add(
            _Where(),
            f"缺少 survey 表（XLSForm 的问题写在名为 survey 的工作表中；本工作簿只有：{found}）",
            f"the survey sheet is missing (XLSForm questions go in a sheet named 'survey'; this workbook has: {found})",
        )
        errors.raise_if_any()

    sheets: dict[str, _Sheet | None] = {k: (_read_sheet(worksheets[k]) if k in worksheets else None) for k in SHEETS}
    settings = sheets["settings"]
    default_language = "zh"
    if settings is not None:
        # default_language decides what a plain `label` column means; resolve it before the other columns
        column = next((c for c in settings.columns if c.base == "default_language" and c.language is None), None)
        value = settings.rows[0].cells.get(column.index, "").strip() if column and settings.rows else ""
        if value:
            language = _normalise_language(value)
            if language is None:
                errors.add(
                    settings.where(settings.rows[0].number, header=column.header),
                    f"不支持的语言 {value}（只支持中文和英文）",
                    f"unsupported language {value!r} (only Chinese and English)",
                )
            else:
                default_language = language
    for kind, sheet in sheets.items():
        if sheet is not None:
            _resolve_columns(sheet, kind, default_language, errors)

    survey = sheets["survey"]
    lists = _read_choices(sheets["choices"], errors)
    data, settings_row = _read_settings(settings, errors)
    questions, question_rows, sections, section_rows = _read_survey(survey, lists, sheets["choices"], errors)
    if sections:
        data["sections"] = sections
    data["questions"] = questions

    source = source_name or "XLSForm"
    try:
        questionnaire = parse_questionnaire(data, source)
    except QuestionnaireError as exc:
        _translate_loader_errors(
            exc.errors, source, data, survey, sheets["choices"], settings, settings_row, question_rows, section_rows, errors
        )
        errors.raise_if_any()
        raise XLSFormError(exc.errors) from exc  # pragma: no cover - every loader message is translated above
    errors.raise_if_any()
    return questionnaire


# ---------------------------------------------------------------------------------------------- public: write

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


def _question_row(question: Question, list_name: str | None, section_cell: str) -> dict[str, Any]:
    if question.type in CHOICE_TYPES:
        xls_type = f"{'select_multiple' if question.type == 'multiple_choice' else 'select_one'} {list_name}"
    elif question.type == "number":
        xls_type = "integer" if question.integer else "decimal"
    else:
        xls_type = "text"
    help_ = question.help or {}
    row = {
        "type": xls_type,
        "name": question.code,
        "label::中文": question.label.get("zh"),
        "label::English": question.label.get("en"),
        "hint::中文": help_.get("zh"),
        "hint::English": help_.get("en"),
        "required": "yes" if question.required else "no",
        "relevant": question.relevant,
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
    return row


SURVEY_HEADERS = (
    "type", "name", "label::中文", "label::English", "hint::中文", "hint::English", "required", "relevant",
    "constraint", "our_type", "indicator", "positive", "invalid", "correct", "screening_eligible", "demographic",
    "section",
)
CHOICES_HEADERS = ("list_name", "name", "label::中文", "label::English")
SETTINGS_HEADERS = (
    "form_id", "version", "form_title", "title::English", "intro::中文", "intro::English",
    "thanks::中文", "thanks::English", "default_language",
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
                     "label::中文": titles[code].get("zh"), "label::English": titles[code].get("en")})
        emitted.add(code)

    def end() -> None:
        rows.append({"type": "end group", "name": None})

    def declare_up_to(code: str) -> None:
        for earlier in declared[: declared.index(code)]:
            if earlier not in emitted:
                begin(earlier)
                end()

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
        rows.append(_question_row(question, list_names.get(question.code), section_cell))
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
        {"list_name": name, "name": option.code, "label::中文": option.label.get("zh"), "label::English": option.label.get("en")}
        for name, options in lists
        for option in options
    ]
    settings_row = {
        "form_id": questionnaire.code,
        "version": questionnaire.version,
        "form_title": questionnaire.title.get("zh"),
        "title::English": questionnaire.title.get("en"),
        "intro::中文": (questionnaire.intro or {}).get("zh"),
        "intro::English": (questionnaire.intro or {}).get("en"),
        "thanks::中文": (questionnaire.thanks or {}).get("zh"),
        "thanks::English": (questionnaire.thanks or {}).get("en"),
        "default_language": "中文",
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
