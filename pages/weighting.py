"""Analysts: weight respondents to each district's population by age group × sex.

Mock rounds over-sample whoever is easy to reach; weighting corrects the mix, at the price of a
design effect, shown with the effective sample size beside every weighted rate.
"""

import pandas as pd
import streamlit as st

from analysis import verdicts
from analysis.design import DESIGNS, design_rates
from analysis.rates import add_indicator_rates
from analysis.weighted_rates import weighted_rates_from_cell_sums
from analysis.weighting import EmptyCellError, population_weights
from data.db import database_url, read_session, write_session
from data.design import design_rows
from data.population import (MAX_ROWS, PopulationFileError, population_frame, population_template, read_population_file,
                             save_population)
from data.scope import OutOfScope
from data.uploads import UPLOAD_LIMITS, read_limited
from ui import auth, cached
from ui.plain import plain
from ui.scope import scope_for
from ui.i18n import in_language, lang, language_switch, register_texts, t
from ui.state import engine
from ui.pickers import round_picker
from ui.tables import coloured_verdicts, show_table
from ui.verdict_rule import rule_controls

language_switch()

register_texts({
    "population_error_line": ("行号", "Line"),
    "population_error_problem": ("问题", "Problem"),
    "weighting_help": ("按各区（县）已知的年龄 × 性别人口结构对受访者加权。加权后的置信区间按有效样本量计算，而不是把权重当作人数。",
                       "Respondents are weighted to each district's known population by age group × sex. Weighted "
                       "intervals use the effective sample size, never the weights as if they were counts."),
    "population_data": ("人口数据", "Population data"),
    "population_template": ("下载人口数据模板（CSV）", "Download the population template (CSV)"),
    "population_upload": ("上传人口数据（CSV 或 Excel）", "Upload population data (CSV or Excel)"),
    "population_saved": ("已保存 {n} 行人口数据。", "{n} population rows saved."),
    "population_missing": ("还没有人口数据：请先下载模板、填写并上传。", "No population data yet: download the template, fill it in and upload it."),
    "weighting_method": ("加权方法", "Weighting method"),
    "poststratification": ("事后分层（年龄 × 性别交叉）", "Post-stratification (age × sex cells)"),
    "raking": ("迭代比例拟合（年龄、性别边际）", "Raking (age and sex margins)"),
    "trim": ("权重截断（平均权重的倍数上限）", "Trim weights at this multiple of the mean"),
    "unweighted": ("未加权", "Unweighted"),
    "weighted": ("加权", "Weighted"),
    "n_eff": ("有效样本量", "Effective sample size"),
    "weighting_failed": ("无法加权：{reason}", "Cannot weight: {reason}"),
    "district_only": ("加权在区（县）及以上范围提供。", "Weighting is available for a district or the whole city."),
    "empty_cells": ("无法加权：以下加权单元有人口但没有受访者：{cells}。请合并单元：把该年龄段与相邻年龄段合并后重新上传人口数据，"
                    "或改用“迭代比例拟合”（只要每个年龄段、每个性别都有受访者即可），或在该单元补充访问。",
                    "Cannot weight: these weighting cells have population but no respondents: {cells}. Collapse "
                    "cells: merge the age group with a neighbouring one and upload the population again, or use "
                    "raking (it only needs respondents in every age group and every sex), or interview in that cell."),
    "empty_population": ("无法加权：以下加权单元有受访者但没有人口数：{cells}。请补充这些单元的人口数，或与相邻单元合并。",
                         "Cannot weight: these weighting cells have respondents but no population: {cells}. "
                         "Supply their population or merge them with a neighbouring cell."),
    "design": ("抽样设计（方差计算）", "Sampling design (for the variance)"),
    "design_none": ("无分层、无整群", "No strata, no clusters"),
    "design_strata": ("按区（县）分层", "Strata: districts"),
    "design_strata_community": ("按区分层，社区整群", "Strata: districts; clusters: communities"),
    "design_strata_interviewer": ("按区分层，调查员整群", "Strata: districts; clusters: interviewers"),
    "design_help": ("同一社区或同一调查员访问的人往往回答相近：按整群计算方差（泰勒线性化），区间更宽、更诚实。"
                    "选择分层或整群时会读取本轮全部问卷，数据量大时需要几秒。自填问卷没有调查员，每份各自成群。",
                    "People interviewed in the same community or by the same interviewer answer alike: the "
                    "clustered variance (Taylor linearisation) gives wider, more honest intervals. A design with "
                    "strata or clusters reads the round's responses, which takes a few seconds for a large round. "
                    "Self-completed forms have no interviewer: each is a cluster of its own."),
    "df": ("自由度", "Degrees of freedom"),
    "weights_add_up": ("每个区（县）的权重之和等于其人口数，所以全市一行按人口而不是按访问量合并各区。",
                       "Each district's weights add up to its population, so the whole-city row combines the "
                       "districts by population, not by number of interviews."),
})

staff = auth.require_page("weighting")
scope = scope_for(staff)
language = lang()
url = database_url()
st.title(t("page_weighting"))
st.caption(t("weighting_help"))

rounds = cached.rounds(url)
round_code = round_picker(rounds, "weighting.round", st.columns(3)[0])
snapshot = cached.snapshot(url, round_code, staff.area_id)
# Weighted verdicts follow the round's rule too; other methods and levels only in exploration mode.
rule, _ = rule_controls(snapshot.rule, "weighting")
method, confidence = rule.method, rule.interval_confidence
areas = cached.areas(url)

with st.expander(t("population_data"), expanded=False):
    st.download_button(t("population_template"), population_template(areas, snapshot.questionnaire),
                       file_name="population_template.csv", mime="text/csv")
    upload = st.file_uploader(t("population_upload"), type=["csv", "xlsx"], key="weighting.upload",
                              help=t("upload_limit", mb=UPLOAD_LIMITS["population"].megabytes, rows=MAX_ROWS))
    if upload is not None and st.button(t("save"), key="weighting.save"):
        try:
            imported = read_limited("population", PopulationFileError, read_population_file, upload.getvalue(),
                                    upload.name, areas, snapshot.questionnaire)
            if not imported.errors.empty:
                show_table(pd.DataFrame({t("population_error_line"): imported.errors["行号"],
                                           t("population_error_problem"): [in_language(p) for p in imported.errors["问题"]]}),
                             hide_index=True)
            with write_session(engine()) as session:
                saved = save_population(session, staff.username, imported, scope=scope)
        except (PopulationFileError, OutOfScope) as problem:
            st.error(plain(in_language(problem)))
        else:
            st.success(t("population_saved", n=saved))

if snapshot.cells is None or snapshot.cells.empty:
    st.info(t("district_only"))
    st.stop()
with read_session(engine()) as session:
    population = population_frame(session, scope=scope)
population = population.rename(columns={"area_id": "district_id"})
population = population[population["district_id"].isin(snapshot.cells["district_id"].unique())]
if population.empty:
    st.info(t("population_missing"))
    st.stop()

columns = st.columns(2)
scheme = columns[0].radio(t("weighting_method"), ["poststratification", "raking"], format_func=t,
                          key="weighting.scheme")
trim = columns[1].number_input(t("trim"), min_value=1.5, max_value=20.0, value=5.0, step=0.5, key="weighting.trim")
design = st.radio(t("design"), DESIGNS, format_func=lambda d: t(f"design_{d}"), key="weighting.design",
                  horizontal=True, help=t("design_help"))

pooled = snapshot.cells[snapshot.cells["item"] == ""]
cells = ["district_id", "age_group", "sex"]
# Respondents per cell: the most of any indicator (some skip every item of one indicator).
sample = pooled.groupby(cells, as_index=False)["respondents"].max().rename(columns={"respondents": "n"})
sample = sample[(sample["age_group"] != "") & (sample["sex"] != "")]
name = "name_en" if language == "en" else "name_zh"
district_names = dict(zip(areas["id"], areas[name]))
try:
    weights = population_weights(sample, population, scheme, strata="district_id", cells=["age_group", "sex"],
                                 trim=(None, trim) if scheme == "raking" else None)
except EmptyCellError as problem:
    labels = {column: {o.code: o.text(language) for o in snapshot.questionnaire.demographic_question(column).options}
              for column in ("age_group", "sex")}
    labels["district_id"] = district_names
    named = "；".join(" ".join(str(labels.get(column, {}).get(value, value)) for column, value in cell.items())
                     for cell in problem.cells.to_dict("records"))
    st.error(t("empty_cells" if problem.kind == "no_sample" else "empty_population", cells=named))
    st.stop()
except ValueError as problem:
    reason = in_language(problem)
    for district_id, district_name in district_names.items():  # "district_id=3: …" names the district
        reason = reason.replace(f"district_id={district_id}:", f"{district_name}:")
    st.error(t("weighting_failed", reason=reason))
    st.stop()
st.caption(t("weights_add_up"))

weighted_cells = pooled.merge(weights[[*cells, "weight"]], on=cells, how="inner")
indicators = [i for i in ("awareness", "support", "participation", "satisfaction") if i in set(pooled["indicator"])]
SUMS = ["respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive"]
groupings = [["district_id", "indicator"]] + ([["indicator"]] if staff.area_id is None else [])
if design != "none":
    with read_session(engine()) as session:
        respondents = design_rows(session, snapshot.round_id, snapshot.questionnaire,
                                  None if staff.area_id is None else snapshot.cells["district_id"].unique().tolist())
    respondents = respondents.merge(weights[[*cells, "weight"]], on=cells, how="inner")
    clusters = {"strata": None, "strata_community": "community_id", "strata_interviewer": "interviewer"}[design]
tables = []
for group in groupings:
    if design == "none":
        # Each indicator with the round's own within-respondent correlation (as the unweighted figures).
        weighted = pd.concat([
            weighted_rates_from_cell_sums(part, group, method, confidence, rho=snapshot.correlations.get(indicator))
            for indicator, part in weighted_cells.groupby("indicator", sort=False)], ignore_index=True
        ).sort_values(group, kind="stable", ignore_index=True)
    else:
        # Each indicator is its own design over the respondents who answered it.
        weighted = pd.concat([
            design_rates(part, [c for c in group if c != "indicator"], strata="district_id", clusters=clusters,
                         method=method, confidence=confidence).assign(indicator=indicator)
            for indicator, part in respondents.groupby("indicator")], ignore_index=True
        ).sort_values(group, kind="stable", ignore_index=True)
    plain = add_indicator_rates(weighted_cells.groupby(group, as_index=False)[SUMS].sum(), method, confidence)
    merged = weighted.merge(plain[[*group, "rate"]].rename(columns={"rate": "rate_plain"}), on=group)
    merged["area"] = merged["district_id"].map(district_names) if "district_id" in group else t("whole_city")
    tables.append(merged)
table = pd.concat(tables, ignore_index=True)
table = table[table["indicator"].isin(indicators)]
table["target"] = table["indicator"].map(lambda i: snapshot.targets.get(i))
table["verdict"] = verdicts(table["ci_low"], table["ci_high"], table["target"].astype(float))
show_table(**coloured_verdicts(pd.DataFrame({
    t("area"): table["area"], t("indicator"): [t(i) for i in table["indicator"]],
    t("respondents"): table["respondents"], t("unweighted"): [f"{r:.1%}" for r in table["rate_plain"]],
    t("weighted"): [f"{r:.1%}" for r in table["rate"]],
    t("ci"): [f"{lo:.1%} – {hi:.1%}" for lo, hi in zip(table["ci_low"], table["ci_high"])],
    t("deff"): table["deff"].round(2), t("n_eff"): table["n_eff"].round(0).astype(int),
    t("verdict"): [t(v) for v in table["verdict"]],
    **({t("df"): table["df"].astype("Int64")} if "df" in table else {}),
}), language), hide_index=True, width="stretch")
st.caption(t("n_eff_help"))
