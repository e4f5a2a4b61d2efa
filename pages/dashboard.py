"""The analyst's dashboard: each indicator by area with its interval, target and verdict."""

import streamlit as st

from analysis import METHODS
from data.db import database_url
from data.results import levels_below
from reports.results import results_for
from ui import audit, auth, cached
from ui.charts import rate_chart
from ui.i18n import lang, language_switch, t
from ui.tables import indicator_table, item_table, verdict_badge

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
controls = st.columns([2, 2, 2, 1])
round_code = controls[0].selectbox(t("round"), list(round_names), index=len(rounds) - 1,
                                   format_func=lambda code: f"{round_names[code]} ({code})", key="dashboard.round")
snapshot = cached.snapshot(url, round_code, staff.area_id)
if staff.area_id is not None:
    scope = snapshot.areas[snapshot.areas["id"] == staff.area_id]
    st.caption(t("scope_note", area=scope["name_en" if language == "en" else "name_zh"].iloc[0]))
level = controls[1].selectbox(t("level"), levels_below(snapshot.scope_level),
                              format_func=lambda value: t(f"level_{value}"), key="dashboard.level")
method = controls[2].selectbox(t("method"), [m for m in METHODS if m != "wald"], key="dashboard.method",
                               format_func=lambda m: {"wilson": "Wilson", "clopper-pearson": "Clopper–Pearson",
                                                      "jeffreys": "Jeffreys"}[m])
confidence = controls[3].selectbox(t("confidence"), [0.90, 0.95, 0.99], index=1, key="dashboard.confidence",
                                   format_func=lambda c: f"{c:.0%}")

if snapshot.tally.empty:
    st.info(t("no_responses"))
    st.stop()
results = results_for(snapshot, method, confidence)
indicators = results.indicators
present = [i for i in ("awareness", "support", "participation", "satisfaction")
           if i in set(indicators["indicator"])]

if staff.area_id is None:
    st.subheader(t("city_overview"))
else:
    st.subheader(scope["name_en" if language == "en" else "name_zh"].iloc[0])
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
    reasons = "；".join(f"{row.reason}（{row.responses}）" for row in snapshot.exclusions.itertuples())
    st.caption(t("excluded_note", n=int(snapshot.exclusions["responses"].sum()), reasons=reasons))

tabs = st.tabs([t(indicator) for indicator in present])
for tab, indicator in zip(tabs, present):
    with tab:
        rows = indicators[(indicators["level"] == level) & (indicators["indicator"] == indicator)]
        st.plotly_chart(rate_chart(rows, indicator, level, confidence, language), width="stretch",
                        key=f"chart.{indicator}")
        table = indicator_table(rows, language)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button(t("download_csv"), table.to_csv(index=False).encode("utf-8-sig"),
                           file_name=f"{round_code}_{indicator}_{level}.csv", mime="text/csv",
                           key=f"download.{indicator}", on_click=audit.export,
                           args=(staff.username, round_code, f"{indicator} {level} csv", len(table)))

        st.markdown(f"#### {t('items_title')}")
        names = dict(zip(rows["area_id"], rows["area_name_en" if language == "en" else "area_name_zh"]))
        area_id = st.selectbox(t("items_for_area"), list(names), format_func=names.get, key=f"items.{indicator}")
        items = results.items
        items = items[(items["level"] == level) & (items["area_id"] == area_id) & (items["indicator"] == indicator)]
        st.dataframe(item_table(items, snapshot.questionnaire, language), hide_index=True, width="stretch")
