"""The analyst dashboard and the methods page through AppTest on the demo database."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.pages.conftest import create_staff, log_in


@pytest.fixture
def app(app, demo_url):
    create_staff(demo_url, "analyst", "analyst")
    return app


def open_dashboard(app):
    log_in(app, "analyst")
    app.switch_page("pages/dashboard.py").run()
    assert not app.exception
    return app


def test_dashboard_shows_every_indicator_with_intervals_and_verdicts(app):
    open_dashboard(app)
    assert [m.label for m in app.metric] == ["知晓率", "支持率", "参与率", "满意率"]
    tables = [element.value for element in app.dataframe]
    district_table = tables[0]
    assert list(district_table.columns[:7]) == ["区域", "上级区域", "受访人数", "比率", "置信区间", "目标", "判定"]
    assert len(district_table) == 5  # the demo city's five districts
    # Verdicts are coloured pills: each cell holds its one label.
    verdicts = {v for t in tables if "判定" in t and "区域" in t for cell in t["判定"] for v in cell}
    assert verdicts & {"达标", "未达标", "待定"}
    # Only the open tab is built (the first page after a login drew all four at once: slow);
    # choosing another tab builds that one.
    assert [tab.label for tab in app.tabs] == ["知晓率", "支持率", "参与率", "满意率"]
    assert len(app.get("plotly_chart")) == 1 and len(app.tabs[0].get("plotly_chart")) == 1
    app.session_state["dashboard.indicator"] = "满意率"
    app.run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == 1 and len(app.tabs[3].get("plotly_chart")) == 1
    assert "满意率" in app.tabs[3].get("plotly_chart")[0].proto.spec


def test_dashboard_levels_methods_and_rounds_change_the_numbers(app):
    open_dashboard(app)
    district_rates = app.dataframe[0].value["比率"].tolist()
    app.selectbox(key="dashboard.level").set_value("community").run()
    assert len(app.dataframe[0].value) == 45
    app.toggle(key="dashboard.explore").set_value(True).run()
    app.selectbox(key="dashboard.method").set_value("wilson").run()
    app.toggle(key="dashboard.explore").set_value(False).run()
    app.selectbox(key="dashboard.round").set_value("2026-R1").run()
    assert not app.exception
    app.selectbox(key="dashboard.level").set_value("district").run()
    assert app.dataframe[0].value["比率"].tolist() != district_rates  # round 1 differs from round 2


def test_item_table_puts_the_weakest_item_first(app):
    open_dashboard(app)
    items = app.dataframe[1].value  # the awareness tab's item table for the first district
    rates = [float(r.rstrip("%")) for r in items["比率"]]
    assert rates == sorted(rates)


def test_item_table_keeps_the_question_column_bounded_so_the_verdict_stays_in_view(app):
    import json

    open_dashboard(app)
    columns = json.loads(app.dataframe[1].proto.columns)  # the first tab's item table
    assert columns["题目"]["width"] == "large"
    assert "判定" in columns  # coloured as pills


def test_dashboard_in_english(app):
    app.query_params["lang"] = "en"
    open_dashboard(app)
    assert [m.label for m in app.metric] == ["Awareness", "Support", "Participation", "Satisfaction"]


def test_methods_page_explains_in_both_languages(app):
    app.run()
    app.switch_page("pages/methods.py").run()
    assert not app.exception
    assert "知晓率" in app.markdown[0].value and "Wilson" in app.markdown[0].value
    app.radio(key="lang_switch").set_value("en").run()
    assert "Clopper–Pearson" in app.markdown[0].value and "Awareness" in app.markdown[0].value


def test_dashboard_forecasts_the_official_evaluation_beside_each_verdict(app, demo_url):
    import math

    from scipy import stats

    from data.db import make_engine
    from reports.snapshot import load_snapshot
    from reports.results import results_for

    open_dashboard(app)
    forecast = next(element.value for element in app.dataframe if "达标概率" in element.value.columns)
    assert len(forecast) == (1 + 5) * 4  # the city and five districts × four indicators
    assert {"判定", "达标概率", "正式测评访问人数（估计）"} <= set(forecast.columns)
    assert forecast["正式测评访问人数（估计）"].iloc[0] == 600  # the city: the round's default
    assert any("达标概率：假如正式测评在全市访问 600 人" in c.value for c in app.caption)
    # The city's awareness figure against scipy's beta-binomial from the round's effective counts.
    engine = make_engine(demo_url)
    snapshot = load_snapshot(engine, "2026-R2")
    row = results_for(snapshot).indicators.query("level == 'city' and indicator == 'awareness'").iloc[0]
    engine.dispose()
    m = round(600 * row["n_eff"] / row["respondents"])
    expected = stats.betabinom.sf(math.ceil(0.95 * m - 1e-9) - 1, m, 0.5 + row["rate"] * row["n_eff"],
                                  0.5 + (1 - row["rate"]) * row["n_eff"])
    shown = forecast[(forecast["区域"] == "全市") & (forecast["指标"] == "知晓率")]["达标概率"].iloc[0]
    assert shown == (f"{expected:.0%}" if 0.005 < expected < 0.995 else f"{expected:.1%}")

def test_dashboard_states_the_rounds_rule_and_labels_exploration(app):
    open_dashboard(app)
    assert any("本轮判定规则：Clopper–Pearson，单侧 95%" in c.value for c in app.caption)
    official = app.dataframe[0].value.copy()
    assert len(app.get("download_button")) == 1 and not app.warning  # the open tab's table
    app.toggle(key="dashboard.explore").set_value(True).run()
    app.selectbox(key="dashboard.sided").set_value("two").run()
    app.selectbox(key="dashboard.confidence").set_value(0.99).run()
    assert not app.exception
    assert any("探索模式" in w.value and "不是本轮的正式判定" in w.value for w in app.warning)
    assert len(app.get("download_button")) == 0  # nothing explored leaves the page
    assert not app.dataframe[0].value["置信区间"].equals(official["置信区间"])
    app.toggle(key="dashboard.explore").set_value(False).run()
    pd.testing.assert_frame_equal(app.dataframe[0].value, official)

