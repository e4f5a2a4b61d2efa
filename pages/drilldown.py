"""Analysts: district → street → community on one page, small groups marked, optional stabilised rates."""

import pandas as pd
import streamlit as st

from analysis.shrinkage import empirical_bayes_shrinkage
from data.db import database_url
from reports.results import results_for
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_picker
from ui.tables import coloured_verdicts, show_table
from ui.verdict_rule import show_rule

language_switch()

register_texts({
    "drill_district": ("区（县）", "District"),
    "drill_street": ("街道（乡镇）", "Street"),
    "stabilise": ("显示经验贝叶斯稳定估计（向上级区域收缩）", "Show empirical-Bayes stabilised rates (shrunk towards the parent area)"),
    "stabilised": ("稳定估计（非观测值）", "Stabilised (not observed)"),
    "stabilise_help": ("小样本社区的比率波动大。稳定估计把它们向所属街道的比率收缩，样本越小收缩越多；它是估计值，不是调查观测值，"
                       "不能用于判定达标。", "Small communities' rates swing widely. The stabilised estimate pulls them "
                       "towards their street's rate, more so the smaller they are; it is an estimate, not an observed "
                       "rate, and is not used for verdicts."),
    "small_group": ("样本过少（少于 30 人），不宜判断", "Too few (under 30) to judge"),
})

staff = auth.require_page("drilldown")
language = lang()
url = database_url()
st.title(t("page_drilldown"))
rounds = cached.rounds(url)
controls = st.columns(2)
round_code = round_picker(rounds, "drilldown.round", controls[0])
indicator = controls[1].selectbox(t("indicator"), ["awareness", "support", "participation", "satisfaction"],
                                  format_func=t, key="drilldown.indicator")
snapshot = cached.snapshot(url, round_code, staff.area_id)
show_rule(snapshot.rule)
rows = results_for(snapshot).indicators
rows = rows[rows["indicator"] == indicator]
areas = snapshot.areas
name = "area_label_en" if language == "en" else "area_label_zh"


def level_table(level_rows: pd.DataFrame, shrunk=None) -> pd.DataFrame:
    table = pd.DataFrame({
        t("area"): level_rows[name].to_numpy(), t("respondents"): level_rows["respondents"].to_numpy(),
        t("rate"): [f"{r:.1%}" if pd.notna(r) else "—" for r in level_rows["rate"]],
        t("ci"): [f"{lo:.1%} – {hi:.1%}" if pd.notna(lo) else "—" for lo, hi in zip(level_rows["ci_low"], level_rows["ci_high"])],
        t("verdict"): [t("small_group") if small and v != "no_data" else t(v)
                       for v, small in zip(level_rows["verdict"], level_rows["too_small"])],
    })
    if shrunk is not None:
        table[t("stabilised")] = [f"{r:.1%}" if pd.notna(r) else "—" for r in shrunk]
    return table


districts = rows[rows["level"] == "district"]
if not districts.empty:
    st.subheader(t("drill_district"))
    show_table(**coloured_verdicts(level_table(districts), language), hide_index=True, width="stretch")
district_ids = areas.loc[areas["level"] == "district", "id"].tolist()
if district_ids:
    district_names = dict(zip(districts["area_id"], districts[name]))
    district_id = st.selectbox(t("drill_district"), district_ids, format_func=lambda i: district_names.get(i, i),
                               key="drilldown.district")
    street_ids = areas.loc[(areas["level"] == "street") & (areas["district_id"] == district_id), "id"]
else:
    street_ids = areas.loc[areas["level"] == "street", "id"]
streets = rows[(rows["level"] == "street") & rows["area_id"].isin(street_ids)]
if not streets.empty:
    st.subheader(t("drill_street"))
    show_table(**coloured_verdicts(level_table(streets), language), hide_index=True, width="stretch")
    street_names = dict(zip(streets["area_id"], streets[name]))
    street_id = st.selectbox(t("drill_street"), list(street_names), format_func=street_names.get, key="drilldown.street")
else:
    street_id = int(areas.loc[areas["level"] == "street", "id"].iloc[0]) if (areas["level"] == "street").any() else None

community_ids = areas.loc[(areas["level"] == "community") & (areas["street_id"] == street_id), "id"]
communities = rows[(rows["level"] == "community") & rows["area_id"].isin(community_ids)]
st.subheader(t("level_community"))
stabilise = st.toggle(t("stabilise"), key="drilldown.stabilise")
shrunk = None
if stabilise and not communities.empty:
    st.caption(t("stabilise_help"))
    parent = rows[(rows["level"] == "street") & (rows["area_id"] == street_id)]
    if not parent.empty:
        p = parent.iloc[0]
        # Effective counts: the respondent, not the answer, is the unit.
        result = empirical_bayes_shrinkage(
            (communities["rate"] * communities["n_eff"]).fillna(0).to_numpy(), communities["n_eff"].fillna(0).to_numpy(),
            float(p["rate"] * p["n_eff"]), float(p["n_eff"]))
        shrunk = result["rate_shrunk"].to_numpy()
show_table(**coloured_verdicts(level_table(communities, shrunk), language), hide_index=True, width="stretch")
