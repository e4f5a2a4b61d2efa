"""What changed between two versions of a questionnaire, question by question.

Questions are matched by their stable code.  `diff_questionnaires(old, new)` lists every change as a
`Change`; `diff_table(changes, lang)` turns the list into a small table for people.

Kinds:

* ``added`` / ``removed``: a question (field None), an option (field ``options.<code>``) or a
  section (question None, field ``sections.<code>``);
* ``changed``: a field of a question (``label.zh``, ``type``, ``positive``, ``options.<code>.label.en``,
  ``section``, …) or of the questionnaire itself (question None: ``title.zh``, ``intro.en``, …);
* ``moved``: a question whose place among the questions present in both versions changed (field
  ``order``, old and new 1-based positions), or options shown in another order (field ``options``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .model import Question, Questionnaire

KINDS = ("added", "removed", "changed", "moved")
LANGS = ("zh", "en")
# Question fields compared one by one, in the order they are reported.
QUESTION_FIELDS = ("type", "required", "section", "indicator", "positive", "invalid", "correct", "screening",
                   "demographic", "min", "max", "integer", "max_length", "relevant", "max_choices", "exclusive",
                   "specify", "randomize", "earliest", "latest")


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed | moved
    question: str | None  # the question code; None for the questionnaire itself and its sections
    field: str | None  # None for a whole question added or removed
    old: Any = None  # a text, number, bool, tuple of option codes, or None
    new: Any = None


def _label_changes(question: str | None, field: str, old: dict | None, new: dict | None) -> list[Change]:
    old, new = old or {}, new or {}
    return [Change("changed", question, f"{field}.{lang}", old.get(lang), new.get(lang))
            for lang in LANGS if old.get(lang) != new.get(lang)]


def _moved(old_codes: list[str], new_codes: list[str]) -> set[str]:
    """Codes outside a longest common subsequence of the two orders: the fewest questions whose moving
    explains the new order (inserting or deleting questions moves nothing)."""
    common = set(old_codes) & set(new_codes)
    a = [c for c in old_codes if c in common]
    b = [c for c in new_codes if c in common]
    n, m = len(a), len(b)
    lengths = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            lengths[i][j] = lengths[i + 1][j + 1] + 1 if a[i] == b[j] else max(lengths[i + 1][j], lengths[i][j + 1])
    kept, i, j = set(), 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            kept.add(a[i])
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return common - kept


def _frozen(value: Any) -> Any:
    """Lists of option codes as tuples and screening as its eligible codes, so a Change is hashable."""
    if isinstance(value, dict):
        return tuple(value.get("eligible") or ())
    if isinstance(value, list):
        return tuple(value)
    return value


def _question_changes(old: Question, new: Question) -> list[Change]:
    code = old.code
    changes = _label_changes(code, "label", old.label, new.label)
    changes += _label_changes(code, "help", old.help, new.help)
    before, after = old.to_dict(), new.to_dict()
    old_options = {o.code: o for o in old.options}
    new_options = {o.code: o for o in new.options}
    for option in old.options:
        if option.code not in new_options:
            changes.append(Change("removed", code, f"options.{option.code}", option.text("zh"), None))
        else:
            changes += _label_changes(code, f"options.{option.code}.label", option.label,
                                      new_options[option.code].label)
    for option in new.options:
        if option.code not in old_options:
            changes.append(Change("added", code, f"options.{option.code}", None, option.text("zh")))
    kept_old = [c for c in old.option_codes if c in new_options]
    kept_new = [c for c in new.option_codes if c in old_options]
    if kept_old != kept_new:
        changes.append(Change("moved", code, "options", tuple(kept_old), tuple(kept_new)))
    for field in QUESTION_FIELDS:
        if before.get(field) != after.get(field):  # (the newer fields are written only when used)
            changes.append(Change("changed", code, field, _frozen(before.get(field)), _frozen(after.get(field))))
    return changes


def diff_questionnaires(old: Questionnaire, new: Questionnaire) -> list[Change]:
    """Every difference between two questionnaires (normally two versions of one), in reading order:
    the questionnaire's own texts, its sections, then question by question in the new order, with
    removed questions last."""
    changes: list[Change] = []
    if old.code != new.code:
        changes.append(Change("changed", None, "code", old.code, new.code))
    for field in ("title", "intro", "thanks"):
        changes += _label_changes(None, field, getattr(old, field), getattr(new, field))

    old_sections = {s.code: s for s in old.sections}
    new_sections = {s.code: s for s in new.sections}
    for section in new.sections:
        if section.code not in old_sections:
            changes.append(Change("added", None, f"sections.{section.code}", None, section.text("zh")))
        else:
            changes += _label_changes(None, f"sections.{section.code}.title", old_sections[section.code].title,
                                      section.title)
    for section in old.sections:
        if section.code not in new_sections:
            changes.append(Change("removed", None, f"sections.{section.code}", section.text("zh"), None))

    old_codes = [q.code for q in old.questions]
    new_codes = [q.code for q in new.questions]
    moved = _moved(old_codes, new_codes)
    for position, question in enumerate(new.questions, start=1):
        if not old.has_question(question.code):
            changes.append(Change("added", question.code, None, None, question.text("zh")))
            continue
        if question.code in moved:
            changes.append(Change("moved", question.code, "order", old_codes.index(question.code) + 1, position))
        changes += _question_changes(old.question(question.code), question)
    for question in old.questions:
        if not new.has_question(question.code):
            changes.append(Change("removed", question.code, None, question.text("zh"), None))
    return changes


# ---------------------------------------------------------------------------------------- display

HEADERS = {
    "zh": ("变化", "问题", "字段", "原来", "现在"),
    "en": ("Change", "Question", "Field", "Before", "After"),
}
KIND_NAMES = {
    "added": ("新增", "added"),
    "removed": ("删除", "removed"),
    "changed": ("修改", "changed"),
    "moved": ("移动", "moved"),
}
FIELD_NAMES = {
    "label": ("题目", "label"),
    "help": ("提示", "hint"),
    "type": ("题型", "type"),
    "required": ("必答", "required"),
    "section": ("分区", "section"),
    "indicator": ("指标", "indicator"),
    "positive": ("正面选项", "positive options"),
    "invalid": ("无效选项", "invalid options"),
    "correct": ("正确答案", "correct answers"),
    "screening": ("筛选条件", "screening"),
    "demographic": ("人口统计", "demographic"),
    "min": ("最小值", "min"),
    "max": ("最大值", "max"),
    "integer": ("整数", "integer"),
    "max_length": ("最多字数", "max length"),
    "max_choices": ("最多可选项数", "at most N choices"),
    "exclusive": ("排他选项", "options that go alone"),
    "specify": ("“请注明”选项", "'please specify' option"),
    "randomize": ("选项随机排序", "shuffled options"),
    "earliest": ("最早日期", "earliest date"),
    "latest": ("最晚日期", "latest date"),
    "relevant": ("显示条件", "shown only if"),
    "order": ("顺序", "order"),
    "options": ("选项", "options"),
    "title": ("标题", "title"),
    "intro": ("开场白", "introduction"),
    "thanks": ("结束语", "thanks"),
    "sections": ("分区", "section"),
    "code": ("问卷代码", "questionnaire code"),
}
LANG_NAMES = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}


def field_name(field: str | None, lang: str = "zh") -> str:
    """A field path such as ``options.yes.label.en`` in words (选项 yes 题目（英文）)."""
    if not field:
        return ""
    index = 1 if lang == "en" else 0
    parts = field.split(".")
    words = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("options", "sections") and i + 1 < len(parts):
            noun = {"options": ("选项", "option"), "sections": ("分区", "section")}[part][index]
            words.append(f"{noun} {parts[i + 1]}")
            i += 2
            continue
        if part in LANG_NAMES and words:
            words[-1] += f"（{LANG_NAMES[part][0]}）" if index == 0 else f" ({LANG_NAMES[part][1]})"
        elif part in ("label", "title") and i >= 2 and parts[i - 2] in ("options", "sections"):
            words.append(("文字", "wording")[index])
        else:
            words.append(FIELD_NAMES.get(part, (part, part))[index])
        i += 1
    return " ".join(words)


def _show(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang != "en" else ("yes" if value else "no")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def diff_table(changes: list[Change], lang: str = "zh") -> pd.DataFrame:
    """The changes as a table for display, headers and words in Chinese unless lang is "en"."""
    index = 1 if lang == "en" else 0
    rows = [
        (KIND_NAMES[c.kind][index], c.question or "", field_name(c.field, lang), _show(c.old, lang), _show(c.new, lang))
        for c in changes
    ]
    return pd.DataFrame(rows, columns=list(HEADERS["en" if lang == "en" else "zh"]))


# ---------------------------------------------------------------------------------------- skip logic in words

_OPS = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def describe_condition(questionnaire: Questionnaire, relevant: str, lang: str = "zh") -> str:
    """A `relevant` condition in words for a preview, e.g. 第5题“您知道…”选“知道”.

    Questions are named by their number in the questionnaire and their label, options by their label.
    """
    from .logic import And, Compare, Literal, Not, Or, Ref, Selected, parse_condition

    en = lang == "en"
    numbers = questionnaire.question_numbers()

    def question_words(code: str) -> str:
        if not questionnaire.has_question(code):
            return code
        label = questionnaire.question(code).text(lang)
        return f"Q{numbers[code]} “{label}”" if en else f"第{numbers[code]}题“{label}”"

    def option_words(code: str, option: Any) -> str:
        if questionnaire.has_question(code) and isinstance(option, str):
            return f"“{questionnaire.question(code).option_label(option, lang)}”"
        return str(option)

    def words(node, nested: bool = False) -> str:
        if isinstance(node, Selected):
            return f"{question_words(node.ref.code)} {'includes' if en else '勾选了'} {option_words(node.ref.code, node.option)}"
        if isinstance(node, Compare):
            left, right, op = node.left, node.right, node.op
            if isinstance(left, Literal) and isinstance(right, Ref):
                left, right = right, left
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            if isinstance(left, Ref) and right == Literal("") and op in ("=", "!="):  # XLSForm's "is answered"
                answered = op == "!="
                return f"{question_words(left.code)} " + (("is answered" if answered else "is not answered") if en
                                                          else ("已回答" if answered else "未回答"))
            chosen = isinstance(left, Ref) and questionnaire.has_question(left.code) and questionnaire.question(left.code).options
            if chosen and isinstance(right, Literal) and isinstance(right.value, str) and op in ("=", "!="):
                verb = ("is" if op == "=" else "is not") if en else ("选" if op == "=" else "没有选")
                return f"{question_words(left.code)} {verb} {option_words(left.code, right.value)}"
            def side(s) -> str:
                if isinstance(s, Ref):
                    return question_words(s.code)
                if isinstance(s, Literal):
                    return str(s.value)
                return f"{s.function}({question_words(s.ref.code)})"  # count-selected / string-length

            return f"{side(left)} {_OPS[op]} {side(right)}"
        if isinstance(node, Not):
            return f"not ({words(node.operand)})" if en else f"并非（{words(node.operand)}）"
        if isinstance(node, (And, Or)):
            joiner = (" and " if isinstance(node, And) else " or ") if en else ("，并且" if isinstance(node, And) else "，或者")
            text = joiner.join(words(o, nested=True) for o in node.operands)
            if not nested:
                return text
            return f"({text})" if en else f"（{text}）"
        return str(node)

    return words(parse_condition(relevant).root)
