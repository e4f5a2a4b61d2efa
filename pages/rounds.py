"""Organisers: create a survey round (questionnaire version, window, targets, quotas), open and close it."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from data import accounts
from data.reads import completes
from reports.snapshot import round_rule
from data.rounds import change_round_status, create_round, list_rounds, round_by_code, update_round_settings
from data.db import database_url, read_session, write_session
from data.models import QuestionnaireVersion
from analysis.rates import DEFAULT_RULE, METHOD_NAMES, VerdictRule
from questionnaires import INDICATORS
from sqlalchemy import select
from ui import auth, cached
from ui.plain import plain
from ui.scope import scope_for
from ui.i18n import in_language, lang, language_switch, register_texts, t
from ui.notices import confirm
from ui.state import engine
from ui.tables import edit_table, show_table

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
    "rounds_need_questionnaire": ("还没有任何问卷。请先在“问卷管理”上传问卷，再新建调查轮次。",
                                  "There is no questionnaire yet. Upload one on “Questionnaires” first, then create a round."),
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
    "frozen_note": ("本轮已开放：目标、配额和判定规则已锁定，报告始终按这些设置判定。",
                    "The round is open: its targets, quotas and verdict rule are frozen, so its reports never change."),
    "completes": ("已完成", "Completes"),
    "quota": ("配额", "Quota"),
    "save_settings": ("保存设置", "Save settings"),
    "extend_close": ("调整结束时间", "Move the closing time"),
    "official_sample_size": ("正式测评预计访问人数（全市，用于估计达标概率）",
                             "Interviews expected in the official evaluation (whole city; for the chance of meeting targets)"),
    "rule_heading": ("判定规则（开放后锁定）", "Verdict rule (frozen when the round opens)"),
    "rule_method": ("区间方法", "Interval method"),
    "rule_level": ("置信水平", "Confidence level"),
    "rule_sided": ("单侧 / 双侧", "One- or two-sided"),
    "rule_sided_one": ("单侧（默认，与样本量规划一致）", "One-sided (default, as the planner)"),
    "rule_sided_two": ("双侧区间的两端", "Ends of a two-sided interval"),
    "rule_column": ("判定规则", "Verdict rule"),
    "rounds_city_only": ("轮次的设置影响全市，只能由不限数据范围的账号新建、修改、开放或结束；上表的完成数只计您范围内的社区。",
                         "A round's settings affect the whole city: only accounts without an area limit create, change, "
                         "open or close rounds. The completes above count your own area's communities only."),
})

staff = auth.require_page("rounds")
scope = scope_for(staff)
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
    # A district or street office counts its own communities' completes only.
    counts = {r.id: int(completes(session, r.id, "district", scope=scope)["completes"].sum()) for r in rounds}
areas = cached.areas(url)
districts = areas[areas["level"] == "district"]

st.subheader(t("rounds_list"))
show_table(pd.DataFrame({
    t("round_code"): [r.code for r in rounds],
    t("round_name_zh"): [r.name_en if language == "en" else r.name_zh for r in rounds],
    t("round_status"): [status_label[r.status] for r in rounds],
    t("opens"): [r.opens_at for r in rounds],
    t("closes"): [r.closes_at for r in rounds],
    t("completes"): [counts[r.id] for r in rounds],
    t("targets_pct"): [", ".join(f"{t(k)} {v:.0%}" for k, v in r.targets.items() if v) for r in rounds],
    t("rule_column"): [round_rule(r).describe(language) for r in rounds],
}), hide_index=True, width="stretch")


RULE_METHODS = ("clopper-pearson", "wilson", "jeffreys")
RULE_LEVELS = (0.90, 0.95, 0.99)


def rule_inputs(prefix: str, current: VerdictRule) -> VerdictRule:
    st.markdown(f"**{t('rule_heading')}**")
    columns = st.columns(3)
    method = columns[0].selectbox(t("rule_method"), RULE_METHODS, index=RULE_METHODS.index(current.method),
                                  format_func=METHOD_NAMES.get, key=f"{prefix}.rule_method")
    level = columns[1].selectbox(t("rule_level"), RULE_LEVELS, format_func=lambda c: f"{c:.0%}",
                                 index=RULE_LEVELS.index(current.confidence) if current.confidence in RULE_LEVELS else 1,
                                 key=f"{prefix}.rule_level")
    sided = columns[2].selectbox(t("rule_sided"), ("one", "two"), index=("one", "two").index(current.sided),
                                 format_func=lambda s: t(f"rule_sided_{s}"), key=f"{prefix}.rule_sided")
    return VerdictRule(method, level, sided)


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
    if table.empty:  # no districts yet
        st.caption(t("table_empty"))
        return {}
    # The code is kept (quotas are stored by district code) but not shown: readers know the names.
    edited = edit_table(table, hide_index=True, disabled=["code", t("area")], key=f"{prefix}.quotas",
                        column_config={"code": None,
                                       t("quota"): st.column_config.NumberColumn(min_value=0, step=1)})
    return {code: int(value) for code, value in zip(edited["code"], edited[t("quota")]) if value and value > 0}


if not scope.whole_city:
    st.info(t("rounds_city_only"))
    st.stop()

if not versions:  # a new deployment: a round needs a questionnaire first
    st.info(t("rounds_need_questionnaire"))
    st.page_link("pages/questionnaires.py", label=t("page_questionnaires"), icon=":material/library_books:")
    st.stop()

with st.expander(t("create_round"), expanded=not rounds):
    with st.form("rounds.create", clear_on_submit=True):
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
        official_n = st.number_input(t("official_sample_size"), 1, 1_000_000, 600, 50, key="rounds.create.official")
        invitation_only = st.checkbox(t("requires_invitation"))
        rule = rule_inputs("rounds.create", DEFAULT_RULE)
        create = st.form_submit_button(t("create"), type="primary")
    if create:
        try:
            with write_session(engine()) as session:
                version = session.get(QuestionnaireVersion, version_id)
                create_round(
                    session, code.strip(), name_zh.strip() or code.strip(), version, targets, name_en=name_en.strip(),
                    status="draft", opens_at=datetime.combine(opens_on, time.min),
                    closes_at=datetime.combine(closes_on, time.max.replace(microsecond=0)),
                    quotas={"districts": district_quotas}, requires_invitation=invitation_only, rule=rule,
                    official_sample_size=int(official_n), scope=scope,
                )
                accounts.record(session, staff.username, "round.create", code.strip(), targets=str(targets),
                                quotas=str(district_quotas), rule=rule.describe("en"))
        except ValueError as problem:  # OutOfScope included
            st.error(plain(in_language(problem)))
        else:
            cached.rounds.clear()
            confirm(t("toast_round_created", name=name_zh.strip() or code.strip()))
            # The manage picker moves to the new round (set before the picker is drawn on the rerun).
            st.session_state["rounds.manage"] = code.strip()
            st.rerun()

if not rounds:
    st.stop()

st.subheader(t("manage_round"))
names = {r.code: f"{r.name_en if language == 'en' else r.name_zh}（{r.code}，{status_label[r.status]}）" for r in rounds}
if st.session_state.get("rounds.manage") not in names:
    st.session_state["rounds.manage"] = rounds[-1].code  # the newest round first
chosen_code = st.selectbox(t("round"), list(names), format_func=names.get, key="rounds.manage")
chosen = next(r for r in rounds if r.code == chosen_code)


round_label = chosen.name_en if language == "en" else chosen.name_zh


def act(change, done: str):
    try:
        with write_session(engine()) as session:
            change(session, round_by_code(session, chosen.code))
    except ValueError as problem:
        st.error(plain(in_language(problem)))
    else:
        cached.rounds.clear()
        confirm(t(done, name=round_label))
        st.rerun()


if chosen.status == "draft":
    with st.form("rounds.edit"):
        targets = targets_inputs("rounds.edit", chosen.targets)
        district_quotas = quota_editor("rounds.edit", chosen.quotas or {})
        official_n = st.number_input(t("official_sample_size"), 1, 1_000_000, chosen.official_sample_size, 50,
                                     key="rounds.edit.official")
        rule = rule_inputs(f"rounds.edit.{chosen.code}", round_rule(chosen))
        save = st.form_submit_button(t("save_settings"))
    if save:
        act(lambda session, r: update_round_settings(
            session, staff.username, r, targets=targets, quotas={**(r.quotas or {}), "districts": district_quotas},
            official_sample_size=int(official_n), rule=rule, scope=scope),
            "toast_round_saved")
    already_open = [r for r in rounds if r.status == "open"]
    confirmed = True
    if already_open:
        other = already_open[-1]
        st.warning(t("second_round_warning", other=other.name_en if language == "en" else other.name_zh))
        confirmed = st.checkbox(t("confirm_second_round"), key="rounds.confirm_second")
    if st.button(t("open_round"), type="primary", disabled=not confirmed):
        act(lambda session, r: change_round_status(session, staff.username, r, "open", scope=scope), "toast_round_opened")
elif chosen.status == "open":
    st.info(t("frozen_note"))
    st.caption(round_rule(chosen).explain(language))
    new_close = st.date_input(t("extend_close"), value=(chosen.closes_at or datetime.now()).date(), key="rounds.close_on")
    if st.button(t("save_settings")):
        act(lambda session, r: update_round_settings(
            session, staff.username, r, closes_at=datetime.combine(new_close, time.max.replace(microsecond=0)),
            scope=scope),
            "toast_round_saved")
    close_confirmed = st.checkbox(t("confirm_close"), key="rounds.confirm_close")
    if st.button(t("close_round"), disabled=not close_confirmed):
        act(lambda session, r: change_round_status(session, staff.username, r, "closed", scope=scope), "toast_round_closed")
