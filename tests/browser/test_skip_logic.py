"""Skip logic in a real browser: the follow-up question on how a resident heard of the campaign
(`learn_channels`) is asked only of those who know about it, and a hidden question leaves no answer.

The app runs for real (``streamlit run``) on the throw-away demo database of tests/browser/conftest.py.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from data.db import read_session
from data.models import Response
from tests.browser.conftest import open_page, wait_idle

pytestmark = pytest.mark.browser

COMMUNITY = "CD0102"  # not the one the citizen-flow test uses
AWARE_LABEL = "您知道我市正在创建全国文明城市吗"
FOLLOW_UP = "您是通过哪些渠道了解到我市创建全国文明城市的"
PROGRESS = re.compile(r"第 (\d+) / (\d+) 步")
PREFERRED = ("是", "支持", "愿意", "参加过", "满意", "爱国、敬业、诚信、友善", "30—39岁", "女", "知道")


def self_filled_ids(engine) -> set[str]:
    with read_session(engine) as session:
        return set(session.scalars(select(Response.id).where(Response.channel == "self")))


def progress(page) -> tuple[int, int]:
    label = page.locator('[data-testid="stProgress"]').get_by_text(PROGRESS)
    label.wait_for()
    k, n = PROGRESS.search(label.inner_text()).groups()
    return int(k), int(n)


def answer_step(page, aware_answer: str) -> None:
    """Answer the step on screen; the campaign question gets `aware_answer`, everything else a
    cooperative answer."""
    form = page.locator('[data-testid="stForm"]')
    radios = form.locator('[data-testid="stRadio"]')
    for i in range(radios.count()):
        radio = radios.nth(i)
        options = radio.locator('[role="radiogroup"] label')
        texts = [t.strip() for t in options.all_inner_texts()]
        if AWARE_LABEL in radio.inner_text():
            choice = aware_answer
        else:
            choice = next((p for p in PREFERRED if p in texts), texts[0])
        options.nth(texts.index(choice)).click()
    checkboxes = form.locator('[data-testid="stCheckbox"] label')
    if checkboxes.count():
        checkboxes.nth(0).click()
    numbers = form.locator('[data-testid="stNumberInput"] input')
    for i in range(numbers.count()):
        numbers.nth(i).fill("5")


@pytest.mark.parametrize("aware_answer, asked", [("不知道", False), ("知道", True)])
def test_follow_up_question_is_asked_only_of_residents_who_know_the_campaign(
    phone, app_url, live_engine, artifacts, aware_answer, asked
):
    page = phone
    before = self_filled_ids(live_engine)
    open_page(page, f"{app_url}/?community={COMMUNITY}")
    k, n = progress(page)
    assert k == 1

    seen_follow_up = False
    answered_aware = False
    while True:
        k, n = progress(page)
        form = page.locator('[data-testid="stForm"]')
        if answered_aware:
            seen_follow_up |= form.get_by_text(FOLLOW_UP).count() > 0
        if form.get_by_text(AWARE_LABEL).count():
            answered_aware = True
        answer_step(page, aware_answer)
        if k < n:
            page.get_by_role("button", name="下一步").click()
            page.locator('[data-testid="stProgress"]').get_by_text(re.compile(rf"第 {k + 1} / \d+ 步")).wait_for()
            wait_idle(page)
        else:
            if seen_follow_up:
                page.screenshot(path=str(artifacts / "phone_skip_logic_follow_up.png"), full_page=True)
            page.get_by_role("button", name="提交问卷").click()
            break
    page.get_by_text("提交成功！").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0

    assert answered_aware
    assert seen_follow_up is asked
    new = self_filled_ids(live_engine) - before
    assert len(new) == 1
    with read_session(live_engine) as session:
        stored = session.get(Response, new.pop())
    assert stored.answers["aware_campaign"] == ("yes" if asked else "no")
    if asked:
        assert stored.answers["learn_channels"] and isinstance(stored.answers["learn_channels"], list)
    else:
        assert "learn_channels" not in stored.answers
