"""The analysts' dashboard in a real browser: closed to the public, open after a real login."""

from __future__ import annotations

import pytest

from data import accounts
from data.db import write_session
from tests.browser.conftest import open_page, wait_idle

pytestmark = pytest.mark.browser

INDICATORS = ("知晓率", "支持率", "参与率", "满意率")


@pytest.mark.parametrize("server", ["running", "just_started"])
def test_dashboard_link_shows_no_results_without_login(desktop, server, request):
    """Typed straight into the address bar.  On a server in its normal state the address shows only a
    request to log in; on a just-started one Streamlit runs pages/dashboard.py by itself (legacy
    pages/ folder), so there only the page's own role check stands between the public and the data."""
    base = request.getfixturevalue("app_url" if server == "running" else "cold_app_url")
    page = desktop
    open_page(page, f"{base}/dashboard")
    # The address outside the visitor's menu asks for a login (ui.auth.page_outside_menu); the page
    # itself, if Streamlit runs it, refuses by its own role check.
    # On a just-started server Streamlit may open the visitor's first page (the survey) instead.
    page.get_by_text("“结果看板”需要工作人员登录后查看。").or_(page.get_by_text("您没有权限查看此页面")).or_(
        page.get_by_role("heading", name="文明城市创建问卷调查")).first.wait_for()
    wait_idle(page)
    page.wait_for_timeout(300)  # anything drawn late (a dialog, a chart) is drawn by now

    headings = [h.strip() for h in page.locator("h1").all_inner_texts()]
    assert "结果看板" not in headings, headings
    assert "Page not found" not in page.inner_text("body")
    if server == "running":  # the address answers in Chinese, with a way to log in
        assert page.get_by_text("“结果看板”需要工作人员登录后查看。").count() == 1
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"], [data-testid="stDataFrame"]').count() == 0
    main = page.locator('[data-testid="stMain"]').inner_text()
    for label in INDICATORS:
        assert label not in main, f"{label} is shown to a visitor who is not logged in"


def test_analyst_logs_in_and_sees_the_four_indicators_and_the_chart(desktop, app_url, live_engine):
    with write_session(live_engine) as session:
        accounts.create_user(session, None, "ana", "browser pass 1", "analyst")

    page = desktop
    open_page(page, f"{app_url}/account")
    page.get_by_role("heading", name="工作人员登录").wait_for()
    page.get_by_label("用户名").fill("ana")
    page.get_by_label("密码").fill("browser pass 1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("已登录").wait_for()
    wait_idle(page)

    # The login lives in this browser session: go on through the app's own navigation.
    page.locator('[data-testid="stSidebarNav"] a', has_text="结果看板").click()
    page.get_by_role("heading", name="结果看板").wait_for()
    metrics = page.locator('[data-testid="stMetric"]')
    metrics.nth(len(INDICATORS) - 1).wait_for()
    wait_idle(page)
    labels = [t.strip() for t in page.locator('[data-testid="stMetricLabel"]').all_inner_texts()]
    assert labels == list(INDICATORS), labels
    values = [t.strip() for t in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    assert len(values) == 4 and all(v.endswith("%") for v in values), values

    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.wait_for()
    chart.locator(".main-svg").first.wait_for()  # plotly really drew it
    assert chart.bounding_box()["height"] > 100
    assert page.locator('[data-testid="stException"]').count() == 0
