"""The light citizen page on the real server (``streamlit run serve.py``), walked with plain HTTP
on SQLite and on PostgreSQL: what is stored is what was answered, once."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests
from sqlalchemy import text

from citizen_web.routes import MAX_BODY
from data.db import make_engine, upgrade_database
from data.demo import load_demo
from questionnaires import clean_answers
from tests.browser.conftest import _running_app
from tests.citizen_web.walk import COMMUNITY, QUESTIONNAIRE, TEXT_ANSWER, Citizen, planned

ROUND = "2026-R2"
SECRET = "light-page-test-" + "0" * 40


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory, monkeypatch_module):
    """The app with its routes on a demo database of each kind; (base URL, engine)."""
    work = tmp_path_factory.mktemp(f"light-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{work / 'survey.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server_url")
        from tests.conftest import _reset_postgres

        _reset_postgres(url)
    engine = make_engine(url)
    upgrade_database(engine)
    load_demo(engine, per_community=(3, 3))
    monkeypatch_module.setenv("SURVEY_SECRET_KEY", SECRET)
    with _running_app(url, work) as base_url:
        yield base_url, engine
    engine.dispose()


def stored(engine, response_id: str | None = None):
    query = "select id, answers, eligible, channel, started_at from response where channel = 'self'"
    with engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    return [r for r in rows if response_id is None or r.id == response_id]


def response_id_of(state: str) -> str:
    body = state.rsplit(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["id"]


def as_stored(value):
    return json.loads(value) if isinstance(value, str) else value


def test_a_citizen_walks_every_step_and_is_stored_once_as_answered(served):
    base_url, engine = served
    citizen = Citizen(base_url)
    first = citizen.open()
    assert first.status == 200
    assert "问卷不记名" in first.text() and "城东区 › 东门街道 › 幸福社区" in first.text()  # intro (anonymity, duration), community with its district
    assert first.progress[0] == 1
    response_id = response_id_of(first.state)
    sent = citizen.answer_all()
    thanks = citizen.page
    assert thanks.status == 200 and "提交成功！" in thanks.text() and "感谢您的参与" in thanks.text()
    assert thanks.text().count("感谢您的参与") == 1  # one thanks
    assert thanks.response.cookies.get(f"survey_answered_{ROUND}") == "1"

    rows = stored(engine, response_id)
    assert len(rows) == 1 and rows[0].eligible
    answered = {code: value for step in sent for code, value in step.items()}
    expected = clean_answers(QUESTIONNAIRE, answered)
    assert as_stored(rows[0].answers) == expected
    assert expected["years_in_city"] == 12 and expected["suggestion"].startswith("希望多种树 <script>")

    # Sending the last step again (a double tap, a refresh of the thanks page): one response.
    assert len(stored(engine, response_id)) == 1
    # A revisit on this phone: "already answered", nothing shown to fill, a way for someone else.
    again = citizen.open()
    assert "这部手机已经填写过本轮问卷" in again.text() and 'name="state"' not in again.html
    assert "again=1" in again.html
    other = citizen.open(f"community={COMMUNITY}&again=1")
    assert other.progress[0] == 1 and response_id_of(other.state) != response_id


def test_the_last_step_sent_twice_is_stored_once(served):
    base_url, engine = served
    citizen = Citizen(base_url)
    citizen.open()
    response_id = response_id_of(citizen.page.state)
    citizen.answer_all(until_last=True)
    last = citizen.page
    answers = {code: planned(code) for code in last.codes}
    first = citizen.send(answers, state=last.state)
    second = citizen.send(answers, state=last.state)
    assert first.status == second.status == 200
    assert "提交成功！" in first.text() and "提交成功！" in second.text()
    assert len(stored(engine, response_id)) == 1


def test_an_error_is_shown_under_its_own_question_and_the_answers_stay(served):
    base_url, _ = served
    citizen = Citizen(base_url)
    citizen.open()
    citizen.answer_step()  # 居住满半年: yes
    page = citizen.page
    assert page.codes[:3] == ["years_in_city", "age_group", "sex"], page.codes
    page = citizen.send({"years_in_city": "500", "sex": "male"})  # out of range; no age
    assert page.status == 200 and page.progress[0] == 2
    errors = page.errors()
    assert set(errors) == {"years_in_city", "age_group"}, errors
    assert "0 到 100" in errors["years_in_city"] and errors["age_group"] == "请回答此题"
    assert "还有 2 道题需要补充或修改" in page.text()
    # Each message sits in its own question's block, after the question and before the next one.
    html = page.html
    assert html.index('id="q-years_in_city"') < html.index('id="years_in_city-error"') < html.index('id="q-age_group"')
    assert html.index('id="q-age_group"') < html.index('id="age_group-error"') < html.index('id="q-sex"')
    assert 'value="male" checked' in html and 'value="500"' in html  # kept as typed


def test_a_forged_or_broken_form_gets_a_clear_message_and_400(served):
    base_url, engine = served
    citizen = Citizen(base_url)
    citizen.open()
    state = citizen.page.state
    body, mac = state.rsplit(".", 1)
    document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    document["t"] = "2020-01-01T00:00:00"  # an older start time, to look like a long, careful interview
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=") + "." + mac
    before = len(stored(engine))
    changed_mac = state[:-1] + ("1" if state[-1] == "0" else "0")  # always a different signature
    for bad in (forged, changed_mac, "", "x" * 1000):
        page = citizen.send({"resident": "yes"}, state=bad)
        assert page.status == 400, bad
        assert "无法核对" in page.text() and "重新打开问卷" in page.text()
    english = citizen.send({"resident": "yes"}, state=forged, query=f"community={COMMUNITY}&lang=en")
    assert english.status == 400 and "could not be verified" in english.text()
    assert len(stored(engine)) == before


def test_hostile_requests_are_refused_with_400_at_bounded_cost(served):
    base_url, _ = served
    url = f"{base_url}/q?community={COMMUNITY}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases = [
        requests.post(url, data=b"state=" + b"a" * (MAX_BODY + 10), headers=form, timeout=60),  # too large
        requests.post(url, data="&".join(f"f{i}=1" for i in range(2000)), headers=form, timeout=60),  # many fields
        requests.post(url, data=b"state=%ff%fe&go=next", headers=form, timeout=60),  # not UTF-8
        requests.post(url, data=b"state=\xff\xfe", headers=form, timeout=60),  # raw non-ASCII bytes
        requests.post(url, data=b"resident=yes%00", headers=form, timeout=60),  # NUL
        requests.post(url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=60),
        requests.post(url, timeout=60),  # nothing at all
    ]
    for response in cases:
        assert response.status_code == 400, response.text[:300]
        assert "无法读取提交的内容" in response.text or "无法核对" in response.text
    # Missing or strange parameters: a message, never an error.
    for query in ("", "community=", "community=%ff%fe", "community=NOPE&round=NOPE", "lang=xx&community=" + "9" * 5000):
        response = requests.get(f"{base_url}/q?{query}", timeout=60)
        assert response.status_code == 200, (query, response.status_code)
        assert "请选择您所在的社区" in response.text


def test_security_headers(served):
    base_url, _ = served
    response = requests.get(f"{base_url}/q?community={COMMUNITY}", timeout=60)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'unsafe-inline'" in csp and "form-action 'self'" in csp
    assert "script" not in csp and "<script" not in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_under_18_ends_the_survey_not_counted(served):
    base_url, engine = served
    citizen = Citizen(base_url)
    citizen.open()
    response_id = response_id_of(citizen.page.state)
    citizen.answer_step()
    page = citizen.answer_step(age_group="under_18")
    assert "不计入统计" in page.text() and 'name="state"' not in page.html
    rows = stored(engine, response_id)
    assert len(rows) == 1 and not rows[0].eligible  # kept, as the Streamlit page keeps it, and not counted
    assert f"survey_answered_{ROUND}" not in page.response.cookies


def test_english_with_lang_en_and_the_switch_keeps_the_answers(served):
    base_url, _ = served
    citizen = Citizen(base_url, f"community={COMMUNITY}&lang=en")
    page = citizen.open()
    assert page.progress == (1, page.progress[1]) and "Step 1 of" in page.text()
    assert "anonymous" in page.text() and 'lang="en"' in page.html and "中文" in page.text()
    page = citizen.answer_step()
    page = citizen.send({"years_in_city": "oops"})
    assert page.errors()["years_in_city"].startswith("Please") or "whole number" in page.errors()["years_in_city"]
    # The switch is a button of the form: the answers typed so far stay, in the other language.
    page = citizen.send({"years_in_city": "7", "sex": "male"}, go="language", query=f"community={COMMUNITY}")
    assert "第 2 /" in page.text() and 'value="7"' in page.html and 'value="male" checked' in page.html
    assert "您的性别是？" in page.text() and not page.errors()


def test_back_keeps_the_answers_of_the_step_left(served):
    base_url, _ = served
    citizen = Citizen(base_url)
    citizen.open()
    citizen.answer_step()
    page = citizen.send({"sex": "male"}, go="back")
    assert page.progress[0] == 1 and 'value="yes" checked' in page.html
    page = citizen.answer_step()
    assert page.progress[0] == 2 and 'value="male" checked' in page.html


def test_an_invitation_round_needs_its_token_and_uses_it_once(served):
    from datetime import datetime, timedelta

    from data.accounts import create_invitations, invitation_status
    from data.db import write_session
    from data.demo import DEFAULT_TARGETS
    from data.models import QuestionnaireVersion
    from data.rounds import change_round_status, create_round, round_by_code
    from data.scope import CITY

    base_url, engine = served
    with write_session(engine) as session:
        version = session.query(QuestionnaireVersion).first()
        survey_round = create_round(session, "INV-1", "邀请轮", version, DEFAULT_TARGETS, requires_invitation=True,
                                    opens_at=datetime.now() - timedelta(days=1),
                                    closes_at=datetime.now() + timedelta(days=1))
        token = create_invitations(session, "test", survey_round.id, 1)[0]
    try:
        without = Citizen(base_url, f"community={COMMUNITY}&round=INV-1").open()
        assert "凭邀请码参加" in without.text() and 'name="state"' not in without.html
        citizen = Citizen(base_url, f"community={COMMUNITY}&round=INV-1&token={token}")
        citizen.open()
        response_id = response_id_of(citizen.page.state)
        citizen.answer_all()
        assert "提交成功！" in citizen.page.text()
        assert len(stored(engine, response_id)) == 1
        with write_session(engine) as session:
            assert invitation_status(session, survey_round.id, token) == "used"
        # The same invitation in a new form: refused by storage, said on the page, nothing stored.
        again = Citizen(base_url, f"community={COMMUNITY}&round=INV-1&token={token}")
        again.open()
        second_id = response_id_of(again.page.state)
        again.answer_all()
        assert "该邀请码已经使用过" in again.page.text() and stored(engine, second_id) == []
    finally:
        with write_session(engine) as session:
            change_round_status(session, "test", round_by_code(session, "INV-1"), "closed", scope=CITY)


def test_a_fresh_server_on_a_database_never_created_answers_q(tmp_path):
    """Nobody has opened the app: /q creates and migrates the database and loads the demo itself."""
    url = f"sqlite:///{tmp_path / 'never-opened.sqlite3'}"
    with _running_app(url, tmp_path, demo=True) as base_url:
        page = Citizen(base_url).open()
    assert page.status == 200 and page.progress[0] == 1, page.html[:500]


def test_date_time_and_date_time_questions_use_the_phones_pickers_and_store_iso_text(served):
    """The light page's date, time and date-time questions: the browser's own pickers (no script) held
    to the question's bounds, a date out of bounds refused under its question, ISO text stored."""
    from datetime import datetime, timedelta
    from pathlib import Path

    from data.db import write_session
    from data.demo import DEFAULT_TARGETS
    from data.questionnaire_versions import save_questionnaire
    from data.rounds import change_round_status, create_round, round_by_code
    from data.scope import CITY
    from questionnaires import load_questionnaire

    dated = load_questionnaire(Path(__file__).parents[1] / "questionnaires" / "dates.yaml")
    base_url, engine = served
    with write_session(engine) as session:
        version = save_questionnaire(session, dated)
        create_round(session, "DATES-1", "日期轮", version, DEFAULT_TARGETS,
                     opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    try:
        citizen = Citizen(base_url, f"community={COMMUNITY}&round=DATES-1")
        page = citizen.open()
        response_id = response_id_of(page.state)
        plan = {"resident": "yes", "visit_day": "2025-03-08", "visit_time": "09:15", "market_clean": "satisfied",
                "recent_event": "2025-02-14T18:30"}
        tried_out_of_bounds = False
        for _ in range(10):
            if "提交成功" in page.text():
                break
            if "visit_day" in page.codes and not tried_out_of_bounds:
                assert ('type="date" id="visit_day" name="visit_day" value="" min="2024-01-01" max="2026-12-31"'
                        in page.html)
                assert "2024-01-01" in page.text() and "<script" not in page.html
                page = citizen.send({code: plan[code] for code in page.codes if code in plan} | {"visit_day": "2023-12-31"})
                assert list(page.errors()) == ["visit_day"] and 'value="2023-12-31"' in page.html  # under itself
                tried_out_of_bounds = True
            if "recent_event" in page.codes:
                assert 'type="datetime-local" id="recent_event"' in page.html
            if "visit_time" in page.codes:
                assert 'type="time" id="visit_time"' in page.html
            page = citizen.send({code: plan[code] for code in page.codes if code in plan})
            assert not page.errors(), page.errors()
        assert tried_out_of_bounds
        assert "提交成功" in page.text()
        rows = stored(engine, response_id)
        assert len(rows) == 1
        answers = as_stored(rows[0].answers)
        assert (answers["visit_day"], answers["visit_time"], answers["recent_event"]) == \
            ("2025-03-08", "09:15", "2025-02-14T18:30")
    finally:
        with write_session(engine) as session:
            change_round_status(session, "test", round_by_code(session, "DATES-1"), "closed", scope=CITY)
