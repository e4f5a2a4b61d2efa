"""The citizen's questionnaire: phone-first, one short form per step, one submit.

URL parameters (what a poster's QR code carries): ``community`` (community code), ``round``
(round code), ``lang`` (zh | en).  Anything forged or unknown gets a message, never a crash.
"""

from datetime import datetime

import streamlit as st

from data import repository as repo
from data.db import database_url, write_session
from questionnaires import validate_answers, visible_questions
from questionnaires.paging import survey_steps
from ui import cached
from ui.i18n import lang, language_switch, t
from ui.question_widgets import question_widget
from ui.state import engine

language_switch()

STATE = "survey"  # every key of this page's session state starts with it

url = database_url()
language = lang()
st.title(t("app_title"))

# --- which round --------------------------------------------------------------------------------
accepting = [r for r in cached.rounds(url) if r.accepting]
wanted_round = st.query_params.get("round")
survey_round = next((r for r in accepting if r.code == wanted_round), None)
if survey_round is None:
    if wanted_round is not None:
        st.warning(t("unknown_round"))
    survey_round = accepting[-1] if accepting else None
if survey_round is None:
    st.info(t("no_open_round"))
    st.stop()
questionnaire = cached.questionnaire(url, survey_round.questionnaire_id)
st.caption(survey_round.name_en if language == "en" else survey_round.name_zh)

state = st.session_state.setdefault(STATE, {})
if state.get("round") != survey_round.code:
    state.clear()
    state.update(round=survey_round.code, rid=repo.new_response_id(), step=0, answers={}, errors={})

# --- finished -----------------------------------------------------------------------------------
if state.get("done"):
    if state["done"] == "ineligible":
        st.info(t("not_eligible"))
    else:
        st.success(t("thanks_title") if state["done"] == "stored" else t("already_submitted"))
        thanks = questionnaire.thanks or {}
        if thanks:
            st.write(thanks.get(language) or thanks.get("zh"))
    st.stop()

# --- which community ----------------------------------------------------------------------------
areas = cached.areas(url)
communities = areas[areas["level"] == "community"]
wanted_community = st.query_params.get("community")
from_link = communities[communities["code"] == wanted_community] if wanted_community else communities.iloc[0:0]
name_column = "name_en" if language == "en" else "name_zh"
if wanted_community and from_link.empty:
    st.warning(t("unknown_community"))
if not from_link.empty:
    community_id = int(from_link["id"].iloc[0])
    st.markdown(f"{t('your_community')}：**{from_link[name_column].iloc[0]}**")
else:
    def pick(label_key, frame):
        names = dict(zip(frame["id"], frame[name_column]))
        return st.selectbox(t(label_key), list(names), index=None, format_func=names.get,
                            placeholder=t("choose_placeholder"), key=f"{STATE}.{label_key}")

    district = pick("choose_district", areas[areas["level"] == "district"])
    street = pick("choose_street", areas[(areas["level"] == "street") & (areas["parent_id"] == district)]) \
        if district is not None else None
    community_id = pick("choose_community", communities[communities["parent_id"] == street]) \
        if street is not None else None
    if community_id is None:
        st.info(t("choose_community_first"))
        st.stop()
    community_id = int(community_id)
state.setdefault("started_at", datetime.now())

# --- the current step ---------------------------------------------------------------------------
answers: dict = state["answers"]
visible_codes = {q.code for q in visible_questions(questionnaire, answers)}
steps = [[q for q in step if q.code in visible_codes] for step in survey_steps(questionnaire)]
steps = [step for step in steps if step]
step_index = min(state["step"], len(steps) - 1)
step = steps[step_index]
numbers = {q.code: n for n, q in enumerate((q for s in steps for q in s), start=1)}

st.progress(step_index / len(steps), text=t("step_of", k=step_index + 1, n=len(steps)))
errors: dict = state["errors"]
if errors:
    st.error(t("fix_errors", n=len(errors)))

with st.form(f"{STATE}.step{step_index}", border=False):
    values = {}
    for question in step:
        mark = t("required_mark") if question.required else t("optional_mark")
        values[question.code] = question_widget(
            question, numbers[question.code], answers.get(question.code), f"{state['rid']}:{question.code}",
            language, mark, t("select_all_that_apply"),
        )
        if question.code in errors:
            st.error(errors[question.code])
    last = step_index == len(steps) - 1
    columns = st.columns(2)
    go_back = columns[0].form_submit_button(t("back"), disabled=step_index == 0, width="stretch")
    go_on = columns[1].form_submit_button(t("submit") if last else t("next"), type="primary",
                                          width="stretch")

if go_back or go_on:
    for code, value in values.items():
        if value is None:
            answers.pop(code, None)
        else:
            answers[code] = value
if go_back:
    state.update(step=max(step_index - 1, 0), errors={})
    st.rerun()
if go_on:
    step_codes = {q.code for q in step}
    problems = {code: message for code, message in validate_answers(questionnaire, answers, language).items()
                if code in step_codes}
    state["errors"] = problems
    if problems:
        st.rerun()
    screened_out = repo.screened_out(questionnaire, answers)
    if not last and not screened_out:
        state["step"] = step_index + 1
        st.rerun()
    try:
        with write_session(engine()) as session:
            result = repo.submit_response(
                session, response_id=state["rid"],
                survey_round=repo.round_by_code(session, survey_round.code),
                questionnaire=questionnaire, community_id=community_id, answers=answers, channel="self",
                started_at=state["started_at"], lang=language,
            )
    except repo.SubmissionRefused as refused:
        state["errors"] = {code: message for code, message in refused.messages.items() if code in numbers}
        if state["errors"]:  # take the citizen back to the first answer that needs attention
            state["step"] = next(i for i, s in enumerate(steps) if any(q.code in state["errors"] for q in s))
            st.rerun()
        st.error(t("submit_failed", reason="；".join(refused.messages.values())))
    else:
        state["done"] = "ineligible" if not result.eligible else ("stored" if result.stored else "duplicate")
        st.rerun()
