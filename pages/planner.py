"""Sample-size planner: how many interviews an area needs to show its target is met."""

import pandas as pd
import streamlit as st

from analysis import METHODS, required_sample_size
from data.db import database_url
from reports.results import results_for
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_picker

language_switch()

register_texts({
    "planner_help": ("假设真实比率为某个值，每个区域至少需要访问多少人，才能让置信区间下限达到目标？"
                     "“保证概率”留空时按观察比率恰好等于预期比率计算；填写（如 80%）时按二项分布精确计算达到目标的概率。",
                     "If the true rate is X, how many interviews per area make the interval's lower bound reach the "
                     "target? Without power, the observed rate is taken to equal the expected rate; with power "
                     "(e.g. 80 %), the exact binomial probability of showing the target is used."),
    "expected_rate": ("预期真实比率（%）", "Expected true rate (%)"),
    "sidedness": ("检验方式", "Bound"),
    "two_sided": ("双侧区间下限", "Lower end of a two-sided interval"),
    "one_sided": ("单侧下限", "One-sided lower bound"),
    "power": ("保证概率（%，可留空）", "Power (%; optional)"),
    "needed": ("每个区域需要访问", "Interviews needed per area"),
    "cannot_show": ("预期比率不高于目标，无论访问多少人都无法证明达标。", "The expected rate is not above the target: no sample can show it is met."),
    "undecided_areas": ("所选轮次中“待定”的区域还需访问的人数", "Undecided areas of a round: interviews still needed"),
})

staff = auth.require_page("planner")
language = lang()
st.title(t("page_planner"))
st.caption(t("planner_help"))

with st.form("planner"):
    columns = st.columns(3)
    expected = columns[0].number_input(t("expected_rate"), 50.0, 100.0, 99.5, 0.1, format="%.1f")
    target = columns[1].number_input(t("target"), 50.0, 99.9, 99.0, 0.5, format="%.1f")
    confidence = columns[2].selectbox(t("confidence"), [0.90, 0.95, 0.99], index=1, format_func=lambda c: f"{c:.0%}")
    columns = st.columns(4)
    method = columns[0].selectbox(t("method"), [m for m in METHODS if m != "wald"])
    deff = columns[1].number_input(t("deff"), 1.0, 10.0, 1.0, 0.1)
    sided = columns[2].selectbox(t("sidedness"), ["two", "one"], format_func=lambda s: t(f"{s}_sided"))
    power = columns[3].number_input(t("power"), 0.0, 99.0, value=None, step=5.0)
    planned = st.form_submit_button(t("page_planner"), type="primary")
try:
    needed = required_sample_size(expected / 100, target / 100, confidence, method, deff, sided,
                                  None if power is None else power / 100)
except ValueError:
    st.warning(t("cannot_show"))
else:
    st.metric(t("needed"), f"{needed:,}")

st.subheader(t("undecided_areas"))
url = database_url()
rounds = cached.rounds(url)
round_code = round_picker(rounds, "planner.round")
results = results_for(cached.snapshot(url, round_code, staff.area_id))
undecided = results.indicators[(results.indicators["verdict"] == "undecided") & (results.indicators["level"] != "city")]
name = "area_name_en" if language == "en" else "area_name_zh"
st.dataframe(pd.DataFrame({
    t("level"): [t(f"level_{level}") for level in undecided["level"]], t("area"): undecided[name],
    t("indicator"): [t(i) for i in undecided["indicator"]], t("respondents"): undecided["respondents"],
    t("rate"): [f"{r:.1%}" for r in undecided["rate"]], t("extra_needed"): undecided["extra_needed"],
}), hide_index=True, width="stretch")
