"""The questionnaire in short steps, one form per step, one submit: shared by the citizen's self-fill
page and the interviewer's tablet page.

All state of one questionnaire lives in ``st.session_state[state_key]``: the response id (made when
the form opens, so a double tap can never store it twice), the step, the answers so far, the errors.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from data.responses import SubmissionRefused, new_response_id, quota_cell_full
from data.rounds import round_by_code
from questionnaires import answer_rules
from data import submissions
from data.db import read_session
from data.scope import CITY, Scope
from questionnaires import Questionnaire, demographics, validate_answers
from questionnaires.paging import ends_here, visible_steps
from questionnaires.piping import pipe
from ui import phone
from ui.i18n import lang, t
from ui.question_texts import choice_limits, step_numbers
from ui.question_texts import required_mark as _required_mark
from ui.question_widgets import question_widget
from ui.state import engine


# Answer options as tall as a fingertip (about 44 px): respondents are often elderly, on small phones.
TOUCH_FRIENDLY_CSS = """<style>
[data-testid="stForm"] [role="radiogroup"] label,
[data-testid="stForm"] [data-testid="stCheckbox"] label { min-height: 2.75rem; align-items: center; }
</style>"""


def questionnaire_state(state_key: str, round_code: str, community_id: int | None = None) -> dict:
    """This page's state for the round, started afresh when the round or community changes."""
    state = st.session_state.setdefault(state_key, {})
    if state.get("round") != round_code or (community_id is not None and state.get("community") != community_id):
        restart(state, round_code, community_id)
    return state


def restart(state: dict, round_code: str, community_id: int | None) -> None:
    state.clear()
    state.update(round=round_code, community=community_id, rid=new_response_id(), step=0, answers={},
                 errors={}, started_at=datetime.now())


def show_outcome(state: dict, questionnaire: Questionnaire) -> bool:
    """Draw the thank-you (or the screened-out note); True when this questionnaire is finished."""
    done = state.get("done")
    if not done:
        return False
    _scroll_on_move(state)
    if done == "ineligible":
        st.info(t("not_eligible"))
    elif done == "quota_full":
        st.warning(t("quota_cell_full"))
    else:
        # One thanks: the questionnaire's own words when it has them, under one "submitted".
        thanks = (questionnaire.thanks or {}).get(lang()) or (questionnaire.thanks or {}).get("zh")
        st.success(f"**{t('submitted')}**\n\n{thanks}" if thanks else t("thanks_title"))
    return True


def _moved(state: dict) -> None:
    """The citizen goes to another step (or to the end): the next run starts at the top of the page."""
    state["moves"] = state.get("moves", 0) + 1


def _scroll_on_move(state: dict, target: str | None = None) -> None:
    if state.get("moves"):
        phone.scroll_to(state["moves"], target)


def question_key(code: str) -> str:
    """The Streamlit key of a question's block, which the page can scroll to."""
    return f"question_{code}"


def run_questionnaire(
    state: dict,
    round_code: str,
    questionnaire: Questionnaire,
    community_id: int,
    *,
    channel: str = "self",
    interviewer: str | None = None,
    invitation_token: str | None = None,
    scope: Scope = CITY,
) -> None:
    """Draw the current step and act on its buttons."""
    language = lang()
    answers: dict = state["answers"]
    steps = visible_steps(questionnaire, answers)  # the "please specify" box with its choice question
    step_index = min(state["step"], len(steps) - 1)
    step = steps[step_index]
    numbers = step_numbers(steps)

    st.html(TOUCH_FRIENDLY_CSS)  # a style only: st.markdown would fetch an HTML parser (190 kB)
    errors: dict = state["errors"]
    # After a move the step opens at its top, or at its first question that needs an answer.
    first_problem = next((q.code for q in step if q.code in errors), None)
    _scroll_on_move(state, question_key(first_problem) if first_problem else None)
    if step_index == 0 and questionnaire.intro:
        st.info(questionnaire.intro.get(language) or questionnaire.intro.get("zh"))
    st.progress(step_index / len(steps), text=t("step_of", k=step_index + 1, n=len(steps)))
    section = questionnaire_section(questionnaire, step[0].section)
    if section is not None:
        st.subheader(section.text(language), divider="gray")
    if errors:
        st.error(t("fix_errors", n=len(errors)))

    # Enter must not submit: it would press the form's first button from a phone's number field.
    with st.form(f"{round_code}.{state['rid']}.step{step_index}", border=False, enter_to_submit=False):
        values = {}
        for question in step:
            mark = required_mark(question)
            # A question with a problem is framed together with its message, so the message cannot
            # be read as belonging to the next question.
            with st.container(key=question_key(question.code), border=question.code in errors):
                values[question.code] = question_widget(
                    question, numbers.get(question.code), answers.get(question.code), f"{state['rid']}:{question.code}",
                    language, mark, t("select_all_that_apply"),
                    text=pipe(question.text(language), answers, questionnaire, language),
                    limits=choice_limits(question, language),
                )
                if question.code in errors:
                    st.error(errors[question.code])
        last = ends_here(questionnaire, steps, step_index)  # 提交 only where no answer here opens more
        # One button per row, the forward one first: on a phone it is the one under the thumb.
        go_on = st.form_submit_button(t("submit") if last else t("next"), type="primary", width="stretch")
        go_back = st.form_submit_button(t("back"), disabled=step_index == 0, width="stretch")

    if go_back or go_on:
        for code, value in values.items():
            if value is None:
                answers.pop(code, None)
            else:
                answers[code] = value
    if go_back:
        state.update(step=max(step_index - 1, 0), errors={})
        _moved(state)
        st.rerun()
    if not go_on:
        return
    step_codes = {q.code for q in step}
    problems = {code: message for code, message in validate_answers(questionnaire, answers, language).items()
                if code in step_codes}
    state["errors"] = problems
    if problems:
        _moved(state)  # to the first question that needs an answer
        st.rerun()
    screened_out = answer_rules.screened_out(questionnaire, answers)
    if channel == "interview" and not screened_out and _quota_full(round_code, questionnaire, community_id, answers):
        state["done"] = "quota_full"  # told at once, before the rest of the interview
        _moved(state)
        st.rerun()
    # This step's answers may reveal a later question (a condition on an answer just given), so the
    # step that looked like the last one may not be.
    last = step_index >= len(visible_steps(questionnaire, answers)) - 1
    if not last and not screened_out:
        state["step"] = step_index + 1
        _moved(state)
        st.rerun()
    with read_session(engine()) as session:
        survey_round = round_by_code(session, round_code)
    if survey_round is None:  # removed while the citizen was answering
        st.error(t("no_open_round"))
        return
    try:
        result = submissions.submit(
            engine(), response_id=state["rid"], survey_round=survey_round,
            questionnaire=questionnaire, community_id=community_id, answers=answers, channel=channel,
            interviewer=interviewer, started_at=state["started_at"], lang=language,
            invitation_token=invitation_token, scope=scope,
        )
    except SubmissionRefused as refused:
        shown = {q.code for s in steps for q in s}
        state["errors"] = {code: message for code, message in refused.messages.items() if code in shown}
        if state["errors"]:  # back to the first answer that needs attention
            state["step"] = next(i for i, s in enumerate(steps) if any(q.code in state["errors"] for q in s))
            _moved(state)
            st.rerun()
        st.error(t("submit_failed", reason="；".join(refused.messages.values())))
    else:
        # A double tap runs this twice at once; the second run finds this very response stored, which
        # for the citizen is the same success.  "Already submitted" is for a response stored before
        # this page showed it (see show_outcome).
        state["done"] = "ineligible" if not result.eligible else "stored"
        _moved(state)
        st.rerun()


def questionnaire_section(questionnaire: Questionnaire, code: str | None):
    return next((section for section in questionnaire.sections if section.code == code), None)


def required_mark(question) -> str:
    """（选答） for optional questions whose label does not say so already (ui.question_texts)."""
    return _required_mark(question, lang())


def _quota_full(round_code: str, questionnaire: Questionnaire, community_id: int, answers: dict) -> bool:
    person = demographics(questionnaire, answers)
    if not person.get("age_group") or not person.get("sex"):
        return False
    with read_session(engine()) as session:
        survey_round = round_by_code(session, round_code)
        return quota_cell_full(session, survey_round, community_id, person["age_group"], person["sex"])
