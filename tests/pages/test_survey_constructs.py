"""The citizen's page with a questionnaire using every new construct (tests/questionnaires/constructs.yaml),
driven through AppTest on a real demo database: a consent note, at most 2 channels with 以上都没有 alone, a
"please specify" box, and a quiz whose options are shuffled for this respondent and stay so on every rerun."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from data.db import make_engine, read_session, write_session
from data.models import Response
from data.questionnaire_versions import save_questionnaire
from data.rounds import create_round
from questionnaires import load_questionnaire

QUESTIONNAIRE = load_questionnaire(Path(__file__).parents[1] / "questionnaires" / "constructs.yaml")


def open_round(url: str, questionnaire=QUESTIONNAIRE, round_code: str = "C1", targets=None,
               names=("新题型轮", "Constructs round")) -> None:
    engine = make_engine(url)
    with write_session(engine) as session:
        version = save_questionnaire(session, questionnaire)
        create_round(session, round_code, names[0], version, targets or {"awareness": 0.9}, name_en=names[1],
                     opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    engine.dispose()


def start(app, url: str, lang: str | None = None, **round_):
    """The citizen's page of a freshly opened round (`open_round`'s arguments), in `lang`: the response id."""
    open_round(url, **round_)
    app.query_params["round"] = round_.get("round_code", "C1")
    app.query_params["community"] = "CD0101"
    if lang:
        app.query_params["lang"] = lang
    app.run()
    assert not app.exception
    return app.session_state["survey"]["rid"]


def stored_answers(url: str, rid: str) -> dict:
    """The answers the database holds for response `rid`."""
    engine = make_engine(url)
    with read_session(engine) as session:
        stored = session.scalars(select(Response.answers).where(Response.id == rid)).one()
    engine.dispose()
    return stored


def tick(app, rid: str, chosen: set[str]) -> None:
    for option in QUESTIONNAIRE.question("channels").option_codes:
        app.checkbox(key=f"{rid}:channels:{option}").set_value(option in chosen)


def press(app, label: str) -> None:
    next(button for button in app.button if button.label == label).click().run()
    assert not app.exception


def quiz_labels(app, rid: str) -> list[str]:
    return list(app.radio(key=f"{rid}:values_quiz").options)


def test_citizen_answers_a_questionnaire_with_every_construct(app, demo_url):
    rid = start(app, demo_url)
    quiz = QUESTIONNAIRE.question("values_quiz")
    # The note is shown as text, without a number and without anything to answer.
    assert "本问卷不记名，回答仅用于统计。" in [m.value for m in app.markdown]
    captions = [c.value for c in app.caption]
    assert "继续作答即表示同意。" in captions
    # The limits are said under the channels question itself.
    assert "最多选 2 项；选“以上都没有”时不能再选其他项" in captions
    assert any(m.value.startswith(":small[**1. 您通过哪些渠道了解创建工作？") for m in app.markdown)
    # This respondent's order of the quiz options, stable for them on every rerun.
    shown = quiz_labels(app, rid)
    assert shown == [quiz.option_label(code) for code in quiz.option_order(f"{rid}:values_quiz")]
    assert sorted(shown) == sorted(o.text("zh") for o in quiz.options) and shown[-1] == "不知道"

    tick(app, rid, {"tv", "online", "posters"})
    app.radio(key=f"{rid}:values_quiz").set_value("b")
    press(app, "提交问卷")
    assert [e.value for e in app.error] == ["还有 1 道题需要补充或修改，请查看标红的提示。", "最多只能选 2 项"]
    assert quiz_labels(app, rid) == shown

    tick(app, rid, {"tv", "none"})
    press(app, "提交问卷")
    assert "选了“以上都没有”就不能再选其他选项" in [e.value for e in app.error]
    assert quiz_labels(app, rid) == shown

    tick(app, rid, {"tv", "other"})  # 其他（请注明） chosen but not specified
    press(app, "提交问卷")
    assert "请注明" in [e.value for e in app.error]
    app.text_input(key=f"{rid}:channels_other").input("社区公告栏")
    app.text_input(key=f"{rid}:where_heard_other").input("没选“其他地方”，不保存")
    press(app, "提交问卷")
    assert [s.value for s in app.success] == ["提交成功，感谢您的参与！"]

    assert stored_answers(demo_url, rid) == {"channels": ["tv", "other"], "channels_other": "社区公告栏",
                                             "values_quiz": "b"}


def test_the_limits_and_their_messages_in_english(app, demo_url):
    rid = start(app, demo_url, lang="en")
    assert "Choose at most 2; “None of the above” cannot be combined with other options" in [c.value for c in app.caption]
    tick(app, rid, {"none", "posters"})
    press(app, "Submit")
    assert "“None of the above” cannot be chosen together with other options" in [e.value for e in app.error]


def test_an_interviewer_runs_the_same_questionnaire_on_the_tablet(app, demo_url):
    from tests.pages.conftest import area_id, create_staff, log_in

    open_round(demo_url)
    create_staff(demo_url, "iv16", "interviewer", "CD")
    log_in(app, "iv16")
    app.switch_page("pages/interview.py").run()
    app.selectbox(key="interview.round").set_value("C1").run()
    app.selectbox(key="interview.community").set_value(area_id(demo_url, "CD0102")).run()
    assert not app.exception
    rid = app.session_state["interview"]["rid"]
    assert "本问卷不记名，回答仅用于统计。" in [m.value for m in app.markdown]
    quiz = QUESTIONNAIRE.question("values_quiz")
    assert quiz_labels(app, rid) == [quiz.option_label(c) for c in quiz.option_order(f"{rid}:values_quiz")]
    tick(app, rid, {"posters", "other"})
    app.text_input(key=f"{rid}:channels_other").input("居委会通知")
    app.radio(key=f"{rid}:values_quiz").set_value("unknown")
    press(app, "提交问卷")
    assert [s.value for s in app.success] == ["提交成功，感谢您的参与！"]
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        row = session.execute(select(Response.answers, Response.interviewer, Response.scores)
                              .where(Response.id == rid)).one()
    engine.dispose()
    assert row.answers == {"channels": ["posters", "other"], "channels_other": "居委会通知", "values_quiz": "unknown"}
    assert row.interviewer == "iv16" and row.scores == {"values_quiz": None}  # 不知道: no valid answer
