"""Analysts: red and black lists, weak items (短板), and breakdowns by age group and sex."""

import pandas as pd
import streamlit as st

from analysis.comments import item_mentions
from analysis.ranking import breakdown, red_black_list
from data.db import database_url
from data.results import levels_below
from reports.results import results_for, weak_items_for
from questionnaires.comment_themes import load_comment_themes
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_picker
from ui.tables import coloured_verdicts, demographic_names, show_table
from ui.verdict_rule import rule_controls

language_switch()

register_texts({
    "tab_ranking": ("红黑榜", "Red and black lists"),
    "tab_weak": ("短板题目", "Weak items"),
    "tab_breakdown": ("年龄与性别", "Age and sex"),
    "rank": ("名次", "Rank"),
    "list_red": ("红榜", "Red list"),
    "list_black": ("黑榜", "Black list"),
    "ranking_help": ("按比率排名；红榜为置信区间证明达标的区域，黑榜为证明未达标的区域；样本过少的区域不参与排名。",
                     "Ranked by rate; the red list holds areas shown to meet the target, the black list areas shown "
                     "to miss it; areas with too few respondents are not ranked."),
    "weak_help": ("“拖累”= 该题占本指标有效回答的比例 ×（目标 − 该题比率），即该题若达到目标，本指标能提高多少。",
                  "Cost = the item's share of the indicator's answers × (target − item rate): how much the "
                  "indicator would gain were the item at target."),
    "cost": ("拖累（百分点）", "Cost (points)"),
    "breakdown_by": ("分组", "Break down by"),
    "age_group": ("年龄段", "Age group"),
    "sex": ("性别", "Sex"),
    "mentions": ("居民意见提及", "Suggestions about it"),
    "residents_say": ("居民怎么说（前 {n} 个短板）", "What residents say (first {n} weak items)"),
    "mentions_help": ("“居民意见提及”：该区域写到这道题相关内容的意见条数（按 questionnaires/themes/comment_themes.yaml 的关键词）。",
                      "Suggestions about it: how many of the area's suggestions mention the item's theme "
                      "(keywords in questionnaires/themes/comment_themes.yaml)."),
    "no_cells": ("按年龄和性别的细分只在区（县）及以上范围提供。", "Breakdowns by age and sex are given for a district or the whole city."),
})

staff = auth.require_page("insights")
language = lang()
url = database_url()
st.title(t("page_insights"))
rounds = cached.rounds(url)
round_code = round_picker(rounds, "insights.round")
snapshot = cached.snapshot(url, round_code, staff.area_id)
rule, exploring = rule_controls(snapshot.rule, "insights")
method, confidence = rule.method, rule.interval_confidence
results = results_for(snapshot, method, confidence)
name = "area_label_en" if language == "en" else "area_label_zh"
indicators = [i for i in ("awareness", "support", "participation", "satisfaction")
              if i in set(results.indicators["indicator"])]

ranking_tab, weak_tab, breakdown_tab = st.tabs([t("tab_ranking"), t("tab_weak"), t("tab_breakdown")])
with ranking_tab:
    st.caption(t("ranking_help"))
    columns = st.columns(2)
    level = columns[0].selectbox(t("level"), levels_below(snapshot.scope_level), format_func=lambda v: t(f"level_{v}"),
                                 key="insights.level")
    indicator = columns[1].selectbox(t("indicator"), indicators, format_func=t, key="insights.indicator")
    ranked = red_black_list(results.indicators, level, indicator)
    show_table(**coloured_verdicts(pd.DataFrame({
        t("rank"): ranked["rank"], t("area"): ranked[name], t("respondents"): ranked["respondents"],
        t("rate"): [f"{r:.1%}" if pd.notna(r) else "—" for r in ranked["rate"]],
        t("verdict"): [t(v) for v in ranked["verdict"]],
        "": [t(f"list_{x}") if x else "" for x in ranked["list"]],
    }), language), hide_index=True, width="stretch")

with weak_tab:
    st.caption(t("weak_help"))
    level = st.selectbox(t("level"), levels_below(snapshot.scope_level), format_func=lambda v: t(f"level_{v}"),
                         key="insights.weak_level")
    weak = weak_items_for(snapshot, level, method, confidence)
    comments = cached.comments(url, round_code, staff.area_id, snapshot.tally_version)
    mentions = item_mentions(comments, load_comment_themes(), level).set_index(["area_id", "item"])
    said = [mentions.loc[key] if key in mentions.index else None for key in zip(weak["area_id"], weak["item"])]

    def question_text(code):
        try:
            return snapshot.questionnaire.question(code).text(language)
        except (KeyError, LookupError):
            return code

    show_table(pd.DataFrame({
        t("area"): weak[name], t("indicator"): [t(i) for i in weak["indicator"]],
        t("item"): [question_text(c) for c in weak["item"]], t("rate"): [f"{r:.1%}" for r in weak["rate"]],
        t("target"): [f"{r:.0%}" for r in weak["target"]], t("cost"): (weak["cost"] * 100).round(2),
        t("mentions"): [0 if row is None else int(row["mentions"]) for row in said],
    }), hide_index=True, width="stretch")
    st.caption(t("mentions_help"))
    voiced = [(area, code, row) for area, code, row in zip(weak[name], weak["item"], said) if row is not None]
    if voiced:
        with st.expander(t("residents_say", n=min(5, len(voiced))), expanded=True):
            for area, code, row in voiced[:5]:
                st.markdown(f"**{area} · {question_text(code)}**（{int(row['mentions'])}）")
                for example in row["examples"]:
                    st.text(f"“{example}”")

with breakdown_tab:
    if snapshot.cells is None or snapshot.cells.empty:
        st.info(t("no_cells"))
    else:
        by = st.multiselect(t("breakdown_by"), ["age_group", "sex"], default=["age_group"], format_func=t,
                            placeholder=t("choose_placeholder"), key="insights.by")
        if by:
            table = breakdown(snapshot.cells, by, method, confidence, correlations=snapshot.correlations)
            table = table[table["indicator"].isin(indicators)].copy()
            for column in by:
                names = demographic_names(snapshot.questionnaire, column, language)
                table[column] = table[column].map(lambda c, names=names: names.get(c, c or "—"))
            label = table[by].astype(str).agg(" · ".join, axis=1)
            points = table.assign(group=label, indicator_name=[t(i) for i in table["indicator"]])
            figure = cached.breakdown_figure(
                points[["group", "indicator_name", "rate", "ci_low", "ci_high"]].reset_index(drop=True), t("rate"))
            st.plotly_chart(figure, width="stretch", key="insights.breakdown_chart")
            show_table(pd.DataFrame({
                **{t(column): table[column] for column in by}, t("indicator"): [t(i) for i in table["indicator"]],
                t("respondents"): table["respondents"], t("rate"): [f"{r:.1%}" for r in table["rate"]],
                t("ci"): [f"{lo:.1%} – {hi:.1%}" for lo, hi in zip(table["ci_low"], table["ci_high"])],
            }), hide_index=True, width="stretch")
