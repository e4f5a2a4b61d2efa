"""Organisers: responses flagged by the data-quality rules; include or exclude them (audited, never deleted)."""

import pandas as pd
import streamlit as st

from data.responses import set_response_status
from data.db import database_url, write_session
from data.area_labels import area_labels
from data.results import restrict_to_area
from ui import auth, cached
from ui.plain import plain
from ui.scope import scope_for
from ui.i18n import in_language, lang, language_switch, register_texts, t
from ui.notices import confirm
from ui.state import engine
from ui.pickers import round_picker
from ui.tables import percent, show_table

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
    "exclusion_reason": ("原因（排除时必填）", "Reason (required to exclude)"),
    "reason_needed": ("排除问卷需要填写原因。", "Excluding needs a reason."),
    "interviewer_rate": ("{indicator}", "{indicator}"),
    "district_rate": ("{indicator}（本区其他调查员）", "{indicator} (rest of district)"),
    "p_adjusted": ("{indicator} 校正后 p 值", "{indicator} adjusted p"),
    "all_positive": ("全部 100%", "All 100 %"),
    "interviews": ("问卷数", "Interviews"),
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
scope = scope_for(staff)
language = lang()
english = language == "en"
url = database_url()
st.title(t("page_quality"))
st.caption(t("quality_help"))

rounds = cached.rounds(url)
if not rounds:
    st.info(t("no_rounds"))
    st.stop()
round_code = round_picker(rounds, "quality.round")

checks = cached.quality_checks(url, round_code, cached.tally_version(url, round_code), staff.area_id)
responses, flags, excluded = checks.responses, checks.flags, checks.excluded
areas = cached.areas(url)
if staff.area_id is not None:
    areas, _, _ = restrict_to_area(areas, pd.DataFrame({"community_id": []}), staff.area_id)
labels = area_labels(areas, "en" if english else "zh")

reason_column = "reason_en" if english else "reason_zh"
if flags.empty:
    st.success(t("no_flags"))
else:
    counts = flags.groupby("rule")["response_id"].nunique()
    columns = st.columns(min(len(counts), 6))
    for column, (rule, count) in zip(columns, counts.items()):
        column.metric(t(f"rule_{rule}"), count)
    # One row per flagged response, its rules and reasons together, so ticking a row picks one response.
    by_response = flags.assign(rule_name=[t(f"rule_{r}") for r in flags["rule"]]).groupby(
        "response_id", sort=False).agg(rules=("rule_name", "、".join), reasons=(reason_column, "；".join)).reset_index()
    table = by_response.merge(responses[["id", "interviewer", "community_id", "submitted_at", "status"]],
                              left_on="response_id", right_on="id", how="left")
    st.subheader(t("flagged"))
    st.caption(t("choose_rows_hint"))
    version = st.session_state.setdefault("quality.table_version", 0)
    picked = show_table(pd.DataFrame({
        t("community"): [labels.get(i, "") for i in table["community_id"]],
        t("interviewer"): table["interviewer"].fillna(t("self_filled")).replace("", t("self_filled")),
        t("submitted_at"): pd.to_datetime(table["submitted_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        t("rule"): table["rules"], t("reason"): table["reasons"],
        t("status"): [t(f"status_{s}") for s in table["status"]],
    }), hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
        key=f"quality.table.{version}")
    chosen = [table["response_id"].iloc[row] for row in picked.selection.rows]
    with st.form("quality.decide", clear_on_submit=True):
        st.write(t("chosen_count", n=len(chosen)))
        reason = st.text_input(t("exclusion_reason"), max_chars=200)
        decide = st.columns(2)
        exclude = decide[0].form_submit_button(t("exclude"), type="primary")
        include = decide[1].form_submit_button(t("include"))
    if exclude or include:
        if not chosen:
            st.error(t("choose_some"))
        elif exclude and not reason.strip():
            st.error(t("reason_needed"))
        else:
            try:
                with write_session(engine()) as session:
                    changed = set_response_status(session, staff.username, chosen,
                                                       "excluded" if exclude else "included", reason, scope=scope)
            except ValueError as problem:
                st.error(plain(in_language(problem)))
            else:
                confirm(t("toast_excluded" if exclude else "toast_included", n=changed))
                st.session_state["quality.table_version"] = version + 1  # a fresh table: nothing ticked
                st.rerun()

if not excluded.empty:
    st.subheader(t("excluded_summary"))
    show_table(excluded.rename(columns={"reason": t("reason"), "responses": t("respondents")}), hide_index=True)

st.subheader(t("interviewers"))
summary = checks.interviewers
readable = pd.DataFrame({
    t("interviewer"): summary["interviewer"], t("area"): [labels.get(i, "") for i in summary["district_id"]],
    t("interviews"): summary["interviews"],
})
for indicator in ("awareness", "support", "participation", "satisfaction"):
    if f"{indicator}_rate" not in summary:
        continue
    name = t(indicator)
    readable[t("interviewer_rate", indicator=name)] = summary[f"{indicator}_rate"].map(percent)
    readable[t("district_rate", indicator=name)] = summary[f"{indicator}_district_rate"].map(percent)
    readable[t("p_adjusted", indicator=name)] = summary[f"{indicator}_p_adjusted"].map(
        lambda p: "—" if pd.isna(p) else f"{p:.3f}")
readable[t("all_positive")] = [t("yes") if v else t("no") for v in summary["all_positive"]]
show_table(readable, hide_index=True, width="stretch")

st.subheader(t("suspicious"))
suspicious = checks.suspicious
show_table(pd.DataFrame({
    t("level"): [t(f"level_{level}") for level in suspicious["level"]],
    t("area"): [labels.get(i, "") for i in suspicious["area_id"]],
    t("indicator"): [t(i) for i in suspicious["indicator"]], t("respondents"): suspicious["respondents"],
    t("ci_low"): suspicious["ci_low"].map(percent), t("reason"): suspicious[reason_column],
}), hide_index=True, width="stretch")
