"""Reading an answer as a person types it (paper forms, spreadsheets) into the answer the runner stores.

Pure functions over a question and a cell value: option labels in either language, option codes and
1-based option numbers are all accepted, full-width digits and other dashes are normalised, and several
options in one cell may be separated by ";" (always safe) or by "、" and "," (which also occur inside
labels such as 电视、广播, and are resolved against the labels). The paper import uses them; so can any
other typed-in source. Messages are in the language asked for.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Mapping

from . import dates
from .model import CHOICE_TYPES, DATE_TYPES, Question

__all__ = ["normalise_text", "comparison_key", "cell_text", "range_text", "option_lookup", "read_typed_answer",
           "typed_number", "show_number", "STRONG_SEPARATORS", "WEAK_SEPARATORS"]

# Separators of several options in one cell.  ";" never occurs inside a label, so it is the safe one;
# "、" and "," also occur inside labels (电视、广播), which the reader resolves against the labels.
STRONG_SEPARATORS = re.compile(r"[;；\n\r|]+")
WEAK_SEPARATORS = re.compile(r"\s*[、,，/]\s*")
_DASHES = re.compile(r"[‐‑‒–—―－~～〜]")


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def normalise_text(value: Any) -> str:
    """Text as compared: NFKC (full-width digits and letters), one kind of dash, single spaces."""
    text = unicodedata.normalize("NFKC", str(value))
    text = _DASHES.sub("-", text)
    return " ".join(text.split())


def comparison_key(value: Any) -> str:
    return normalise_text(value).casefold()


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: whole floats without ".0", dates in ISO form, normalised."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return normalise_text(value)


def show_number(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def range_text(question: Question, lang: str) -> str:
    kind = _msg(lang, "整数" if question.integer else "数字", "whole number" if question.integer else "number")
    low, high = question.min, question.max
    if low is not None and high is not None:
        return _msg(lang, f"{show_number(low)} 到 {show_number(high)} 之间的{kind}", f"a {kind} from {show_number(low)} to {show_number(high)}")
    if low is not None:
        return _msg(lang, f"不小于 {show_number(low)} 的{kind}", f"a {kind} of at least {show_number(low)}")
    if high is not None:
        return _msg(lang, f"不大于 {show_number(high)} 的{kind}", f"a {kind} of at most {show_number(high)}")
    return _msg(lang, kind, f"a {kind}")



@lru_cache(maxsize=8192)
def _split_key(text: str) -> str:
    """A label's comparison key with its inner separators unified, so 电视、广播 == 电视,广播."""
    return "、".join(part for part in WEAK_SEPARATORS.split(comparison_key(text)) if part)


def option_lookup(question: Question) -> dict[str, str]:
    """Comparison key -> option code: labels in both languages, codes, and 1-based numbers."""
    lookup: dict[str, str] = {}
    for lang in ("zh", "en"):
        for option in question.options:
            lookup.setdefault(_split_key(option.text(lang)), option.code)
    for number, option in enumerate(question.options, start=1):
        lookup.setdefault(_split_key(option.code), option.code)
        lookup.setdefault(str(number), option.code)
    return lookup


def options_hint(question: Question, lang: str) -> str:
    return _msg(lang, "可选：", "options: ") + _msg(lang, "、", ", ").join(o.text(lang) for o in question.options)


def read_typed_answer(question: Question, value: Any, lookup: Mapping[str, str] | None, lang: str) -> tuple[Any, str | None]:
    if question.type in CHOICE_TYPES:
        text = cell_text(value)
        if question.type != "multiple_choice":
            code = lookup.get(_split_key(text))
            if code is None:
                return None, _msg(lang, f"无法识别的选项“{text}”（{options_hint(question, lang)}）",
                                  f"unknown option “{text}” ({options_hint(question, lang)})")
            return code, None
        codes, unknown = [], []
        for part in STRONG_SEPARATORS.split(comparison_key(text)):
            pieces = [p for p in WEAK_SEPARATORS.split(part.strip()) if p]
            found, leftover = _segment(pieces, lookup)
            codes.extend(c for c in found if c not in codes)
            unknown.extend(leftover)
        if unknown:
            shown = _msg(lang, "、", ", ").join(unknown)
            return None, _msg(lang, f"无法识别的选项“{shown}”（多个选项用“;”分隔；{options_hint(question, lang)}）",
                              f"unknown option “{shown}” (separate several with “;”; {options_hint(question, lang)})")
        return codes, None
    if question.type == "number":
        number = typed_number(value)
        if number is None:
            return None, _msg(lang, f"“{cell_text(value)}”不是数字，请填写{range_text(question, lang)}",
                              f"“{cell_text(value)}” is not a number: enter {range_text(question, lang)}")
        return number, None  # range and whole-number checks: answer_problems
    if question.type in DATE_TYPES:
        # A date / time cell of Excel, or text such as 2024-05-01, 2024/5/1, 2024年5月1日, 8:30.
        iso = dates.read(question.type, normalise_text(value) if isinstance(value, str) else value)
        if iso is None:
            shown = cell_text(value)
            return None, _msg(lang, f"“{shown}”不是{dates.KIND_WORDS[question.type][0]}，请填写{dates.kind_text(question.type, lang)}",
                              f"“{shown}” is not {dates.KIND_WORDS[question.type][1]}: enter {dates.kind_text(question.type, lang)}")
        return iso, None  # bounds: answer_problems
    if isinstance(value, (datetime, date)):
        return value.isoformat(), None
    return (cell_text(value) if isinstance(value, (int, float)) else str(value).strip()), None


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


def typed_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = value
    else:
        text = normalise_text(value).replace(",", "")
        try:
            number = float(text)
        except ValueError:
            return None
    if not math.isfinite(number):
        return None
    return int(number) if float(number).is_integer() else float(number)
