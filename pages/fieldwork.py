"""Organisers: live fieldwork progress against quota, by district, cell, interviewer and day."""

import pandas as pd
import plotly.express as px
import streamlit as st

from data.reads import completes
from data.db import database_url, read_session
from data.results import restrict_to_area
from ui import auth, cached
from ui.scope import scope_for
from ui.i18n import lang, language_switch, register_texts, t
from ui.state import engine
from ui.pickers import round_picker
from ui.tables import demographic_names, show_table

language_switch()

register_texts({
    "refresh_note": ("本页每 15 秒自动刷新。", "This page refreshes itself every 15 seconds."),
    "by_district": ("按区（县）", "By district"),
    "by_cell": ("按年龄 × 性别", "By age group × sex"),
    "by_interviewer": ("按调查员", "By interviewer"),
    "by_day": ("按日期", "By day"),
    "remaining": ("尚差", "Remaining"),
    "share_done": ("完成比例", "Done"),
    "interviewer": ("调查员", "Interviewer"),
    "day": ("日期", "Day"),
    "self_filled": ("（市民自填）", "(self-filled)"),
    "age_group": ("年龄段", "Age group"),
    "sex": ("性别", "Sex"),
    "own_area_note": ("仅统计您负责范围内各社区的完成量；配额仍为全区（县）的数。",
                      "Completes are counted in your own area's communities only; quotas are still the whole district's."),
})

staff = auth.require_page("fieldwork")
scope = scope_for(staff)
language = lang()
url = database_url()
st.title(t("page_fieldwork"))
rounds = cached.rounds(url)
round_code = round_picker(rounds, "fieldwork.round")
survey_round = next(r for r in rounds if r.code == round_code)
st.caption(t("refresh_note"))
questionnaire = cached.questionnaire(url, survey_round.questionnaire_id)
age_names = demographic_names(questionnaire, "age_group", language)
sex_names = demographic_names(questionnaire, "sex", language)

areas = cached.areas(url)
scope_level = None
if staff.area_id is not None:
    areas, _, scope_level = restrict_to_area(areas, pd.DataFrame({"community_id": []}), staff.area_id)
if scope_level in ("street", "community"):
    st.caption(t("own_area_note"))
name_column = "name_en" if language == "en" else "name_zh"
districts = areas[areas["level"] == "district"] if staff.area_id is None else \
    cached.areas(url).query("id in @areas.district_id.unique()")


def counted(by: str) -> pd.DataFrame:
    # Read straight from the database (not cached): this is the live view.
    with read_session(engine()) as session:
        return completes(session, survey_round.id, by, scope=scope)


def by_district_view() -> None:
    quotas = survey_round.quotas.get("districts") or {}
    table = districts[["id", "code", name_column]].merge(
        counted("district"), left_on="id", right_on="district_id", how="left").fillna({"completes": 0})
    table["quota"] = table["code"].map(quotas)
    table["remaining"] = (table["quota"] - table["completes"]).clip(lower=0)
    table["share"] = table["completes"] / table["quota"]
    figure = px.bar(table, x=name_column, y="completes", text="completes",
                    labels={name_column: "", "completes": t("completes")})
    if table["quota"].notna().any():
        figure.add_scatter(x=table[name_column], y=table["quota"], mode="markers", name=t("quota"),
                           marker={"symbol": "line-ew-open", "size": 30, "color": "#c62828"})
    figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(figure, width="stretch", key="fieldwork.chart")
    show_table(pd.DataFrame({
        t("area"): table[name_column], t("completes"): table["completes"].astype(int),
        t("quota"): table["quota"], t("remaining"): table["remaining"],
        t("share_done"): [("—" if pd.isna(v) else f"{v:.0%}") for v in table["share"]],
    }), hide_index=True, width="stretch")


def by_cell_view() -> None:
    by_cell = counted("cell")
    cells = by_cell[by_cell["district_id"].isin(set(districts["id"]))].merge(
        districts[["id", "code", name_column]], left_on="district_id", right_on="id")
    cell_quotas = survey_round.quotas.get("cells") or {}
    cells["quota"] = [cell_quotas.get(f"{c}|{a}|{s}") for c, a, s in zip(cells["code"], cells["age_group"], cells["sex"])]
    show_table(pd.DataFrame({
        t("area"): cells[name_column],
        t("age_group"): cells["age_group"].map(lambda c: age_names.get(c, c or "—")),
        t("sex"): cells["sex"].map(lambda c: sex_names.get(c, c or "—")),
        t("completes"): cells["completes"], t("quota"): cells["quota"],
    }), hide_index=True, width="stretch")


def by_interviewer_view() -> None:
    by_interviewer = counted("interviewer")
    people = by_interviewer[by_interviewer["district_id"].isin(set(districts["id"]))].merge(
        districts[["id", name_column]], left_on="district_id", right_on="id")
    show_table(pd.DataFrame({
        t("interviewer"): people["interviewer"].fillna(t("self_filled")), t("area"): people[name_column],
        t("completes"): people["completes"],
    }).sort_values(t("completes"), ascending=False), hide_index=True, width="stretch")


def by_day_view() -> None:
    by_day = counted("day")
    if not by_day.empty:
        figure = px.line(by_day, x="day", y="completes", markers=True,
                         labels={"day": t("day"), "completes": t("completes")})
        figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10})
        st.plotly_chart(figure, width="stretch", key="fieldwork.days")
    show_table(by_day.rename(columns={"day": t("day"), "completes": t("completes")}), hide_index=True)


VIEWS = {"by_district": by_district_view, "by_cell": by_cell_view, "by_interviewer": by_interviewer_view,
         "by_day": by_day_view}


@st.fragment(run_every="15s")
def progress() -> None:
    # A timed rerun runs only this function: check the account again, or a disabled account's
    # open tab would go on showing live figures.
    auth.still_allowed("fieldwork")
    # Only the open tab is counted and drawn: the organiser's first page after a login drew all four.
    tabs = st.tabs([t(name) for name in VIEWS], key="fieldwork.view", on_change="rerun")
    for tab, view in zip(tabs, VIEWS.values()):
        if tab.open:
            with tab:
                view()


progress()
