"""Analysts: each area's change between two rounds, with an interval for the difference, and the trend."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.compare import compare_rounds
from data.db import database_url
from data.questionnaire_versions import comparable_items
from data.results import levels_below
from reports.results import results_for, scope_name
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.charts import percent_axis
from ui.pickers import round_names, round_picker
from ui.tables import show_table

language_switch()

register_texts({
    "round_before": ("对比基准轮次", "Earlier round"),
    "round_after": ("对比轮次", "Later round"),
    "change": ("变化", "Change"),
    "change_ci": ("变化的置信区间", "Interval of the change"),
    "significant": ("超出随机波动", "Beyond chance"),
    "direction_up": ("上升", "Up"),
    "direction_down": ("下降", "Down"),
    "direction_none": ("无显著变化", "No clear change"),
    "trend": ("各轮次走势", "Trend across rounds"),
    "compare_help": ("差值区间用 Newcombe 混合得分法，以受访者为单位；区间不含 0 时视为超出随机波动。",
                     "The interval of the difference is Newcombe's hybrid score interval with the respondent as the "
                     "unit; a change is beyond chance when the interval excludes 0."),
    "versions_differ": ("两轮使用的问卷版本不同：以下题目的计分口径已改变，不宜直接比较——{items}",
                        "The rounds used different questionnaire versions; these items changed how they are scored "
                        "and should not be compared directly: {items}"),
})

staff = auth.require_page("compare")
language = lang()
url = database_url()
st.title(t("page_compare"))
st.caption(t("compare_help"))

rounds = cached.rounds(url)
if len(rounds) < 2:
    st.info(t("no_rounds"))
    st.stop()
names = round_names(rounds)
controls = st.columns(3)
before_code = round_picker(rounds, "compare.before", controls[0], label=t("round_before"), back=1)
after_code = round_picker(rounds, "compare.after", controls[1], label=t("round_after"))
before_snapshot = cached.snapshot(url, before_code, staff.area_id)
after_snapshot = cached.snapshot(url, after_code, staff.area_id)
# A scoped reader's top level is their own area (城东区), never 全市.
top_name = scope_name(after_snapshot, language)
level = controls[2].selectbox(t("level"), ["city", *levels_below(after_snapshot.scope_level)],
                              format_func=lambda v: top_name if v == "city" else t(f"level_{v}"), key="compare.level")

if before_snapshot.questionnaire.to_dict() != after_snapshot.questionnaire.to_dict():
    items = comparable_items(before_snapshot.questionnaire, after_snapshot.questionnaire)
    changed = items.loc[~items["comparable"], "item"].tolist()
    if changed:
        st.warning(t("versions_differ", items="、".join(changed)))

# Each round keeps its own verdict rule; the rates and effective sizes compared come from it.
st.caption(f"{names[before_code]}：{before_snapshot.rule.describe(language)} · "
           f"{names[after_code]}：{after_snapshot.rule.describe(language)}")
before = results_for(before_snapshot).indicators
after = results_for(after_snapshot).indicators
change = compare_rounds(before[before["level"] == level], after[after["level"] == level])
name = "area_label_en" if language == "en" else "area_label_zh"
labels = after.drop_duplicates("area_id").set_index("area_id")[name]
show_table(pd.DataFrame({
    t("area"): change["area_id"].map(labels), t("indicator"): [t(i) for i in change["indicator"]],
    names[before_code]: [f"{r:.1%}" if pd.notna(r) else "—" for r in change["rate_before"]],
    names[after_code]: [f"{r:.1%}" if pd.notna(r) else "—" for r in change["rate_after"]],
    t("change"): [f"{c:+.1%}" if pd.notna(c) else "—" for c in change["change"]],
    t("change_ci"): [f"{lo:+.1%} – {hi:+.1%}" if pd.notna(lo) else "—" for lo, hi in zip(change["ci_low"], change["ci_high"])],
    t("significant"): [t(f"direction_{d}") for d in change["direction"]],
}), hide_index=True, width="stretch")

st.subheader(t("trend_by_area"))
controls = st.columns([1, 3])
indicator = controls[0].selectbox(t("indicator"), ["awareness", "support", "participation", "satisfaction"],
                                  format_func=t, key="compare.indicator")
# The reader's whole area (全市 or their own scope) first, then the areas of the chosen level.
top = after[after["level"] == "city"].drop_duplicates("area_id")
level_areas = after[after["level"] == level].drop_duplicates("area_id") if level != "city" else top.iloc[0:0]
choices = dict(zip(top["area_id"], top[name])) | dict(zip(level_areas["area_id"], level_areas[name]))
shown = controls[1].multiselect(t("trend_areas"), list(choices), default=list(choices)[:6], format_func=choices.get,
                                placeholder=t("choose_placeholder"), key=f"compare.areas.{level}")
by_round = {r.code: results_for(cached.snapshot(url, r.code, staff.area_id)).indicators for r in rounds}
figure = go.Figure()
lows, highs = [], []
for area_id in shown:
    points = []
    for survey_round in rounds:
        rows = by_round[survey_round.code]
        rows = rows[(rows["area_id"] == area_id) & (rows["indicator"] == indicator) & (rows["respondents"] > 0)]
        if area_id != 0:
            rows = rows[rows["level"] == level]
        if not rows.empty:
            points.append((names[survey_round.code], rows.iloc[0]))
    if not points:
        continue
    lows += [p["ci_low"] for _, p in points]
    highs += [p["ci_high"] for _, p in points]
    figure.add_trace(go.Scatter(
        x=[x for x, _ in points], y=[p["rate"] for _, p in points], mode="lines+markers", name=choices[area_id],
        marker={"size": 9}, error_y={"type": "data", "symmetric": False,
                                     "array": [p["ci_high"] - p["rate"] for _, p in points],
                                     "arrayminus": [p["rate"] - p["ci_low"] for _, p in points]}))
target = after_snapshot.targets.get(indicator)
if target:
    figure.add_hline(y=target, line_dash="dash", annotation_text=f"{t('target')} {target:.0%}")
    lows.append(target)
    highs.append(target)
axis = percent_axis(min(lows), max(highs)) if lows else {"tickformat": ".0%"}
figure.update_layout(yaxis=axis, height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=True,
                     legend={"orientation": "h", "y": -0.15}, xaxis={"type": "category"})
st.plotly_chart(figure, width="stretch", key="compare.trend")
