"""Staff stay logged in across a refresh and a new tab, through an HttpOnly cookie, until they log
out, go idle or the admin disables them: the real app (serve.py) in headless Chromium."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data import accounts
from data.db import read_session, write_session
from data.models import StaffSession, User
from tests.browser import conftest
from tests.browser.conftest import open_page

SLOW = 60_000  # ms: the shared test machine is often loaded far beyond its two cores


def wait_idle(page) -> None:
    conftest.wait_idle(page, timeout=SLOW)

pytestmark = pytest.mark.browser

PASSWORD = "browser pass 7"


def make_staff(engine, username: str, role: str) -> int:
    with write_session(engine) as session:
        return accounts.create_user(session, None, username, PASSWORD, role).id


def log_in(page, base: str, username: str) -> None:
    page.context.set_default_timeout(SLOW)
    page.set_default_timeout(SLOW)
    open_page(page, f"{base}/account")
    page.get_by_role("heading", name="工作人员登录").wait_for()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def who_is_logged_in(page, text: str = "已登录"):
    """The sidebar's line naming the logged-in user."""
    return page.locator('[data-testid="stSidebarUserContent"]').get_by_text(text)


def wait_for_session_cookie(context, timeout_ms: int = 15_000):
    """The invisible image fetches the cookie after the login's rerun; wait until the browser has it."""
    page = context.pages[0]
    for _ in range(timeout_ms // 250):
        found = [c for c in context.cookies() if c["name"] == "survey_staff"]
        if found:
            return found[0]
        page.wait_for_timeout(250)
    raise AssertionError(f"no session cookie; cookies: {[c['name'] for c in context.cookies()]}")


def test_login_lands_on_the_first_page_and_survives_reload_and_new_tab_until_logout(desktop, app_url, live_engine):
    make_staff(live_engine, "sess_ana", "analyst")
    page = desktop
    log_in(page, app_url, "sess_ana")
    # The analyst's first page, not the account page; the sidebar says who and which area.
    page.get_by_role("heading", name="结果看板").wait_for()
    assert not page.url.endswith("/account"), page.url  # the role's first page is the app's root
    wait_idle(page)
    who_is_logged_in(page, "已登录：sess_ana（分析员）").wait_for()
    # (The scope line under it is checked in tests/pages/test_roles.py.)

    cookie = wait_for_session_cookie(page.context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1
    assert "survey_staff" not in page.evaluate("document.cookie")  # no script in the page can read it
    with read_session(live_engine) as session:
        stored = list(session.scalars(select(StaffSession.token_hash)))
    assert cookie["value"] not in stored and len(stored[-1]) == 64  # only the keyed hash is stored

    page.reload(wait_until="domcontentloaded")
    page.get_by_role("heading", name="结果看板").wait_for()
    wait_idle(page)
    who_is_logged_in(page, "已登录：sess_ana（分析员）").wait_for()

    second = page.context.new_page()
    second.set_default_timeout(SLOW)
    open_page(second, f"{app_url}/insights")
    second.get_by_role("heading", name="深入分析").wait_for()
    who_is_logged_in(second, "已登录：sess_ana（分析员）").wait_for()

    # Log out in the first tab: the reload and the other tab are logged out.
    page.locator('[data-testid="stSidebarNav"] a', has_text="工作人员账号").click()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("heading", name="工作人员登录").wait_for()
    page.reload(wait_until="domcontentloaded")
    page.get_by_role("heading", name="工作人员登录").wait_for()
    wait_idle(page)
    assert who_is_logged_in(page).count() == 0
    open_page(page, f"{app_url}/dashboard")
    wait_idle(page)
    assert page.get_by_role("heading", name="结果看板").count() == 0
    second.reload(wait_until="domcontentloaded")
    wait_idle(second)
    second.get_by_text("“深入分析”需要工作人员登录后查看。").wait_for()  # the page's address, asking for a login
    assert second.get_by_role("heading", name="深入分析").count() == 0
    assert who_is_logged_in(second).count() == 0
    assert not [c for c in page.context.cookies() if c["name"] == "survey_staff"]  # dropped at logout


def test_an_account_disabled_by_the_admin_is_logged_out_everywhere(browser, desktop, app_url, live_engine):
    user_id = make_staff(live_engine, "sess_org", "organiser")
    page = desktop
    log_in(page, app_url, "sess_org")
    page.get_by_role("heading", name="实地进度").wait_for()  # the organiser's first page
    wait_for_session_cookie(page.context)
    wait_idle(page)
    other_tab = page.context.new_page()
    other_tab.set_default_timeout(SLOW)
    open_page(other_tab, f"{app_url}/rounds")
    other_tab.get_by_role("heading", name="调查轮次").wait_for()

    with write_session(live_engine) as session:  # what the admin's users page does on 保存
        admin_id = session.scalar(select(User.id).where(User.role == "admin", User.active.is_(True)))
        if admin_id is None:
            admin_id = accounts.create_user(session, None, "sess_admin", PASSWORD, "admin").id
        accounts.update_user(session, "sess_admin", user_id, active=False)

    # The live fieldwork view reruns itself every 15 s and re-checks the account each time.
    page.get_by_role("heading", name="实地进度").wait_for(state="detached", timeout=90_000)
    wait_idle(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    assert who_is_logged_in(page).count() == 0
    other_tab.reload(wait_until="domcontentloaded")
    wait_idle(other_tab)
    other_tab.get_by_text("“调查轮次”需要工作人员登录后查看。").wait_for()
    assert other_tab.get_by_role("heading", name="调查轮次").count() == 0
    with read_session(live_engine) as session:
        assert session.scalar(select(StaffSession.id).where(StaffSession.user_id == user_id)) is None


def test_a_bookmarked_staff_page_asks_for_a_login_in_chinese_and_opens_after_it(desktop, app_url, live_engine):
    """A staff page's address opened while logged out (a bookmark after the idle limit, a colleague's
    link) says in the user's language what to do, never Streamlit's English "Page not found", and
    the login then opens that page; a page outside the role's menu says so and shows nothing of it."""
    make_staff(live_engine, "sess_bookmark", "analyst")
    page = desktop
    page.context.set_default_timeout(SLOW)
    open_page(page, f"{app_url}/compare")
    page.get_by_text("“轮次比较”需要工作人员登录后查看。").wait_for()
    assert "Page not found" not in page.inner_text("body")
    assert not page.get_by_role("heading", name="轮次比较").count()

    page.get_by_role("link", name="工作人员登录").click()
    page.get_by_label("用户名").fill("sess_bookmark")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="轮次比较").wait_for()
    assert page.url.endswith("/compare"), page.url

    open_page(page, f"{app_url}/users")  # an admin's page
    page.get_by_text("您的账号（分析员）没有“用户管理”这一页。请从左侧菜单选择。").wait_for()
    assert "Page not found" not in page.inner_text("body")
    assert not page.get_by_role("heading", name="用户管理").count()
