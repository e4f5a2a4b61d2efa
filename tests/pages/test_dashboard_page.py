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
    verdicts = set(pd.concat([t["判定"] for t in tables if "判定" in t and "区域" in t]))
    assert verdicts & {"达标", "未达标", "待定"}
    assert len(app.get("plotly_chart")) == 4


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


def test_dashboard_states_the_rounds_rule_and_labels_exploration(app):
    open_dashboard(app)
    assert any("本轮判定规则：Clopper–Pearson，单侧 95%" in c.value for c in app.caption)
    official = app.dataframe[0].value.copy()
    assert len(app.get("download_button")) == 4 and not app.warning
    app.toggle(key="dashboard.explore").set_value(True).run()
    app.selectbox(key="dashboard.sided").set_value("two").run()
    app.selectbox(key="dashboard.confidence").set_value(0.99).run()
    assert not app.exception
    assert any("探索模式" in w.value and "不是本轮的正式判定" in w.value for w in app.warning)
    assert len(app.get("download_button")) == 0  # nothing explored leaves the page
    assert not app.dataframe[0].value["置信区间"].equals(official["置信区间"])
    app.toggle(key="dashboard.explore").set_value(False).run()
    pd.testing.assert_frame_equal(app.dataframe[0].value, official)
