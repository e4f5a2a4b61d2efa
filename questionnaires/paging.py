"""How a questionnaire is split into pages (steps) on a phone.

One step per section, because a section is one topic; a long section is cut into near-equal parts,
since older respondents give up on a long scroll. Skip logic is applied by the page afterwards
(it drops hidden questions and then empty steps), so the steps here are the full, fixed layout.

A step is one form, whose answers reach the server only when it is sent; so a question whose
condition refers to a question of its own step could never appear in time.  A step therefore also
ends just before any question that depends on an answer given in that step (but the text box of a
"please specify" option always stays with its choice question: it is shown on the same step).
"""
from __future__ import annotations

from math import ceil

from .model import Question, Questionnaire

MAX_QUESTIONS_PER_STEP = 5


def _split_evenly(questions: list[Question], limit: int) -> list[list[Question]]:
    # The text box of a "please specify" option stays with its choice question, and counts with it.
    units: list[list[Question]] = []
    for question in questions:
        if question.other_of is not None and units and units[-1][0].code == question.other_of:
            units[-1].append(question)
        else:
            units.append([question])
    parts = ceil(len(units) / limit)
    size = ceil(len(units) / parts)
    return [[q for unit in units[i : i + size] for q in unit] for i in range(0, len(units), size)]


def survey_steps(questionnaire: Questionnaire, max_per_step: int = MAX_QUESTIONS_PER_STEP) -> list[list[Question]]:
    """Questions grouped into steps, in questionnaire order; every question appears exactly once."""
    limit = max(1, int(max_per_step))
    groups: list[list[Question]] = []
    for question in questionnaire.questions:
        # Questions without a section are grouped with their neighbours that have none either.
        same_section = bool(groups) and groups[-1][0].section == question.section
        # (The text box of a "please specify" option is drawn with its choice question and kept only
        # when that option is chosen, so it does not start a step of its own.)
        depends_on_group = bool(groups) and question.other_of is None and bool(
            question.condition and set(question.condition.references()) & {q.code for q in groups[-1]}
        )
        if same_section and not depends_on_group:
            groups[-1].append(question)
        else:
            groups.append([question])
    return [step for group in groups for step in _split_evenly(group, limit)]


def visible_steps(questionnaire: Questionnaire, answers) -> list[list[Question]]:
    """The steps a respondent sees given the answers so far: hidden questions dropped, then empty
    steps.  The "please specify" box stays with its visible choice question (a step is one form: it
    could not appear once the option is ticked); it is kept only when that option is chosen."""
    from .answers import visible_questions

    visible_codes = {q.code for q in visible_questions(questionnaire, answers)}
    steps = [[q for q in step if q.code in visible_codes or (q.other_of is not None and q.other_of in visible_codes)]
             for step in survey_steps(questionnaire)]
    return [step for step in steps if step]


def ends_here(questionnaire: Questionnaire, steps: list[list[Question]], index: int) -> bool:
    """Whether step ``index`` of ``steps`` (the visible steps) is the last whatever is answered on it:
    the last visible step, and no later question's condition refers to one of its questions (an
    answer given here could still open it).  Its button then says 提交 (submit) rather than 下一步."""
    if index < len(steps) - 1:
        return False
    here = {q.code for q in steps[index]}
    after = max(i for i, q in enumerate(questionnaire.questions) if q.code in here) + 1
    return not any(q.condition and set(q.condition.references()) & here for q in questionnaire.questions[after:])
