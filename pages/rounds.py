"""Organisers: create a survey round (questionnaire version, window, targets, quotas), open and close it."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from data import accounts
from data.db import database_url, read_session, write_session
from data.models import QuestionnaireVersion
from data.reads import count_responses
from data.rounds import change_round_status, create_round, list_rounds, round_by_code, update_round_settings
from questionnaires import INDICATORS
from sqlalchemy import select
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.state import engine

language_switch()

register_texts({
    "rounds_list": ("全部轮次", "All rounds"),
    "round_code": ("轮次编号", "Round code"),
    "round_name_zh": ("轮次名称（中文）", "Name (Chinese)"),
    "round_name_en": ("轮次名称（英文）", "Name (English)"),
    "round_status": ("状态", "Status"),
    "status_draft": ("草稿", "Draft"),
    "status_open": ("进行中", "Open"),
    "status_closed": ("已结束", "Closed"),
    "questionnaire_version": ("问卷版本", "Questionnaire version"),
    "opens": ("开始", "Opens"),
    "closes": ("结束", "Closes"),
    "targets_pct": ("各项指标目标（%）", "Targets (%)"),
    "district_quotas": ("各区完成配额（份）", "Completes quota per district"),
    "cell_quotas": ("年龄 × 性别配额（可选，份）", "Quota per age group × sex (optional)"),
    "requires_invitation": ("仅凭邀请码参加", "By invitation only"),
    "create_round": ("新建轮次", "New round"),
    "create": ("创建", "Create"),
    "created": ("已创建。新轮次为草稿，确认无误后再开放。", "Created as a draft; open it when ready."),
    "manage_round": ("管理所选轮次", "Manage the selected round"),
    "open_round": ("开放本轮", "Open the round"),
    "close_round": ("结束本轮", "Close the round"),
    "confirm_close": ("确认结束？结束后不能重新开放。", "Confirm: a closed round cannot be reopened."),
    "frozen_note": ("本轮已开放：目标和配额已锁定，报告始终按这些设置判定。",
                    "The round is open: its targets and quotas are frozen, so its reports never change."),
    "completes": ("已完成", "Completes"),
    "quota": ("配额", "Quota"),
    "save_settings": ("保存设置", "Save settings"),
    "extend_close": ("调整结束时间", "Move the closing time"),
})

staff = auth.require_page("rounds")
language = lang()
st.title(t("page_rounds"))
url = database_url()
status_label = {s: t(f"status_{s}") for s in ("draft", "open", "closed")}

with read_session(engine()) as session:
    rounds = list_rounds(session)
    versions = session.execute(
        select(QuestionnaireVersion.id, QuestionnaireVersion.code, QuestionnaireVersion.version,
               QuestionnaireVersion.title_zh).order_by(QuestionnaireVersion.code, QuestionnaireVersion.version)
    ).all()
    counts = {r.id: count_responses(session, r.id) for r in rounds}
areas = cached.areas(url)
districts = areas[areas["level"] == "district"]

st.subheader(t("rounds_list"))
st.dataframe(pd.DataFrame({
    t("round_code"): [r.code for r in rounds],
    t("round_name_zh"): [r.name_en if language == "en" else r.name_zh for r in rounds],
    t("round_status"): [status_label[r.status] for r in rounds],
    t("opens"): [r.opens_at for r in rounds],
    t("closes"): [r.closes_at for r in rounds],
    t("completes"): [counts[r.id] for r in rounds],
    t("targets_pct"): [", ".join(f"{t(k)} {v:.0%}" for k, v in r.targets.items() if v) for r in rounds],
}), hide_index=True, width="stretch")


def targets_inputs(prefix: str, current: dict) -> dict:
    columns = st.columns(len(INDICATORS))
    return {
        indicator: (column.number_input(t(indicator), 0.0, 100.0, float(current.get(indicator) or 0) * 100, 0.5,
                                        key=f"{prefix}.{indicator}") / 100) or None
        for column, indicator in zip(columns, INDICATORS)
    }


def quota_editor(prefix: str, current: dict) -> dict:
    table = pd.DataFrame({
        "code": districts["code"].to_numpy(),
        t("area"): districts["name_en" if language == "en" else "name_zh"].to_numpy(),
        t("quota"): [int((current.get("districts") or {}).get(code, 0)) for code in districts["code"]],
    })
    edited = st.data_editor(table, hide_index=True, disabled=["code", t("area")], key=f"{prefix}.quotas",
                            column_config={t("quota"): st.column_config.NumberColumn(min_value=0, step=1)})
    return {code: int(value) for code, value in zip(edited["code"], edited[t("quota")]) if value and value > 0}


with st.expander(t("create_round"), expanded=not rounds):
    with st.form("rounds.create"):
        code = st.text_input(t("round_code"), max_chars=40, placeholder="2026-R3")
        name_zh = st.text_input(t("round_name_zh"), max_chars=100, placeholder="第三轮模拟测评")
        name_en = st.text_input(t("round_name_en"), max_chars=100)
        version_labels = {v.id: f"{v.title_zh}（{v.code} v{v.version}）" for v in versions}
        version_id = st.selectbox(t("questionnaire_version"), list(version_labels), index=len(versions) - 1,
                                  format_func=version_labels.get)
        window = st.columns(2)
        opens_on = window[0].date_input(t("opens"), value=datetime.now().date())
        closes_on = window[1].date_input(t("closes"), value=datetime.now().date() + timedelta(days=14))
        st.markdown(f"**{t('targets_pct')}**")
        targets = targets_inputs("rounds.create", {"awareness": 0.95, "support": 0.95, "participation": 0.8,
                                                   "satisfaction": 0.99})
        st.markdown(f"**{t('district_quotas')}**")
        district_quotas = quota_editor("rounds.create", {})
        invitation_only = st.checkbox(t("requires_invitation"))
        create = st.form_submit_button(t("create"), type="primary")
    if create:
        try:
            with write_session(engine()) as session:
                version = session.get(QuestionnaireVersion, version_id)
                create_round(
                    session, code.strip(), name_zh.strip() or code.strip(), version, targets, name_en=name_en.strip(),
                    status="draft", opens_at=datetime.combine(opens_on, time.min),
                    closes_at=datetime.combine(closes_on, time.max.replace(microsecond=0)),
                    quotas={"districts": district_quotas}, requires_invitation=invitation_only,
                )
                accounts.record(session, staff.username, "round.create", code.strip(), targets=str(targets),
                                quotas=str(district_quotas))
        except ValueError as problem:
            st.error(str(problem))
        else:
            cached.rounds.clear()
            st.success(t("created"))
            st.rerun()

if not rounds:
    st.stop()

st.subheader(t("manage_round"))
names = {r.code: f"{r.name_en if language == 'en' else r.name_zh}（{r.code}，{status_label[r.status]}）" for r in rounds}
chosen_code = st.selectbox(t("round"), list(names), index=len(rounds) - 1, format_func=names.get,
                           key="rounds.manage")
chosen = next(r for r in rounds if r.code == chosen_code)


def act(change):
    try:
        with write_session(engine()) as session:
            change(session, round_by_code(session, chosen.code))
    except ValueError as problem:
        st.error(str(problem))
    else:
        cached.rounds.clear()
        st.rerun()


if chosen.status == "draft":
    with st.form("rounds.edit"):
        targets = targets_inputs("rounds.edit", chosen.targets)
        district_quotas = quota_editor("rounds.edit", chosen.quotas or {})
        save = st.form_submit_button(t("save_settings"))
    if save:
        act(lambda session, r: update_round_settings(
            session, staff.username, r, targets=targets, quotas={**(r.quotas or {}), "districts": district_quotas}))
    if st.button(t("open_round"), type="primary"):
        act(lambda session, r: change_round_status(session, staff.username, r, "open"))
elif chosen.status == "open":
    st.info(t("frozen_note"))
    new_close = st.date_input(t("extend_close"), value=(chosen.closes_at or datetime.now()).date(), key="rounds.close_on")
    if st.button(t("save_settings")):
        act(lambda session, r: update_round_settings(
            session, staff.username, r, closes_at=datetime.combine(new_close, time.max.replace(microsecond=0))))
    confirm = st.checkbox(t("confirm_close"), key="rounds.confirm_close")
    if st.button(t("close_round"), disabled=not confirm):
        act(lambda session, r: change_round_status(session, staff.username, r, "closed"))
