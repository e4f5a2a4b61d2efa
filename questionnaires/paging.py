"""How a questionnaire is split into pages (steps) on a phone.

One step per section, because a section is one topic; a long section is cut into near-equal parts,
since older respondents give up on a long scroll. Skip logic is applied by the page afterwards
(it drops hidden questions and then empty steps), so the steps here are the full, fixed layout.

A step is one form, whose answers reach the server only when it is sent; so a question whose
condition refers to a question of its own step could never appear in time.  A step therefore also
ends just before any question that depends on an answer given in that step.
"""
from __future__ import annotations

from math import ceil

from .model import Question, Questionnaire

MAX_QUESTIONS_PER_STEP = 5


def _split_evenly(questions: list[Question], limit: int) -> list[list[Question]]:
    parts = ceil(len(questions) / limit)
    size = ceil(len(questions) / parts)
    return [questions[i : i + size] for i in range(0, len(questions), size)]


def survey_steps(questionnaire: Questionnaire, max_per_step: int = MAX_QUESTIONS_PER_STEP) -> list[list[Question]]:
    """Questions grouped into steps, in questionnaire order; every question appears exactly once."""
    limit = max(1, int(max_per_step))
    groups: list[list[Question]] = []
    for question in questionnaire.questions:
        # Questions without a section are grouped with their neighbours that have none either.
        same_section = bool(groups) and groups[-1][0].section == question.section
        depends_on_group = bool(groups) and bool(
            question.condition and set(question.condition.references()) & {q.code for q in groups[-1]}
        )
        if same_section and not depends_on_group:
            groups[-1].append(question)
        else:
            groups.append([question])
    return [step for group in groups for step in _split_evenly(group, limit)]
