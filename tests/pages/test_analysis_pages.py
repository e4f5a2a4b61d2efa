"""Weighting, round comparison and drill-down pages through the real app on the demo database."""

from __future__ import annotations

import pandas as pd

from data.scope import CITY
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
        save_population(session, "ana", imported, scope=CITY)
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
    # Weighted verdicts follow the round's rule like every other page; other rules only as exploration.
    assert any("本轮判定规则：Clopper–Pearson，单侧 95%" in c.value for c in app.caption)
    official = app.dataframe[0].value.copy()
    app.toggle(key="weighting.explore").set_value(True).run()
    app.selectbox(key="weighting.sided").set_value("two").run()
    assert not app.exception and any("探索模式" in w.value for w in app.warning)
    assert not app.dataframe[0].value["置信区间"].equals(official["置信区间"])


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
    assert any("样本过少" in label for cell in tables[2]["判定"] for label in cell)  # demo communities have 12–14 respondents
    app.toggle(key="drilldown.stabilise").set_value(True).run()
    assert "稳定估计（非观测值）" in app.dataframe[2].value.columns


def test_weighting_page_names_an_empty_cell_and_the_remedy(app, demo_url):
    # A population cell the demo sample never reached: an age group nobody in the sample has.
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        areas = areas_frame(session)
    load_population(demo_url)
    from sqlalchemy import text
    with write_session(engine) as session:
        district = areas[areas["level"] == "district"].iloc[0]
        # Move every respondent of one cell out of the cell tally: the cell keeps its population only.
        session.execute(text("DELETE FROM cell_tally WHERE district_id = :d AND age_group = '60_plus' AND sex = 'male'"),
                        {"d": int(district["id"])})
        session.execute(text("UPDATE survey_round SET tally_version = tally_version + 1"))
    engine.dispose()
    open_page(app, demo_url, "pages/weighting.py")
    errors = " ".join(e.value for e in app.error)
    assert district["name_zh"] in errors and "请合并单元" in errors and "Traceback" not in errors
    # Raking cannot rescue this one (men over 60 carry half the male margin), and says so plainly.
    app.radio(key="weighting.scheme").set_value("raking").run()
    assert not app.exception and "未收敛" in app.error[0].value
    assert app.error[0].value.startswith(f"无法加权：{district['name_zh']}:")


def test_weighting_page_offers_strata_and_clusters(app, demo_url):
    load_population(demo_url)
    open_page(app, demo_url, "pages/weighting.py")
    simple = app.dataframe[0].value
    for design, clusters in (("strata_community", 45), ("strata_interviewer", None)):
        app.radio(key="weighting.design").set_value(design).run()
        assert not app.exception, app.exception
        table = app.dataframe[0].value
        assert len(table) == 24 and table["加权"].tolist() == simple["加权"].tolist()  # same weights, same rates
        if clusters:  # communities minus districts, for the city rows
            city = table[table["区域"] == "全市"]
            assert (city["自由度"] == clusters - 5).all()
    assert "自由度" not in simple.columns
