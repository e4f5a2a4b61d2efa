"""Sample-size planner: how many interviews an area needs to show its target is met."""

import pandas as pd
import streamlit as st

from analysis import METHODS, required_sample_size
from analysis.rates import DEFAULT_RULE, VerdictRule
from data.db import database_url
from reports.results import results_for
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_picker
from ui.tables import method_name, show_table

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
    "planner_starts_from": ("表单从所选轮次的判定规则（{rule}）开始；下表按表单的方法、置信水平和单双侧计算。",
                            "The form starts from the selected round's verdict rule ({rule}); the table below "
                            "follows the form's method, level and sidedness."),
    "planner_not_round_rule": ("表单规则（{form}）不同于本轮判定规则（{rule}）：下表仅供规划，不是本轮的正式判定。",
                               "The form's rule ({form}) differs from the round's verdict rule ({rule}): the table "
                               "below is for planning only, not the round's official verdicts."),
})

staff = auth.require_page("planner")
language = lang()
st.title(t("page_planner"))
st.caption(t("planner_help"))

url = database_url()
rounds = cached.rounds(url)
round_code = round_picker(rounds, "planner.round") if rounds else None
snapshot = cached.snapshot(url, round_code, staff.area_id) if round_code else None
rule = snapshot.rule if snapshot is not None else DEFAULT_RULE
st.caption(t("planner_starts_from", rule=rule.describe(language)))

methods = [m for m in METHODS if m != "wald"]
levels = [0.90, 0.95, 0.99]
# Keys carry the round, so picking another round starts the form again from that round's rule.
with st.form(f"planner.{round_code}"):
    columns = st.columns(3)
    expected = columns[0].number_input(t("expected_rate"), 50.0, 100.0, 99.5, 0.1, format="%.1f")
    target = columns[1].number_input(t("target"), 50.0, 99.9, 99.0, 0.5, format="%.1f")
    confidence = columns[2].selectbox(t("confidence"), levels, format_func=lambda c: f"{c:.0%}",
                                      index=levels.index(rule.confidence) if rule.confidence in levels else 1,
                                      key=f"planner.{round_code}.confidence")
    columns = st.columns(4)
    method = columns[0].selectbox(t("method"), methods, index=methods.index(rule.method),
                                  format_func=lambda m: method_name(m, language), key=f"planner.{round_code}.method")
    deff = columns[1].number_input(t("deff"), 1.0, 10.0, 1.0, 0.1)
    sided = columns[2].selectbox(t("sidedness"), ["one", "two"], index=["one", "two"].index(rule.sided),
                                 format_func=lambda s: t(f"{s}_sided"), key=f"planner.{round_code}.sided")
    power = columns[3].number_input(t("power"), 0.0, 99.0, value=None, step=5.0)
    planned = st.form_submit_button(t("page_planner"), type="primary")
form_rule = VerdictRule(method, confidence, sided)
try:
    needed = required_sample_size(expected / 100, target / 100, confidence, method, deff, sided,
                                  None if power is None else power / 100)
except ValueError:
    st.warning(t("cannot_show"))
else:
    st.metric(t("needed"), f"{needed:,}")

if snapshot is None:
    st.stop()
st.subheader(t("undecided_areas"))
# The table follows the form: the same method, level and sidedness as the figure above.
if form_rule != rule:
    st.warning(t("planner_not_round_rule", form=form_rule.describe(language), rule=rule.describe(language)))
results = results_for(snapshot, form_rule.method, form_rule.interval_confidence)
undecided = results.indicators[(results.indicators["verdict"] == "undecided") & (results.indicators["level"] != "city")]
name = "area_label_en" if language == "en" else "area_label_zh"
show_table(pd.DataFrame({
    t("level"): [t(f"level_{level}") for level in undecided["level"]], t("area"): undecided[name],
    t("indicator"): [t(i) for i in undecided["indicator"]], t("respondents"): undecided["respondents"],
    t("rate"): [f"{r:.1%}" for r in undecided["rate"]], t("extra_needed"): undecided["extra_needed"],
}), hide_index=True, width="stretch")
