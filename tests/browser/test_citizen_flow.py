"""A citizen fills the questionnaire on a phone in a real browser, from a poster link to the thanks.

The app runs for real (``streamlit run``) on a throw-away demo database; the test clicks what a
resident taps, then checks the database and the analyst's numbers directly.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from reports.snapshot import load_snapshot
from reports.results import results_for
from tests.browser.conftest import open_page, wait_idle

pytestmark = pytest.mark.browser

ROUND = "2026-R2"  # the newest open demo round, which the survey page opens by default
COMMUNITY = "CD0101"
# Where residents land.  The survey is the visitor's default page, and Streamlit serves a default page
# at the root only: the README's /survey?... poster links raise a "Page not found" dialog (see
# test_poster_link_of_the_readme_opens_without_a_page_not_found_dialog), so the flows use the root.
SURVEY = "/?"
COMMUNITY_ZH = "幸福社区"
COMMUNITY_EN = "Xingfu Community"
PROGRESS = re.compile(r"第 (\d+) / (\d+) 步")
# The first "positive-looking" option of each kind of question in the default questionnaire
# (yes/no, knows, supports, willing, took part, satisfied, the right quiz answer, an adult, ...).
PREFERRED = ("是", "知道", "支持", "愿意", "参加过", "满意", "爱国、敬业、诚信、友善", "18—29岁", "男")


def self_filled(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("select count(*) from response where channel = 'self'")).scalar_one()


def awareness_respondents(engine, community_code: str) -> int:
    indicators = results_for(load_snapshot(engine, ROUND)).indicators
    row = indicators[(indicators["level"] == "community") & (indicators["area_code"] == community_code)
                     & (indicators["indicator"] == "awareness")]
    assert len(row) == 1, f"no awareness row for {community_code}"
    return int(row["respondents"].iloc[0])


def progress(page) -> tuple[int, int]:
    """The "第 k / n 步" of the progress bar, as (k, n)."""
    label = page.locator('[data-testid="stProgress"]').get_by_text(PROGRESS)
    label.wait_for()
    k, n = PROGRESS.search(label.inner_text()).groups()
    return int(k), int(n)


def wait_for_step(page, k: int) -> None:
    page.locator('[data-testid="stProgress"]').get_by_text(re.compile(rf"第 {k} / \d+ 步")).wait_for()
    wait_idle(page)


def answer_current_step(page) -> list[str]:
    """Answer every question of the step on screen the way a cooperative resident would; returns
    what was tapped.  Optional free text is left empty."""
    form = page.locator('[data-testid="stForm"]')
    tapped = []
    radios = form.locator('[data-testid="stRadio"]')
    for i in range(radios.count()):
        options = radios.nth(i).locator('[role="radiogroup"] label')
        texts = [t.strip() for t in options.all_inner_texts()]
        assert texts, "a radio question without options"
        choice = next((p for p in PREFERRED if p in texts), texts[0])
        options.nth(texts.index(choice)).click()
        tapped.append(choice)
    checkboxes = form.locator('[data-testid="stCheckbox"] label')
    for i in range(min(2, checkboxes.count())):
        checkboxes.nth(i).click()
        tapped.append(checkboxes.nth(i).inner_text().strip())
    numbers = form.locator('[data-testid="stNumberInput"] input')
    for i in range(numbers.count()):
        numbers.nth(i).fill("5")
        tapped.append("5")
    return tapped


def answer_all_steps(page, screenshot=None) -> int:
    """From the first part to the last, answering everything; returns the number of parts.  Stops on
    the last part with its answers given but not yet submitted."""
    _, n = progress(page)
    screenshot_taken = screenshot is None
    for expected in range(1, n + 1):
        k, n_now = progress(page)
        assert (k, n_now) == (expected, n), f"expected part {expected} of {n}, saw {k} of {n_now}"
        tapped = answer_current_step(page)
        assert tapped or expected == n, f"nothing to answer on part {expected}"  # the last part is free text
        if not screenshot_taken and "5" in tapped:  # the part with the number input and two radios
            # Streamlit scrolls inside its own container, so "full page" is one screen: photograph
            # the top of the part, then its buttons as the resident scrolls down to them.
            page.screenshot(path=str(screenshot), full_page=True)
            page.get_by_role("button", name="下一步").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_buttons.png")))
            page.locator('[data-testid="stProgress"]').scroll_into_view_if_needed()
            screenshot_taken = True
        if expected < n:
            assert page.get_by_role("button", name="提交问卷").count() == 0
            page.get_by_role("button", name="下一步").click()
            wait_for_step(page, expected + 1)
    assert screenshot_taken, "no part with a number input to photograph"
    assert page.get_by_role("button", name="提交问卷").count() == 1
    return n


def test_citizen_fills_the_questionnaire_on_a_phone_and_is_counted_once(phone, app_url, live_engine, artifacts):
    page = phone
    stored_before = self_filled(live_engine)
    respondents_before = awareness_respondents(live_engine, COMMUNITY)

    open_page(page, f"{app_url}{SURVEY}community={COMMUNITY}")
    page.get_by_text("文明城市创建问卷调查").first.wait_for()
    page.get_by_text(COMMUNITY_ZH).wait_for()
    k, n = progress(page)
    assert k == 1 and n >= 5, (k, n)

    # "下一步" with the required first question unanswered: a message, and the citizen stays put.
    page.get_by_role("button", name="下一步").click()
    page.get_by_text("还有 1 道题需要补充或修改").wait_for()
    # ... and the question itself is named: its own message sits inside the form, under it.
    page.locator('[data-testid="stForm"] [data-testid="stAlertContentError"]').first.wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stForm"] [data-testid="stAlertContentError"]').count() == 1
    assert progress(page) == (1, n)

    assert answer_all_steps(page, screenshot=artifacts / "phone_step.png") == n
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功！").wait_for()
    wait_idle(page)
    page.screenshot(path=str(artifacts / "phone_thanks.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    # Nothing is left to tap a second time (and if it were, a second tap must not count twice).
    again = page.get_by_role("button", name="提交问卷")
    assert again.count() == 0
    if again.count():
        again.click()
        wait_idle(page)

    # The thanks is said once (it used to be a success box and the questionnaire's own thanks).
    assert page.locator('[data-testid="stMain"]').inner_text().count("感谢您的参与") == 1

    # A refresh: the phone says it has answered this round (a cookie naming the round, nothing else),
    # instead of a blank questionnaire; someone else may still answer on it.
    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    page.get_by_text("这部手机已经填写过本轮问卷").wait_for()
    wait_idle(page)
    page.screenshot(path=str(artifacts / "phone_after_refresh.png"))
    assert page.locator('[data-testid="stForm"]').count() == 0
    markers = {c["name"]: c["value"] for c in page.context.cookies() if c["name"].startswith("survey_answered_")}
    assert markers == {f"survey_answered_{ROUND}": "1"}
    page.get_by_role("button", name="家人或朋友用这部手机填写").click()
    page.get_by_text(COMMUNITY_ZH).wait_for()  # a fresh questionnaire for the next resident
    assert progress(page)[0] == 1

    assert self_filled(live_engine) == stored_before + 1
    assert awareness_respondents(live_engine, COMMUNITY) == respondents_before + 1


def test_an_impatient_double_tap_on_submit_stores_one_response(phone, app_url, live_engine):
    page = phone
    stored_before = self_filled(live_engine)
    open_page(page, f"{app_url}{SURVEY}community=CD0102")
    page.get_by_text("和平社区").wait_for()
    answer_all_steps(page)
    page.get_by_role("button", name="提交问卷").dblclick()
    outcome = page.locator('[data-testid="stAlertContentSuccess"]')
    outcome.wait_for()
    wait_idle(page)
    page.wait_for_timeout(500)  # let a second, overlapping run of the double tap finish too
    wait_idle(page)
    assert self_filled(live_engine) == stored_before + 1  # the data guarantee: stored exactly once
    assert page.get_by_role("button", name="提交问卷").count() == 0
    # Regression: the two taps' runs overlap; the second found the response stored and used to tell
    # the citizen "already submitted" instead of thanking them.
    assert outcome.inner_text().strip().startswith("提交成功！")


def test_forged_community_in_the_link_gets_a_message_and_the_choosers(phone, app_url):
    page = phone
    open_page(page, f"{app_url}{SURVEY}community=ZZZ%3Cscript%3E")
    page.get_by_text("链接中的社区编号无效").wait_for()
    page.get_by_text("所在区（县）").wait_for()  # the district chooser
    page.get_by_text("请先选择您所在的社区").wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stForm"]').count() == 0  # no questions before a community
    assert page.locator("script", has_text="ZZZ").count() == 0


def check_english(page) -> None:
    page.locator("h1").first.wait_for()
    # Streamlit draws a run in pieces: wait for the last expected piece, not a fixed time.
    page.get_by_role("button", name="Next").wait_for()
    page.get_by_text("Step 1 of").first.wait_for()
    wait_idle(page)
    assert page.locator("h1").first.inner_text().strip() == "Civilized-city survey"
    assert page.get_by_text(COMMUNITY_EN).count() == 1
    assert page.get_by_text("Step 1 of").count() == 1
    assert page.get_by_text("Have you lived (or worked or studied) in this city").count() == 1
    assert page.get_by_role("button", name="Next").count() == 1
    assert page.get_by_text("下一步").count() == 0


def test_english_link_shows_the_survey_in_english(phone, app_url):
    open_page(phone, f"{app_url}{SURVEY}lang=en&community={COMMUNITY}")
    check_english(phone)


def test_first_visitor_after_a_restart_gets_the_language_of_the_link(phone, cold_app_url):
    # Regression: before any session ran st.navigation, Streamlit ran a deep-linked page file alone
    # (legacy pages/ mode), skipping survey_app.py and its ?lang=; ui/entry.py routes it through.
    open_page(phone, f"{cold_app_url}/methods?lang=en&community={COMMUNITY}")
    check_english(phone)  # sent through the entry, which lands a visitor on the survey, in English


def test_poster_link_opens_the_light_page_with_its_community(phone, app_url):
    # Poster links once used /survey?..., which Streamlit answers with "Page not found"; they now open
    # the light page (/q, citizen_web), which takes the same parameters.
    from ui.posters import survey_link

    page = phone
    page.goto(survey_link(app_url, COMMUNITY))  # plain HTML: nothing to wait for but the load
    assert "/q?community=" in page.url
    page.get_by_text(COMMUNITY_ZH).wait_for()
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_role("button", name="下一步").click(timeout=3_000)  # not covered by anything
    page.get_by_text("请回答此题").wait_for()


def test_enter_in_the_number_field_does_not_send_the_resident_back(phone, app_url):
    page = phone
    open_page(page, f"{app_url}{SURVEY}community=CD0103")
    page.locator('[data-testid="stForm"] [role="radiogroup"] label').get_by_text("是", exact=True).click()
    page.get_by_role("button", name="下一步").click()
    wait_for_step(page, 2)
    years = page.locator('[data-testid="stForm"] [data-testid="stNumberInput"] input')
    years.fill("7")
    years.press("Enter")
    page.wait_for_timeout(500)
    wait_idle(page)
    assert progress(page)[0] >= 2, "Enter took the resident back to part 1"


# --- the citizen's journey as issue 15 found it -----------------------------------------------------


def main_scroll(page) -> float:
    """How far the page is scrolled (Streamlit scrolls its main area, not the window)."""
    return page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_each_step_opens_at_its_top_and_a_missing_answer_is_shown_where_it_is(phone, app_url, artifacts):
    page = phone
    open_page(page, f"{app_url}{SURVEY}community=CD0201")
    # Part 1 opens with the questionnaire's intro (anonymous, about 3 minutes) and its section title.
    page.get_by_text("问卷不记名，大约需要 3 分钟").wait_for()
    page.get_by_role("heading", name="基本情况").wait_for()
    page.screenshot(path=str(artifacts / "phone_part1.png"))
    answer_current_step(page)
    page.get_by_role("button", name="下一步").click()
    wait_for_step(page, 2)
    assert page.get_by_text("问卷不记名").count() == 0  # the intro belongs to part 1

    # Part 2 is longer than the screen: the resident scrolls down to its buttons ...
    answer_current_step(page)
    form = page.locator('[data-testid="stForm"]')
    form.locator('[data-testid="stRadio"]').last.locator('[role="radiogroup"] label').first.click()
    page.get_by_role("button", name="下一步").scroll_into_view_if_needed()
    assert main_scroll(page) > 100
    page.get_by_role("button", name="下一步").click()
    wait_for_step(page, 3)
    # ... and part 3 opens at its top, with its progress bar and title in view.
    page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop < 5")
    assert in_view(page, page.locator('[data-testid="stProgress"]'))
    page.screenshot(path=str(artifacts / "phone_part3_top.png"))

    # 下一步 at the bottom with the last question of the part unanswered: the page goes to that
    # question, and its message is inside the question's own frame.
    radios = page.locator('[data-testid="stForm"] [data-testid="stRadio"]')
    for i in range(radios.count() - 1):
        radios.nth(i).locator('[role="radiogroup"] label').first.click()
    page.get_by_role("button", name="下一步").scroll_into_view_if_needed()
    page.get_by_role("button", name="下一步").click()
    message = page.locator('[data-testid="stForm"] [data-testid="stAlertContentError"]')
    message.wait_for()
    wait_idle(page)
    assert message.count() == 1
    unanswered = page.locator('[data-testid="stForm"] [class*="st-key-question_"]').filter(
        has=page.locator('[data-testid="stAlertContentError"]'))
    assert unanswered.count() == 1
    assert unanswered.locator('[data-testid="stRadio"]').count() == 1  # one question in the frame
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=\"stForm\"] [data-testid=\"stAlertContentError\"]')"
        ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }")
    page.screenshot(path=str(artifacts / "phone_missing_answer.png"))
    assert progress(page)[0] == 3


def test_multiple_choice_label_says_each_thing_once_in_the_size_of_the_other_questions(phone, app_url, artifacts):
    page = phone
    open_page(page, f"{app_url}{SURVEY}community=CD0202")
    for _ in range(10):
        k, _ = progress(page)
        wait_idle(page)
        label = page.locator('[data-testid="stForm"] [data-testid="stMarkdownContainer"]').filter(
            has_text="您是通过哪些渠道了解到")
        if label.count():
            break
        answer_current_step(page)
        page.get_by_role("button", name="下一步").click()
        wait_for_step(page, k + 1)
    label.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "phone_multiple_choice.png"))
    text = label.inner_text()
    assert text.count("可多选") == 1 and text.count("选答") == 1, text
    sizes = page.evaluate("""() => {
        const size = e => parseFloat(getComputedStyle(e).fontSize);
        const multi = [...document.querySelectorAll('[data-testid="stForm"] [data-testid="stMarkdownContainer"]')]
            .find(e => e.innerText.includes('您是通过哪些渠道'));
        const radio = document.querySelector('[data-testid="stForm"] [data-testid="stWidgetLabel"] p');
        return [size(multi.querySelector('strong')), radio ? size(radio) : null];
    }""")
    if sizes[1] is not None:
        assert sizes[0] == sizes[1], sizes
    else:
        assert sizes[0] <= 14.5, sizes  # Streamlit's widget labels are 14 px
