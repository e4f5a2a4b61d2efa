"""The light citizen page's HTML: Jinja2 templates in ``templates/``, autoescaped, one block (a
macro of ``blocks.html``) per question type.

A new question type needs its block: an entry in ``BLOCKS`` and a macro of that name in
``templates/blocks.html`` (tests/citizen_web/test_render.py fails until both exist), and, if its
answer is not one text or a list of option codes, a line in ``routes.step_answers``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from questionnaires import dates
from questionnaires.model import Question, Questionnaire
from questionnaires.paging import ends_here
from questionnaires.piping import pipe
from ui.i18n import text
from ui.question_texts import choice_limits, required_mark, step_numbers, with_multi_hint

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Question type -> its macro in templates/blocks.html.
BLOCKS = {
    "single_choice": "one_option",
    "yes_no": "one_option",
    "satisfaction": "one_option",
    "quiz": "one_option",
    "multiple_choice": "several_options",
    "number": "number",
    "text": "text",
    "note": "note",
    "date": "moment",
    "time": "moment",
    "datetime": "moment",
}
# The browser's own picker for each kind: no script, and it sends the ISO text the answer rules read.
PICKERS = {"date": "date", "time": "time", "datetime": "datetime-local"}
SPECIFY_BLOCK = "specify"  # the text box of a "please specify" option (其他（请注明）), under its question


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Autoescape everywhere: labels come from uploaded questionnaires and answers from citizens.
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["text"] = text
    return env


def block_of(question: Question) -> str:
    if question.other_of is not None:
        return SPECIFY_BLOCK
    return BLOCKS[question.type]


def question_view(question: Question, number: int | None, value, error: str | None, language: str,
                  questionnaire: Questionnaire, answers: dict, seed: str) -> dict:
    """What a block shows of one question: its words (earlier answers piped in), options in the
    respondent's order (shuffled by the response id when the question says so), the answer so far
    and the problem with it."""
    shown = pipe(question.text(language), answers, questionnaire, language)
    chosen = set(value) if isinstance(value, list) else {value}
    return {
        "code": question.code,
        "block": block_of(question),
        "number": number,
        "text": with_multi_hint(question, shown, language),
        "help": question.help_text(language),
        "mark": required_mark(question, language),
        "limits": choice_limits(question, language),
        "options": [(code, question.option_label(code, language), code in chosen)
                    for code in question.option_order(seed)],
        "value": value if isinstance(value, str) else "",
        "max_length": question.max_length,
        "integer": question.integer,
        "picker": PICKERS.get(question.type),
        "earliest": _picker_bound(question.type, question.earliest, "00:00"),
        "latest": _picker_bound(question.type, question.latest, "23:59"),
        "bounds": (dates.bounds_text(question.type, question.earliest, question.latest, language)
                   if question.earliest or question.latest else None),
        "error": error,
    }


def _picker_bound(kind: str, day: str | None, clock: str) -> str | None:
    # Bounds are days (a question's earliest / latest); a date-time picker's bound needs a time too.
    if not day or kind == "time":
        return None
    return f"{day}T{clock}" if kind == "datetime" else day


def step_html(questionnaire: Questionnaire, steps: list[list[Question]], index: int, answers: dict, seed: str,
              errors: dict, language: str, **page) -> str:
    """Step ``index`` of ``steps`` (the steps the answers so far leave, ``paging.visible_steps``) with
    the answers so far and each problem under its question.  ``page`` holds the rest of the page:
    ``action``, ``switch_action``, ``round_name``, ``community_name``, ``notices``, ``state``."""
    step = steps[index]
    numbers = step_numbers(steps)
    section = questionnaire.section(step[0].section) if step[0].section else None
    intro = None
    if index == 0 and questionnaire.intro:
        intro = questionnaire.intro.get(language) or questionnaire.intro.get("zh")
    questions = [question_view(q, numbers.get(q.code), answers.get(q.code), errors.get(q.code), language,
                               questionnaire, answers, seed) for q in step]
    return render("step.html", language=language, intro=intro, k=index + 1, n=len(steps),
                  section=section.text(language) if section else None, errors=len(errors), questions=questions,
                  last=ends_here(questionnaire, steps, index), **page)


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
