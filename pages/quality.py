"""Organisers: responses flagged by the data-quality rules; include or exclude them (audited, never deleted)."""

import pandas as pd
import streamlit as st

from analysis.quality import flag_responses, interviewer_summary, suspicious_areas
from data.db import database_url, read_session, write_session
from data.reads import exclusion_summary, round_responses
from data.responses import set_response_status
from data.results import restrict_to_area
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_picker
from ui.state import engine

language_switch()

register_texts({
    "quality_help": ("以下问卷被规则标记，供组织者判断：过快作答、整齐划一的答案、完全相同的答卷、同一链接短时间大量提交、"
                     "与本区其他调查员差异超出随机范围或全部 100% 的调查员。排除的问卷仍然保留，可随时恢复。",
                     "Responses flagged by the rules: speeders, straight-lining, identical answer vectors, bursts from "
                     "one link, interviewers who differ from their district beyond chance or report 100 % everywhere. "
                     "Excluded responses are kept and can be restored at any time."),
    "flagged": ("被标记的问卷", "Flagged responses"),
    "interviewer": ("调查员", "Interviewer"),
    "rule": ("规则", "Rule"),
    "reason": ("原因", "Reason"),
    "status": ("状态", "Status"),
    "status_included": ("计入", "Included"),
    "status_excluded": ("已排除", "Excluded"),
    "choose_responses": ("选择问卷（可多选）", "Choose responses"),
    "exclusion_reason": ("排除原因（必填）", "Reason for excluding (required)"),
    "exclude": ("排除所选问卷", "Exclude selected"),
    "include": ("恢复计入所选问卷", "Include selected again"),
    "changed": ("已更新 {n} 份问卷，所有比率随之更新。", "{n} responses changed; every rate follows."),
    "excluded_summary": ("本轮已排除的问卷", "Excluded in this round"),
    "interviewers": ("调查员对比", "Interviewers compared"),
    "suspicious": ("比率恰为 100% 的区域（请核实）", "Areas at exactly 100 % (please check)"),
    "no_flags": ("没有问卷被标记。", "No response is flagged."),
    "rule_speeders": ("作答过快", "Too fast"),
    "rule_straight_lining": ("答案整齐划一", "Straight-lining"),
    "rule_duplicate_answer_vectors": ("答卷完全相同", "Identical answers"),
    "rule_link_bursts": ("同一链接集中提交", "Burst from one link"),
    "rule_interviewer_effects": ("调查员效应", "Interviewer effect"),
    "rule_all_positive_interviewers": ("调查员全部 100%", "Interviewer at 100 %"),
})

staff = auth.require_page("quality")
language = lang()
url = database_url()
st.title(t("page_quality"))
st.caption(t("quality_help"))

rounds = cached.rounds(url)
round_code = round_picker(rounds, "quality.round")
survey_round = next(r for r in rounds if r.code == round_code)
questionnaire = cached.questionnaire(url, survey_round.questionnaire_id)

with read_session(engine()) as session:
    responses = round_responses(session, survey_round.id)
    excluded = exclusion_summary(session, survey_round.id)
if staff.area_id is not None:
    scope_areas, _, _ = restrict_to_area(cached.areas(url), pd.DataFrame({"community_id": []}), staff.area_id)
    responses = responses[responses["community_id"].isin(scope_areas["id"])]
eligible = responses[responses["eligible"]]
flags = flag_responses(eligible, questionnaire)

reason_column = "reason_en" if language == "en" else "reason_zh"
if flags.empty:
    st.success(t("no_flags"))
else:
    counts = flags.groupby("rule")["response_id"].nunique()
    columns = st.columns(min(len(counts), 6))
    for column, (rule, count) in zip(columns, counts.items()):
        column.metric(t(f"rule_{rule}"), count)
    table = flags.merge(responses[["id", "interviewer", "community_id", "status", "exclusion_reason"]],
                        left_on="response_id", right_on="id", how="left")
    st.subheader(t("flagged"))
    st.dataframe(pd.DataFrame({
        "id": table["response_id"], t("rule"): [t(f"rule_{r}") for r in table["rule"]],
        t("reason"): table[reason_column], t("interviewer"): table["interviewer"],
        t("status"): [t(f"status_{s}") for s in table["status"]],
    }), hide_index=True, width="stretch")

    flagged_ids = list(dict.fromkeys(table["response_id"]))
    with st.form("quality.decide"):
        chosen = st.multiselect(t("choose_responses"), flagged_ids, key="quality.chosen")
        reason = st.text_input(t("exclusion_reason"), max_chars=200)
        decide = st.columns(2)
        exclude = decide[0].form_submit_button(t("exclude"), type="primary")
        include = decide[1].form_submit_button(t("include"))
    if exclude or include:
        try:
            with write_session(engine()) as session:
                changed = set_response_status(session, staff.username, chosen,
                                              "excluded" if exclude else "included", reason)
        except ValueError as problem:
            st.error(str(problem))
        else:
            st.success(t("changed", n=changed))
            st.rerun()

if not excluded.empty:
    st.subheader(t("excluded_summary"))
    st.dataframe(excluded.rename(columns={"reason": t("reason"), "responses": t("respondents")}), hide_index=True)

st.subheader(t("interviewers"))
summary = interviewer_summary(eligible[eligible["status"] == "included"], questionnaire)
st.dataframe(summary, hide_index=True, width="stretch")
st.subheader(t("suspicious"))
st.dataframe(suspicious_areas(eligible[eligible["status"] == "included"], questionnaire), hide_index=True,
             width="stretch")
