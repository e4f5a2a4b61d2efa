"""The citizen's page with date, time and date-time questions (tests/questionnaires/dates.yaml), driven
through AppTest on a real demo database: pickers that start empty and hold the question's bounds, the
bilingual messages, skip logic on a date, the date piped into a later label, and ISO text stored."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from questionnaires import load_questionnaire
from tests.pages.test_survey_constructs import start as start_round, stored_answers

QUESTIONNAIRE = load_questionnaire(Path(__file__).parents[1] / "questionnaires" / "dates.yaml")


def start(app, url: str, lang: str | None = None) -> str:
    return start_round(app, url, lang, questionnaire=QUESTIONNAIRE, round_code="D1", targets={"satisfaction": 0.9},
                       names=("日期轮", "Dates round"))


def press(app, label: str | None = None) -> None:
    """Press the button with this label, or the forward one (下一步 / 提交问卷: the first of the step)."""
    next(button for button in app.button if label is None or button.label == label).click().run()
    assert not app.exception


def assert_thanks_for_volunteering_then_submit(app) -> None:
    shown = " ".join(str(e.value) for kind in ("markdown", "info", "caption") for e in getattr(app, kind))
    assert "感谢您今年参加志愿服务！" in shown and not app.success
    press(app, "提交问卷")
    assert [s.value for s in app.success] == ["提交成功，感谢您的参与！"]


def test_citizen_answers_dates_and_times_and_they_are_stored_as_iso_text(app, demo_url):
    rid = start(app, demo_url)
    app.radio(key=f"{rid}:resident").set_value("yes")
    press(app)
    day = app.date_input(key=f"{rid}:visit_day")
    assert day.value is None  # never today's date by default: an untouched picker answers nothing
    assert (day.min, day.max) == (date(2024, 1, 1), date(2026, 12, 31))
    assert "2024-01-01 到 2026-12-31 之间的日期" in [c.value for c in app.caption]
    assert app.time_input(key=f"{rid}:visit_time").value is None
    assert not any(w.key == f"{rid}:recent_event" for w in app.datetime_input)  # asked only after 2025-01-01
    # The only step so far, but the date may open another question: 下一步, not 提交问卷.
    assert [b.label for b in app.button][:1] == ["下一步"]
    press(app, "下一步")
    assert "请回答此题" in [e.value for e in app.error]

    app.date_input(key=f"{rid}:visit_day").set_value(date(2025, 3, 8))
    app.time_input(key=f"{rid}:visit_time").set_value(time(9, 15))
    press(app, "下一步")  # the satisfaction question is still unanswered
    # The date opened the date-time question (visit_day >= 2025-01-01) and is piped into the label.
    assert any("您在 2025-03-08 去的农贸市场" in r.label for r in app.radio)
    app.radio(key=f"{rid}:market_clean").set_value("satisfied")
    press(app)  # the question that depends on the date comes on a step of its own
    event = app.datetime_input(key=f"{rid}:recent_event")
    assert event.value is None
    event.set_value(datetime(2025, 2, 14, 18, 30))
    press(app, "下一步")  # the date-time opens a note, on the step after it
    assert_thanks_for_volunteering_then_submit(app)

    assert stored_answers(demo_url, rid) == {"resident": "yes", "visit_day": "2025-03-08", "visit_time": "09:15",
                                             "market_clean": "satisfied", "recent_event": "2025-02-14T18:30"}


def test_the_bounds_are_said_in_english_too(app, demo_url):
    rid = start(app, demo_url, lang="en")
    app.radio(key=f"{rid}:resident").set_value("yes")
    press(app)
    assert "a date from 2024-01-01 to 2026-12-31" in [c.value for c in app.caption]


def test_an_xlsform_with_date_questions_uploads_and_previews_its_pickers(app, demo_url):
    from questionnaires.xlsform import write_xlsform
    from tests.pages.test_questionnaires_page import errors, open_as

    open_as(app, demo_url)
    workbook = ("dates.xlsx", write_xlsform(QUESTIONNAIRE),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    app.file_uploader(key="qv.upload").set_value(workbook).run()
    assert not app.exception and not errors(app)
    app.selectbox(key="qv.preview_version").set_value("uploaded").run()
    assert not app.exception
    day = app.date_input(key="qv.preview.uploaded.visit_day")
    assert day.value is None and (day.min, day.max) == (date(2024, 1, 1), date(2026, 12, 31))
    assert app.time_input(key="qv.preview.uploaded.visit_time").value is None
    assert "2024-01-01 到 2026-12-31 之间的日期" in [c.value for c in app.caption]


def test_answers_that_reveal_a_later_question_lead_to_it_instead_of_submitting(app, demo_url):
    """The step looked like the last one (the date-time question needs a date after 2025-01-01), and
    its answers give that date: 提交问卷 must lead on to the new question, not store without it."""
    rid = start(app, demo_url)
    app.radio(key=f"{rid}:resident").set_value("yes")
    press(app)
    app.date_input(key=f"{rid}:visit_day").set_value(date(2025, 3, 8))
    app.time_input(key=f"{rid}:visit_time").set_value(time(9, 15))
    app.radio(key=f"{rid}:market_clean").set_value("satisfied")
    press(app, "下一步")
    assert not app.success and [w.key for w in app.datetime_input] == [f"{rid}:recent_event"]
    app.datetime_input(key=f"{rid}:recent_event").set_value(datetime(2025, 2, 14, 18, 30))
    press(app, "下一步")
    assert_thanks_for_volunteering_then_submit(app)
    assert stored_answers(demo_url, rid)["recent_event"] == "2025-02-14T18:30"
