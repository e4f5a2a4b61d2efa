"""The analyst's dashboard: each indicator by area with its interval, target and verdict."""

import streamlit as st

from data.db import database_url
from data.results import levels_below
from reports.results import results_for
from reports.safe_cells import csv_bytes
from ui import audit, auth, cached
from ui.forecast import forecast_section
from ui.plain import plain
from ui.i18n import lang, language_switch, t
from ui.tables import coloured_verdicts, indicator_table, item_table_view, show_table, verdict_badge
from ui.verdict_rule import rule_controls

language_switch()

staff = auth.require_page("dashboard")
url = database_url()
language = lang()
st.title(t("page_dashboard"))

rounds = cached.rounds(url)
if not rounds:
    st.info(t("no_rounds"))
    st.stop()

round_names = {r.code: (r.name_en if language == "en" else r.name_zh) for r in rounds}
controls = st.columns(2)
round_code = controls[0].selectbox(t("round"), list(round_names), index=len(rounds) - 1,
                                   format_func=lambda code: f"{round_names[code]} ({code})", key="dashboard.round")
snapshot = cached.snapshot(url, round_code, staff.area_id)
if staff.area_id is not None:
    scope = snapshot.areas[snapshot.areas["id"] == staff.area_id]
    st.caption(t("scope_note", area=scope["name_en" if language == "en" else "name_zh"].iloc[0]))
levels = levels_below(snapshot.scope_level)
# A district office opens on its streets (its own district alone would be one dot).
level = controls[1].selectbox(t("level"), levels, index=1 if staff.area_id is not None and len(levels) > 1 else 0,
                              format_func=lambda value: t(f"level_{value}"), key="dashboard.level")
rule, exploring = rule_controls(snapshot.rule, "dashboard")
confidence = rule.interval_confidence

if snapshot.tally.empty:
    st.info(t("no_responses"))
    st.stop()
results = results_for(snapshot, rule.method, confidence)
indicators = results.indicators
present = [i for i in ("awareness", "support", "participation", "satisfaction")
           if i in set(indicators["indicator"])]

if staff.area_id is None:
    st.subheader(t("city_overview"))
else:
    st.subheader(plain(scope["name_en" if language == "en" else "name_zh"].iloc[0]))
city = indicators[indicators["level"] == "city"].set_index("indicator")
for column, indicator in zip(st.columns(len(present)), present):
    row = city.loc[indicator]
    target = row["target"]
    column.metric(
        t(indicator), f"{row['rate']:.1%}",
        delta=None if target != target else f"{row['rate'] - target:+.1%} vs {target:.0%}",
        delta_color="normal",
    )
    column.markdown(verdict_badge(row["verdict"], language))
st.caption(t("verdict_help"))
if snapshot.exclusions is not None and not snapshot.exclusions.empty:
    reasons = "；".join(f"{plain(row.reason)}（{row.responses}）" for row in snapshot.exclusions.itertuples())
    st.caption(t("excluded_note", n=int(snapshot.exclusions["responses"].sum()), reasons=reasons))

# Only the open tab is built and sent: four charts and eight tables drawn at once were most of the
# first page's time after a login (docs/performance.md); another tab is one short rerun away.
tabs = st.tabs([t(indicator) for indicator in present], key="dashboard.indicator", on_change="rerun")
for tab, indicator in zip(tabs, present):
    if not tab.open:
        continue
    with tab:
        rows = indicators[(indicators["level"] == level) & (indicators["indicator"] == indicator)]
        figure = cached.rate_figure(url, round_code, snapshot.tally_version, staff.area_id, level, indicator, rule.method,
                                    confidence, language)
        st.plotly_chart(figure, width="stretch", key=f"chart.{indicator}")
        table = indicator_table(rows, language)
        show_table(**coloured_verdicts(table, language), hide_index=True, width="stretch")
        if exploring:
            st.caption(t("explore_no_download"))
        else:
            export = table.assign(**{t("verdict_rule"): rule.describe(language)})
            st.download_button(t("download_csv"), csv_bytes(export),
                               file_name=f"{round_code}_{indicator}_{level}.csv", mime="text/csv",
                               key=f"download.{indicator}", on_click=audit.export,
                               args=(staff.username, round_code, f"{indicator} {level} csv", len(table)))

        st.markdown(f"#### {t('items_title')}")
        names = dict(zip(rows["area_id"], rows["area_label_en" if language == "en" else "area_label_zh"]))
        area_id = st.selectbox(t("items_for_area"), list(names), format_func=names.get, key=f"items.{indicator}")
        items = results.items
        items = items[(items["level"] == level) & (items["area_id"] == area_id) & (items["indicator"] == indicator)]
        show_table(**item_table_view(items, snapshot.questionnaire, language),
                     hide_index=True, width="stretch")

# Below the tabs, so the tables above keep their places; one section of its own.
forecast_section(snapshot, results, language)
