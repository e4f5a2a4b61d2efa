"""An interviewer on a tablet runs a face-to-face interview in a real browser, and it is recorded
with the interviewer, the times and the screening answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data import accounts
from data.db import read_session, write_session
from data.models import Response
from tests.browser.conftest import _page_in, open_page, wait_idle
from tests.browser.test_citizen_flow import answer_all_steps

pytestmark = pytest.mark.browser


@pytest.fixture
def tablet(browser, request):
    context = browser.new_context(viewport={"width": 820, "height": 1180}, device_scale_factor=2,
                                  has_touch=True, locale="zh-CN")
    yield from _page_in(context, request)


def test_interviewer_logs_in_interviews_one_person_and_starts_the_next(tablet, app_url, live_engine, artifacts):
    with write_session(live_engine) as session:
        accounts.create_user(session, None, "iv_bj", "interview pass 1", "interviewer")
    page = tablet
    open_page(page, f"{app_url}/account")
    page.get_by_label("用户名").fill("iv_bj")
    page.get_by_label("密码").fill("interview pass 1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("已登录").wait_for()
    wait_idle(page)

    page.locator('[data-testid="stSidebarNav"] a', has_text="入户/拦截访问").click()
    page.get_by_role("heading", name="入户/拦截访问").wait_for()
    wait_idle(page)
    page.get_by_text("调查员：iv_bj").wait_for()
    chooser = page.locator('[data-testid="stSelectbox"]').filter(has_text="访问地点（社区）")
    chooser.click()
    page.keyboard.type("BJ0101")  # the list is long: type to search, as on a tablet
    page.get_by_role("option", name="滨江区 › 东门街道 › 幸福社区（BJ0101）").click()
    page.get_by_text("第 1 / ").first.wait_for()
    wait_idle(page)

    answer_all_steps(page)
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功！").wait_for()
    page.screenshot(path=str(artifacts / "tablet_interview_done.png"))
    page.get_by_role("button", name="开始访问下一位").click()
    page.get_by_text("第 1 / ").first.wait_for()  # a fresh questionnaire for the next respondent

    with read_session(live_engine) as session:
        interviews = session.scalars(select(Response).where(Response.interviewer == "iv_bj")).all()
    assert len(interviews) == 1
    interview = interviews[0]
    assert interview.channel == "interview" and interview.eligible
    assert interview.started_at < interview.submitted_at
    assert interview.answers["resident"] == "yes"  # the screening answer is kept with the interview
