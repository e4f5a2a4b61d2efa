"""Weighting, round comparison and drill-down pages through the real app on the demo database."""

from __future__ import annotations

import pandas as pd

from data.areas import areas_frame
from data.db import make_engine, read_session, write_session
from data.population import population_template, read_population_file, save_population
from questionnaires import load_default
from tests.pages.conftest import create_staff, log_in


def open_page(app, url, page, area_code=None):
    create_staff(url, "ana", "analyst", area_code)
    log_in(app, "ana")
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def load_population(url, older_share=0.5):
    """A population where the over-60s are a larger share than in the demo sample."""
    engine = make_engine(url)
    with read_session(engine) as session:
        areas = areas_frame(session)
    template = pd.read_csv(__import__("io").BytesIO(population_template(areas, load_default())), dtype=str,
                           encoding="utf-8-sig")
    template["人口"] = [str(40_000 if age == "60_plus" else 10_000) for age in template["年龄段"]]
    imported = read_population_file(template.to_csv(index=False).encode(), "p.csv", areas, load_default())
    with write_session(engine) as session:
        save_population(session, "ana", imported)
    engine.dispose()


def test_weighting_page_asks_for_population_then_weights_with_deff(app, demo_url):
    open_page(app, demo_url, "pages/weighting.py")
    assert any("人口数据" in i.value for i in app.info)
    load_population(demo_url)
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == (5 + 1) * 4  # districts and the city × indicators
    assert (table["设计效应"] >= 1).all() and (table["有效样本量"] < table["受访人数"] * 10).all()
    app.radio(key="weighting.scheme").set_value("raking").run()
    assert not app.exception and len(app.dataframe[0].value) == 24


def test_compare_page_shows_changes_with_intervals_and_a_trend(app, demo_url):
    open_page(app, demo_url, "pages/compare.py")
    table = app.dataframe[0].value
    assert len(table) == 4  # the city × four indicators
    assert set(table["超出随机波动"]) <= {"上升", "下降", "无显著变化"}
    app.selectbox(key="compare.level").set_value("district").run()
    assert len(app.dataframe[0].value) == 20
    assert len(app.get("plotly_chart")) == 1


def test_drilldown_marks_small_groups_and_offers_stabilised_rates(app, demo_url):
    open_page(app, demo_url, "pages/drilldown.py")
    tables = [d.value for d in app.dataframe]
    assert len(tables[0]) == 5 and len(tables[1]) == 3 and len(tables[2]) == 3
    assert any("样本过少" in v for v in tables[2]["判定"])  # demo communities have 12–14 respondents
    app.toggle(key="drilldown.stabilise").set_value(True).run()
    assert "稳定估计（非观测值）" in app.dataframe[2].value.columns
