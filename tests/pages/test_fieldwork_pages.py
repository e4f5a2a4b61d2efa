"""Rounds, interviews, fieldwork progress, links and data quality through the real app."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from data.scope import CITY
from data import accounts
from data.areas import community_by_code
from data.reads import completes
from data.responses import new_response_id, submit_response
from data.rounds import list_rounds, round_by_code
from data.db import make_engine, read_session, write_session
from data.demo import synthetic_answers
from data.models import Area, Response
from questionnaires import load_default
from tests.pages.conftest import area_id, create_staff, log_in
from tests.pages.test_survey_page import answer_everything

QUESTIONNAIRE = load_default()
GOOD = {"awareness": 1.0, "support": 1.0, "participation": 1.0, "satisfaction": 1.0}


def open_as(app, url, username, role, page, area_code=None):
    create_staff(url, username, role, area_code)
    log_in(app, username)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def count(url, **where):
    engine = make_engine(url)
    with read_session(engine) as session:
        query = select(func.count()).select_from(Response)
        for column, value in where.items():
            query = query.where(getattr(Response, column) == value)
        result = session.scalar(query)
    engine.dispose()
    return result


def test_organiser_creates_opens_and_closes_a_round(app, demo_url):
    open_as(app, demo_url, "org", "organiser", "pages/rounds.py")
    assert app.title[0].value == "调查轮次"
    app.text_input[0].input("2026-R3")
    app.text_input[1].input("第三轮模拟测评")
    app.number_input(key="rounds.create.official").set_value(900)
    app.selectbox(key="rounds.create.rule_method").set_value("wilson")
    next(b for b in app.button if b.label == "创建").click().run()
    assert not app.exception and not app.error
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        created = round_by_code(session, "2026-R3")
        assert created.status == "draft" and created.targets["satisfaction"] == 0.99
        assert (created.verdict_method, created.verdict_confidence, created.verdict_sided) == ("wilson", 0.95, "one")
        assert created.official_sample_size == 900
    # The picker has moved to the new round, and the save was confirmed.
    assert app.selectbox(key="rounds.manage").value == "2026-R3"
    assert any("已创建轮次" in toast.value for toast in app.toast)
    app.number_input(key="rounds.edit.official").set_value(1200)
    next(b for b in app.button if b.label == "保存设置").click().run()
    assert not app.exception and not app.error
    with read_session(engine) as session:
        assert round_by_code(session, "2026-R3").official_sample_size == 1200
    # 2026-R2 is still open: opening a second round is refused until the organiser confirms.
    assert any("已有轮次" in w.value for w in app.warning)
    assert next(b for b in app.button if b.label == "开放本轮").disabled
    app.checkbox(key="rounds.confirm_second").check().run()
    next(b for b in app.button if b.label == "开放本轮").click().run()
    app.checkbox(key="rounds.confirm_close").check().run()
    next(b for b in app.button if b.label == "结束本轮").click().run()
    assert not app.exception
    with read_session(engine) as session:
        assert round_by_code(session, "2026-R3").status == "closed"
        actions = list(accounts.audit_events(session, actor="org")["action"])
    assert {"round.create", "round.status"} <= set(actions)
    engine.dispose()


def test_interviewer_runs_two_interviews_in_a_row(app, demo_url):
    open_as(app, demo_url, "iv07", "interviewer", "pages/interview.py", area_code="CD")
    assert len(app.selectbox(key="interview.community").options) == 9  # only their district
    before = count(demo_url, channel="interview", interviewer="iv07")
    app.selectbox(key="interview.community").set_value(area_id(demo_url, "CD0102")).run()
    for seed in (1, 2):
        answer_everything(app, synthetic_answers(QUESTIONNAIRE, np.random.default_rng(seed), GOOD))
        assert [s.value for s in app.success] == ["**提交成功！**\n\n感谢您的参与！文明城市，你我共建，成果共享。"]  # one thanks
        next(b for b in app.button if b.label == "开始访问下一位").click().run()
    assert count(demo_url, channel="interview", interviewer="iv07") == before + 2


def test_fieldwork_progress_links_and_quality_pages_render(app, demo_url):
    open_as(app, demo_url, "org", "organiser", "pages/fieldwork.py")
    districts = app.dataframe[0].value
    assert len(districts) == 5 and districts["已完成"].sum() > 0
    assert len(app.tabs) == 4 and len(app.dataframe) == 1  # only the open tab is counted and drawn
    # Each tab, once chosen, shows its own table (and only it); the totals agree with the districts'.
    for index, (label, column) in enumerate([("按年龄 × 性别", "已完成"), ("按调查员", "已完成"), ("按日期", "已完成")], 1):
        app.session_state["fieldwork.view"] = label
        app.run()
        assert not app.exception
        assert len(app.dataframe) == 1 and len(app.tabs[index].get("dataframe")) == 1
        assert app.dataframe[0].value[column].sum() == districts["已完成"].sum()
    app.switch_page("pages/links.py").run()
    assert not app.exception
    assert "/q?community=" in app.dataframe[0].value["链接"].iloc[0]  # the light citizen page
    assert len(app.get("image")) == 1  # the QR code
    app.switch_page("pages/quality.py").run()
    assert not app.exception
    assert app.title[0].value == "数据质量"


def test_a_street_office_sees_completes_of_its_own_communities_only(app, demo_url):
    open_as(app, demo_url, "street_org", "organiser", "pages/fieldwork.py", area_code="CD01")
    assert any("仅统计您负责范围内" in c.value for c in app.caption)
    shown = app.dataframe[0].value
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        survey_round = list_rounds(session)[-1]  # the page opens on the newest round
        street = community_by_code(session, "CD0101").street_id
        expected = session.scalar(
            select(func.count()).select_from(Response).join(Area, Area.id == Response.community_id).where(
                Response.round_id == survey_round.id, Response.eligible.is_(True),
                Response.status == "included", Area.street_id == street))
        whole_district = completes(session, survey_round.id, "district", scope=CITY)
    engine.dispose()
    assert len(shown) == 1 and shown["已完成"].sum() == expected > 0
    assert expected < whole_district["completes"].max()  # the rest of the district is not counted


def test_excluding_in_the_quality_page_changes_the_dashboard(app, demo_url):
    engine = make_engine(demo_url)
    rng = np.random.default_rng(9)
    answers = synthetic_answers(QUESTIONNAIRE, rng, GOOD)
    ids = [new_response_id() for _ in range(2)]
    with write_session(engine) as session:  # two identical answer vectors: the duplicate rule flags them
        survey_round = round_by_code(session, "2026-R2")
        community = community_by_code(session, "GX0101").id
        for response_id in ids:
            submit_response(session, response_id=response_id, survey_round=survey_round,
                                 questionnaire=QUESTIONNAIRE, community_id=community, answers=answers)
    open_as(app, demo_url, "org", "organiser", "pages/quality.py")
    flagged = app.dataframe[0].value
    assert "id" not in flagged.columns and "社区（村）" in flagged.columns  # readable rows, no raw ids
    # The two new forms are the latest submissions; tick their rows as the organiser would.
    newest = flagged["提交时间"].max()
    rows = [i for i, (area, at) in enumerate(zip(flagged["社区（村）"], flagged["提交时间"]))
            if at == newest and area.startswith("高新区") and "幸福社区" in area]
    assert len(rows) == 2, flagged.head()
    app.session_state["quality.table.0"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    app.run()
    assert any("已选 2 份问卷" in m.value for m in app.markdown)
    app.text_input[0].input("重复答卷")
    next(b for b in app.button if b.label == "排除所选问卷").click().run()
    assert not app.exception
    with read_session(engine) as session:
        statuses = session.scalars(select(Response.status).where(Response.id.in_(ids))).all()
    assert statuses == ["excluded", "excluded"]
    app.switch_page("pages/dashboard.py").run()
    assert any("已排除 2 份问卷" in c.value and "重复答卷" in c.value for c in app.caption)
    engine.dispose()


def test_paper_page_offers_the_template(app, demo_url):
    open_as(app, demo_url, "org", "organiser", "pages/paper.py")
    assert app.title[0].value == "纸质问卷录入"
    assert [b.label for b in app.get("download_button")] == ["下载 Excel 模板"]
