"""Interviewers on a tablet: pick the community, see the quota, interview one person after another.

The interview records the interviewer, start and end time and the screening answers; a person who
fails screening is thanked and not counted; a full quota cell is announced before the interview
goes on.
"""

import pandas as pd
import streamlit as st

from data.reads import completes
from data.area_labels import area_labels
from data.db import database_url, read_session
from data.results import restrict_to_area
from ui import auth, cached
from ui.scope import scope_for
from ui import questionnaire_runner as runner
from ui.i18n import lang, language_switch, register_texts, t
from ui.state import engine

language_switch()

register_texts({
    "interviewer_id": ("调查员：{name}", "Interviewer: {name}"),
    "interview_community": ("访问地点（社区）", "Where (community)"),
    "district_quota": ("{district}：已完成 {done} / 配额 {quota}", "{district}: {done} of {quota} completes"),
    "cells_full": ("以下年龄性别配额已满，请访问其他人群：{cells}", "These age × sex cells are full: {cells}"),
    "next_person": ("开始访问下一位", "Next respondent"),
    "no_open_round_staff": ("当前没有进行中的调查轮次。", "No round is open."),
})

STATE = "interview"
staff = auth.require_page("interview")
scope = scope_for(staff)
language = lang()
url = database_url()
st.title(t("page_interview"))
st.caption(t("interviewer_id", name=staff.display_name))

accepting = [r for r in cached.rounds(url) if r.accepting]
if not accepting:
    st.info(t("no_open_round_staff"))
    st.stop()
names = {r.code: r.name_en if language == "en" else r.name_zh for r in accepting}
round_code = st.selectbox(t("round"), list(names), index=len(accepting) - 1, format_func=names.get,
                          key="interview.round")
survey_round = next(r for r in accepting if r.code == round_code)
questionnaire = cached.questionnaire(url, survey_round.questionnaire_id)

areas = cached.areas(url)
if staff.area_id is not None:
    areas, _, _ = restrict_to_area(areas, pd.DataFrame({"community_id": []}), staff.area_id)
communities = areas[areas["level"] == "community"]
name_column = "name_en" if language == "en" else "name_zh"
names = area_labels(areas, language)
labels = {i: f"{names[i]}（{code}）" for i, code in zip(communities["id"], communities["code"])}
community_id = st.selectbox(t("interview_community"), list(labels), format_func=labels.get, index=None,
                            placeholder=t("choose_placeholder"), key="interview.community")
if community_id is None:
    st.stop()
community_id = int(community_id)

# Quota first, so the interviewer knows whom to look for before stopping anyone.
district_id = int(communities.loc[communities["id"] == community_id, "district_id"].iloc[0])
all_areas = cached.areas(url)
district = all_areas[all_areas["id"] == district_id].iloc[0]
with read_session(engine()) as session:
    by_district = completes(session, survey_round.id, "district", scope=scope)
    by_cell = completes(session, survey_round.id, "cell", scope=scope)
done = int(by_district.loc[by_district["district_id"] == district_id, "completes"].sum())
quota = (survey_round.quotas.get("districts") or {}).get(district["code"])
if quota:
    st.progress(min(done / quota, 1.0), text=t("district_quota", district=district[name_column], done=done, quota=quota))
cell_quotas = survey_round.quotas.get("cells") or {}
full = []
for key, target in cell_quotas.items():
    code, age_group, sex = key.split("|")
    if code != district["code"]:
        continue
    got = by_cell[(by_cell["district_id"] == district_id) & (by_cell["age_group"] == age_group) & (by_cell["sex"] == sex)]
    if int(got["completes"].sum()) >= target:
        age_question = questionnaire.demographic_question("age_group")
        sex_question = questionnaire.demographic_question("sex")
        full.append(f"{age_question.option_label(age_group, language) if age_question else age_group}"
                    f"·{sex_question.option_label(sex, language) if sex_question else sex}")
if full:
    st.warning(t("cells_full", cells="、".join(full)))

state = runner.questionnaire_state(STATE, survey_round.code, community_id)
if runner.show_outcome(state, questionnaire):
    if st.button(t("next_person"), type="primary"):
        runner.restart(state, survey_round.code, community_id)
        st.rerun()
    st.stop()
runner.run_questionnaire(state, survey_round.code, questionnaire, community_id, channel="interview",
                         interviewer=staff.username, scope=scope)
