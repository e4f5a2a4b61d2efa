"""The words shown around a question, shared by the Streamlit questionnaire (ui.question_widgets,
ui.questionnaire_runner) and the light citizen page (citizen_web): no Streamlit here.

Each takes the language explicitly, so the light page, which has no Streamlit session, says
exactly what the Streamlit page says.
"""

from __future__ import annotations

from questionnaires.model import Question
from ui.i18n import text

# Words by which a label already says that several options may be chosen.
SAYS_MULTIPLE = ("多选", "all that apply", "choose all", "select all")
# Words by which a label already says that the question may be left out.
SAYS_OPTIONAL = ("选填", "选答", "可选", "optional", "Optional")


def with_multi_hint(question: Question, shown: str, language: str) -> str:
    """A multiple-choice question's text with （可多选） once: not when its label says so already."""
    if question.type == "multiple_choice" and not any(word in shown.lower() for word in SAYS_MULTIPLE):
        return f"{shown}{text('select_all_that_apply', language)}"
    return shown


def choice_limits(question: Question, language: str) -> str | None:
    """Under a multiple-choice question: at most N options, and which option goes alone (以上都没有)."""
    if question.type != "multiple_choice":
        return None
    parts = []
    if question.max_choices is not None:
        parts.append(text("choose_at_most", language, n=question.max_choices))
    parts += [text("choose_alone", language, label=question.option_label(code, language))
              for code in question.option_codes if code in question.exclusive]
    return ("；" if language != "en" else "; ").join(parts) or None


def required_mark(question: Question, language: str) -> str:
    """（选答） for optional questions whose label does not say so already; nothing for required ones
    (most are), so the screen stays calm."""
    if question.required or question.is_note:
        return ""
    label = " ".join(question.label.values())
    return "" if any(word in label for word in SAYS_OPTIONAL) else text("optional_mark", language)


def step_numbers(steps: list[list[Question]]) -> dict[str, int]:
    """The number shown before each question of the steps a respondent sees: notes have none, a
    "please specify" box has none of its own."""
    numbers: dict[str, int] = {}
    n = 0
    for question in (q for s in steps for q in s):
        if question.is_note or question.other_of is not None:
            continue
        n += 1
        numbers[question.code] = n
    return numbers
