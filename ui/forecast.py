"""The dashboard's section on the official evaluation: 达标概率 beside each verdict, and which weak
item (短板) would raise it most."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import RoundResults
from reports.snapshot import RoundSnapshot
from reports.results import forecast_for
from ui.i18n import register_texts, t
from ui.tables import show_table

register_texts({
    "forecast_title": ("正式测评达标概率", "Chance of meeting the target in the official evaluation"),
    "pass_probability": ("达标概率", "Chance of meeting target"),
    "official_n": ("正式测评访问人数（估计）", "Official interviews (assumed)"),
    "forecast_help": (
        "达标概率：假如正式测评在全市访问 {n} 人（各区按本轮各区配额或受访人数的比例分配），按本轮调查的结果，"
        "正式测评自己算出的比率达到目标的可能性。它同时计入两种偶然：本轮样本本身的误差，和正式测评抽到哪些人。"
        "例如 80% 表示：同样的情况下，大约每 5 次正式测评有 4 次达标。它假定正式测评调查的是同一人群、同样的题目；"
        "本轮样本若偏向容易访问的人，请同时参考加权分析。",
        "Chance of meeting the target: if the official evaluation interviews {n} people in the whole city "
        "(shared among the districts in proportion to this round's district quotas or respondents), how likely its "
        "own rate is to reach the target, given this round's results. It counts both sources of chance: this "
        "round's own sampling error and which people the official sample happens to reach. 80 % means that in "
        "about 4 of 5 official evaluations in the same situation the target would be met. It assumes the official "
        "evaluation asks the same questions of the same population; if this round over-sampled easy-to-reach "
        "people, read the weighting page too."),
    "forecast_gains": ("补齐短板能把达标概率提高多少", "How much fixing one weak item would raise the chance"),
    "forecast_gains_help": (
        "每行：只把这一道题的比率提高到指标目标、其他不变时，该指标的达标概率。",
        "Each row: the indicator's chance if only this question reached the indicator's target, all else unchanged."),
    "probability_now": ("当前达标概率", "Chance now"),
    "probability_if_met": ("该题达标后", "If this item met the target"),
    "gain": ("提高", "Gain"),
    "item_rate": ("题目比率", "Item rate"),
    "forecast_scope": ("达标概率只对全市和各区（县）给出。", "The chance is given for the city and districts only."),
})


def _percent(value) -> str:
    return "—" if pd.isna(value) else f"{value:.0%}" if 0.005 < value < 0.995 else f"{value:.1%}"


def forecast_section(snapshot: RoundSnapshot, results: RoundResults, language: str) -> None:
    """Draw the forecast: one row per area × indicator with its verdict and 达标概率, then the gains."""
    forecast, gains = forecast_for(snapshot, results)
    st.subheader(t("forecast_title"))
    st.caption(t("forecast_help", n=snapshot.official_sample_size))
    forecast = forecast[forecast["target"].notna() & (forecast["official_n"] > 0)]
    if forecast.empty:
        st.info(t("forecast_scope"))
        return
    name = "area_name_en" if language == "en" else "area_name_zh"
    show_table(pd.DataFrame({
        t("area"): forecast[name].to_numpy(), t("indicator"): [t(i) for i in forecast["indicator"]],
        t("rate"): [_percent(v) if pd.isna(v) else f"{v:.1%}" for v in forecast["rate"]],
        t("target"): [f"{v:.0%}" for v in forecast["target"]],
        t("verdict"): [t(v) for v in forecast["verdict"]],
        t("pass_probability"): [_percent(v) for v in forecast["pass_probability"]],
        t("official_n"): forecast["official_n"].to_numpy(),
    }), hide_index=True, width="stretch")
    if gains.empty:
        return
    with st.expander(t("forecast_gains")):
        st.caption(t("forecast_gains_help"))
        names = dict(zip(forecast["area_id"], forecast[name]))
        questionnaire = snapshot.questionnaire

        def question_text(code):
            try:
                return questionnaire.question(code).text(language)
            except (KeyError, LookupError):
                return code

        gains = gains[gains["area_id"].isin(names)].sort_values("gain", ascending=False, kind="stable")
        show_table(pd.DataFrame({
            t("area"): gains["area_id"].map(names).to_numpy(), t("indicator"): [t(i) for i in gains["indicator"]],
            t("item"): [question_text(c) for c in gains["item"]],
            t("item_rate"): [f"{v:.1%}" for v in gains["item_rate"]],
            t("probability_now"): [_percent(v) for v in gains["pass_probability"]],
            t("probability_if_met"): [_percent(v) for v in gains["probability_if_met"]],
            t("gain"): [f"{v:+.0%}" if abs(v) >= 0.005 else f"{v:+.1%}" for v in gains["gain"]],
        }), hide_index=True, width="stretch")
