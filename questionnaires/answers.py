"""What a respondent's answers mean: which questions they saw, whether the answers are acceptable,
how each indicator item scores, and whether the respondent counts at all.

Answers arrive from a phone form and may be forged, so every function here accepts any input and
never raises on it: a value of the wrong type is simply not a valid answer.

Answer values: single_choice / yes_no / satisfaction / quiz -> option code (str);
multiple_choice -> list of option codes; number -> int or float; text -> str; date / time / datetime
-> ISO text (`2024-05-01`, `08:30`, `2024-05-01T08:30`); a note has none.
The text of a "please specify" option is the answer of its own derived text question `<code>_other`
(see `model.specify_question`), kept only while that option is chosen.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from . import dates
from .model import DATE_TYPES, SINGLE_CODE_TYPES, Question, Questionnaire
from .privacy import mask_personal_data


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, tuple)) and not value)


def _normalise(question: Question, value: Any) -> Any:
    """Strip text, drop blanks from lists, and read numbers typed as text; personal data (phone and ID
    numbers, e-mail, car plates) in a free-text answer is masked, so it is never stored. Anything else is
    kept as is. A note has no answer: whatever arrives for it is dropped."""
    if question.type == "note":
        return None
    if question.type in DATE_TYPES:
        # A date object from a widget, or ISO text with seconds or a space: the canonical ISO text.
        # Anything else is kept as it came, and named by _answer_problem.
        iso = dates.read(question.type, value)
        return iso if iso is not None else (value.strip() if isinstance(value, str) else value)
    if isinstance(value, str):
        value = value.strip()
        if question.type == "text":
            return mask_personal_data(value)[0]
        if question.type == "number" and value:
            try:
                number = float(value)
            except ValueError:
                return value
            if math.isfinite(number):
                return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
        return value
    if isinstance(value, (list, tuple)) and question.type == "multiple_choice":
        cleaned = []
        for item in value:
            item = item.strip() if isinstance(item, str) else item
            if not _is_empty(item) and item not in cleaned:
                cleaned.append(item)
        return cleaned
    return value


def _as_dict(answers: Any) -> Mapping:
    return answers if isinstance(answers, Mapping) else {}


def _normalised_answers(questionnaire: Questionnaire, answers: Any) -> dict[str, Any]:
    answers = _as_dict(answers)
    result = {}
    for question in questionnaire.questions:
        try:
            value = answers.get(question.code)
        except Exception:  # a forged mapping whose get() misbehaves
            value = None
        value = _normalise(question, value)
        if not _is_empty(value):
            result[question.code] = value
    return result


def _fails_screening(question: Question, value: Any) -> bool:
    return question.is_screening and value is not None and not (
        isinstance(value, str) and value in question.screening_eligible
    )


def _visible(questionnaire: Questionnaire, normalised: dict[str, Any]) -> list[Question]:
    visible: list[Question] = []
    seen: dict[str, Any] = {}  # answers of visible questions only: a hidden answer must not steer skip logic
    for question in questionnaire.questions:
        condition = question.condition
        if condition is not None and not condition.evaluate(seen):
            continue
        visible.append(question)
        value = normalised.get(question.code)
        if value is not None:
            seen[question.code] = value
        # An ineligible respondent is thanked and let go, so nothing after the failed screening question is asked.
        if _fails_screening(question, value):
            break
    return visible


def visible_questions(questionnaire: Questionnaire, answers: Any) -> list[Question]:
    """Questions the respondent is shown, in order, given the answers so far.

    A question is hidden when its `relevant` condition is false, and every question after a screening
    question answered with an ineligible option is hidden too (the interview ends there).
    """
    return _visible(questionnaire, _normalised_answers(questionnaire, answers))


def clean_answers(questionnaire: Questionnaire, answers: Any) -> dict[str, Any]:
    """Answers of visible questions only, with text stripped and empty values ('' / None / []) dropped."""
    normalised = _normalised_answers(questionnaire, answers)
    return {q.code: normalised[q.code] for q in _visible(questionnaire, normalised) if q.code in normalised}


# ---------------------------------------------------------------------------------------------- validation

_MESSAGES = {
    "required": ("请回答此题", "Please answer this question"),
    "specify": ("请注明", "Please specify"),
    "choose_one": ("请从选项中选择一项", "Please choose one of the options"),
    "choose_some": ("请从选项中选择", "Please choose from the options"),
    "number": ("请输入数字", "Please enter a number"),
    "text": ("请输入文字", "Please enter text"),
    "too_long": ("请不要超过 {n} 个字", "Please use at most {n} characters"),
    "too_many": ("最多只能选 {n} 项", "Please choose at most {n} options"),
    "exclusive": ("选了“{label}”就不能再选其他选项", "“{label}” cannot be chosen together with other options"),
}


def _message(key: str, lang: str, **values) -> str:
    zh, en = _MESSAGES[key]
    return (en if lang == "en" else zh).format(**values)


def _required_message(question: Question, lang: str) -> str:
    """An unanswered required question's message; the box of a chosen "please specify" option asks for it."""
    return _message("specify" if question.other_of is not None else "required", lang)


def _show(number: float | int) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _range_message(question: Question, lang: str) -> str:
    whole_zh, whole_en = ("整数", "whole number") if question.integer else ("数字", "number")
    low, high = question.min, question.max
    if low is not None and high is not None:
        zh, en = f"请输入 {_show(low)} 到 {_show(high)} 之间的{whole_zh}", f"Please enter a {whole_en} between {_show(low)} and {_show(high)}"
    elif low is not None:
        zh, en = f"请输入不小于 {_show(low)} 的{whole_zh}", f"Please enter a {whole_en} of at least {_show(low)}"
    elif high is not None:
        zh, en = f"请输入不大于 {_show(high)} 的{whole_zh}", f"Please enter a {whole_en} of at most {_show(high)}"
    else:
        zh, en = f"请输入{whole_zh}", f"Please enter a {whole_en}"
    return en if lang == "en" else zh


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _answer_problem(question: Question, value: Any, lang: str) -> str | None:
    if question.type in SINGLE_CODE_TYPES:
        if not isinstance(value, str) or value not in question.option_codes:
            return _message("choose_one", lang)
    elif question.type == "multiple_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) and v in question.option_codes for v in value):
            return _message("choose_some", lang)
        if question.max_choices is not None and len(value) > question.max_choices:
            return _message("too_many", lang, n=question.max_choices)
        if len(value) > 1:
            alone = next((code for code in question.option_codes if code in question.exclusive and code in value), None)
            if alone is not None:
                return _message("exclusive", lang, label=question.option_label(alone, lang))
    elif question.type == "number":
        if not _is_number(value):
            return _range_message(question, lang) if (question.integer or question.min is not None or question.max is not None) else _message("number", lang)
        out_of_range = (question.min is not None and value < question.min) or (question.max is not None and value > question.max)
        if out_of_range or (question.integer and not float(value).is_integer()):
            return _range_message(question, lang)
    elif question.type in DATE_TYPES:
        return dates.value_problem(question.type, value, question.earliest, question.latest, lang)
    elif question.type == "text":
        if not isinstance(value, str):
            return _message("text", lang)
        if question.max_length is not None and len(value) > question.max_length:
            return _message("too_long", lang, n=question.max_length)
    return None


def validate_answers(questionnaire: Questionnaire, answers: Any, lang: str = "zh") -> dict[str, str]:
    """Problems per question code, in the respondent's language ('zh' or 'en'); empty when all is well."""
    lang = lang if lang in ("zh", "en") else "zh"
    cleaned = clean_answers(questionnaire, answers)
    problems: dict[str, str] = {}
    for question in visible_questions(questionnaire, answers):
        if question.code not in cleaned:
            if question.required:
                problems[question.code] = _required_message(question, lang)
            continue
        problem = _answer_problem(question, cleaned[question.code], lang)
        if problem:
            problems[question.code] = problem
    return problems


# ---------------------------------------------------------------------------------------------- scoring

def _score(question: Question, value: Any) -> int | None:
    """1 positive, 0 a valid answer that is not positive, None no valid answer."""
    codes = question.option_codes
    if question.type == "multiple_choice":
        chosen = [v for v in value if isinstance(v, str) and v in codes] if isinstance(value, list) else []
        if not chosen:
            return None
        if any(v in question.positive for v in chosen):
            return 1
        return None if all(v in question.invalid for v in chosen) else 0
    if not isinstance(value, str) or value not in codes or value in question.invalid:
        return None
    return 1 if value in question.positive else 0


def score_answers(questionnaire: Questionnaire, answers: Any) -> dict[str, int | None]:
    """Score of every visible indicator item; items the respondent never saw are absent."""
    cleaned = clean_answers(questionnaire, answers)
    return {
        q.code: _score(q, cleaned.get(q.code))
        for q in visible_questions(questionnaire, answers)
        if q.indicator
    }


def is_eligible(questionnaire: Questionnaire, answers: Any) -> bool:
    """True when every screening question the respondent saw was answered with an eligible option.

    An unanswered visible screening question makes the respondent ineligible too: we cannot know.
    """
    cleaned = clean_answers(questionnaire, answers)
    for question in visible_questions(questionnaire, answers):
        if question.is_screening:
            value = cleaned.get(question.code)
            if not (isinstance(value, str) and value in question.screening_eligible):
                return False
    return True


def demographics(questionnaire: Questionnaire, answers: Any) -> dict[str, str | None]:
    """{'age_group': code or None, 'sex': code or None}, from the questions marked `demographic`."""
    cleaned = clean_answers(questionnaire, answers)
    result: dict[str, str | None] = {"age_group": None, "sex": None}
    for kind in result:
        question = questionnaire.demographic_question(kind)
        value = cleaned.get(question.code) if question else None
        if isinstance(value, str) and value in question.option_codes:
            result[kind] = value
    return result
