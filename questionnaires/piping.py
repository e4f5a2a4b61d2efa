"""Piping: an earlier answer shown inside a later question's text, as XLSForm writes it (`${code}`).

`您选择了 ${age_group}，…` shows the option label chosen in `age_group` in the citizen's language; a
number or text answer is shown as typed; an unanswered question shows "…". The loader checks that a
piped code names an earlier question, as it does for conditions.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from . import dates
from .model import Questionnaire

PIPE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
UNANSWERED = "…"


def piped_codes(text: str | None) -> list[str]:
    """The question codes a text pipes in, in order."""
    return PIPE.findall(text or "")


def _shown(questionnaire: Questionnaire, code: str, value: Any, lang: str) -> str:
    if value is None or value == "" or value == []:
        return UNANSWERED
    if not questionnaire.has_question(code):
        return UNANSWERED
    question = questionnaire.question(code)
    if isinstance(value, (list, tuple)):
        return ("、" if lang != "en" else ", ").join(question.option_label(v, lang) for v in value)
    if question.options:
        return question.option_label(str(value), lang)
    return dates.shown(question.type, value)


def pipe(text: str, answers: Mapping[str, Any], questionnaire: Questionnaire, lang: str = "zh") -> str:
    """`text` with every `${code}` replaced by the answer to `code` as the citizen would read it."""
    if "${" not in (text or ""):
        return text
    return PIPE.sub(lambda m: _shown(questionnaire, m.group(1), answers.get(m.group(1)), lang), text)
