"""The citizen's questionnaire page, driven through AppTest on a real demo database."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from data.areas import community_by_code
from data.db import make_engine, read_session
from data.demo import synthetic_answers
from data.models import Response
from questionnaires import load_default
from tests.pages.conftest import area_id

QUESTIONNAIRE = load_default()
RATES = {"awareness": 1.0, "support": 1.0, "participation": 1.0, "satisfaction": 1.0}


def stored_responses(url: str, community_code: str | None = None) -> int:
    engine = make_engine(url)
    with read_session(engine) as session:
        query = select(func.count()).select_from(Response).where(Response.channel == "self")
        if community_code:
            query = query.where(Response.community_id == community_by_code(session, community_code).id)
        count = session.scalar(query)
    engine.dispose()
    return count


def fill_current_step(at, answers: dict) -> None:
    """Set every widget of the current step from ``answers`` (keys are made from the response id)."""
    for widget in at.radio:
        if ":" not in widget.key:  # the language switch
            continue
        code = widget.key.split(":", 1)[1]
        if code in answers:
            widget.set_value(answers[code])
    for widget in at.checkbox:
        _, code, option = widget.key.split(":")
        widget.set_value(option in answers.get(code, []))
    for widget in at.number_input:
        code = widget.key.split(":", 1)[1]
        if code in answers:
            widget.set_value(answers[code])
    assert len({w.key.split(":")[0] for w in at.radio if ":" in w.key}) <= 1  # one response id per form


def click(at, label: str) -> None:
    next(button for button in at.button if button.label == label).click().run()


def answer_everything(at, answers: dict, submit_label="提交问卷", next_label="下一步") -> None:
    for _ in range(30):
        fill_current_step(at, answers)
        labels = [button.label for button in at.button]
        if submit_label in labels:
            click(at, submit_label)
            return
        click(at, next_label)
        assert not at.exception
    raise AssertionError("the questionnaire never reached its submit button")


def test_citizen_answers_from_a_poster_link_and_is_counted_once(app, demo_url):
    before = stored_responses(demo_url, "CD0101")
    app.query_params["community"] = "CD0101"
    app.run()
    assert not app.exception
    # With its district: every district of the demo city has a 东门街道幸福社区.
    assert any("城东区 › 东门街道 › 幸福社区" in m.value for m in app.markdown)
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(11), RATES)
    answer_everything(app, answers)
    assert not app.exception
    assert [s.value for s in app.success] == ["**提交成功！**\n\n感谢您的参与！文明城市，你我共建，成果共享。"]  # one thanks
    assert stored_responses(demo_url, "CD0101") == before + 1
    app.run()  # a rerun (e.g. a second tap) after submitting stores nothing more
    assert stored_responses(demo_url, "CD0101") == before + 1


def test_missing_answer_gets_a_message_and_the_step_does_not_advance(app):
    app.query_params["community"] = "CD0101"
    app.run()
    step_before = app.session_state["survey"]["step"]
    click(app, "下一步")  # nothing answered
    assert not app.exception
    assert app.session_state["survey"]["step"] == step_before
    assert any("请" in e.value for e in app.error)


def test_forged_community_in_the_link_gets_a_message_and_the_choosers(app, demo_url):
    app.query_params["community"] = "<script>alert(1)</script>"
    app.run()
    assert not app.exception
    assert any("社区编号无效" in w.value for w in app.warning)
    assert [s.label for s in app.selectbox][:1] == ["所在区（县）"]
    assert stored_responses(demo_url) == 0


def test_choosing_the_community_step_by_step(app, demo_url):
    app.run()
    assert [s.label for s in app.selectbox] == ["所在区（县）"]
    app.selectbox(key="survey.choose_district").set_value(area_id(demo_url, "BJ")).run()
    app.selectbox(key="survey.choose_street").set_value(area_id(demo_url, "BJ02")).run()
    assert app.selectbox(key="survey.choose_community").options == ["南湖街道幸福社区", "南湖街道和平社区", "南湖街道团结社区"]
    app.selectbox(key="survey.choose_community").set_value(area_id(demo_url, "BJ0203")).run()
    assert not app.exception
    assert [r.key.split(":")[1] for r in app.radio if ":" in r.key] == ["resident"]  # the first question


def test_screened_out_respondent_is_thanked_and_not_counted(app, demo_url):
    screening = next(q for q in QUESTIONNAIRE.questions if q.screening_eligible is not None)
    failing = next(o.code for o in screening.options if o.code not in screening.screening_eligible)
    app.query_params["community"] = "CD0101"
    app.run()
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(12), RATES)
    answers[screening.code] = failing
    fill_current_step(app, answers)
    click(app, "下一步")
    assert not app.exception
    assert any("不计入统计" in i.value for i in app.info)
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        eligible = session.scalars(select(Response.eligible).where(Response.channel == "self")).all()
    assert eligible == [False]


def test_english_from_the_link(app):
    app.query_params["lang"] = "en"
    app.query_params["community"] = "CD0101"
    app.run()
    assert not app.exception
    assert app.title[0].value == "Civilized-city survey"
    assert any(b.label == "Next" for b in app.button)


def test_unknown_round_in_the_link_falls_back_to_the_open_round(app):
    app.query_params["round"] = "' OR 1=1 --"
    app.query_params["community"] = "CD0101"
    app.run()
    assert not app.exception
    assert any("调查轮次无效" in w.value for w in app.warning)


def questions_seen_while_answering(app, answers) -> set[str]:
    seen = set()
    for _ in range(30):
        seen |= {w.key.split(":")[1] for w in [*app.radio, *app.checkbox, *app.number_input] if ":" in w.key}
        fill_current_step(app, answers)
        labels = [button.label for button in app.button]
        if "提交问卷" in labels:
            click(app, "提交问卷")
            return seen
        click(app, "下一步")
    raise AssertionError("never reached the submit button")


def test_skip_logic_hides_the_follow_up_and_stores_no_answer_for_it(app, demo_url):
    app.query_params["community"] = "CD0103"
    app.run()
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(21), RATES)
    answers["aware_campaign"] = "no"  # the channels question is only for those who know the campaign
    seen = questions_seen_while_answering(app, answers)
    assert "aware_campaign" in seen and "learn_channels" not in seen
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        stored = session.scalars(select(Response.answers).where(Response.channel == "self")).one()
    engine.dispose()
    assert stored["aware_campaign"] == "no" and "learn_channels" not in stored


def test_skip_logic_shows_the_follow_up_when_its_condition_holds(app):
    app.query_params["community"] = "CD0103"
    app.run()
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(22), RATES)
    answers["aware_campaign"] = "yes"
    assert "learn_channels" in questions_seen_while_answering(app, answers)


# --- the citizen's journey as issue 15 found it -----------------------------------------------------


def test_first_step_shows_the_intro_and_each_step_its_section_title(app):
    app.query_params["community"] = "CD0101"
    app.run()
    assert not app.exception
    assert [i.value for i in app.info] == [QUESTIONNAIRE.intro["zh"]]  # anonymity, about 3 minutes
    assert "不记名" in app.info[0].value and "3 分钟" in app.info[0].value
    assert [s.value for s in app.subheader] == ["基本情况"]
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(13), RATES)
    seen_titles = []
    for _ in range(30):
        seen_titles += [s.value for s in app.subheader]
        fill_current_step(app, answers)
        if "提交问卷" in [b.label for b in app.button]:
            break
        click(app, "下一步")
        assert not app.info or app.info[0].value != QUESTIONNAIRE.intro["zh"]  # the intro only once, on part 1
    assert list(dict.fromkeys(seen_titles)) == [section.title["zh"] for section in QUESTIONNAIRE.sections]


def test_multiple_choice_label_says_each_thing_once_at_the_size_of_the_others(app):
    app.query_params["community"] = "CD0101"
    app.run()
    answers = synthetic_answers(QUESTIONNAIRE, np.random.default_rng(14), RATES)
    answers["aware_campaign"] = "yes"  # the channels question follows
    for _ in range(30):
        if any(c.key.split(":")[1] == "learn_channels" for c in app.checkbox):
            break
        fill_current_step(app, answers)
        click(app, "下一步")
    label = next(m.value for m in app.markdown if "您是通过哪些渠道" in m.value)
    assert label.count("可多选") == 1 and label.count("选答") == 1, label
    assert label.startswith(":small["), label  # a plain paragraph would be larger than the radio labels


def test_a_missing_answer_is_named_inside_its_own_question_block(app):
    app.query_params["community"] = "CD0101"
    app.run()
    click(app, "下一步")  # part 1: answer it
    fill_current_step(app, {"resident": "yes"})
    click(app, "下一步")
    assert app.session_state["survey"]["step"] == 1
    fill_current_step(app, {"age_group": "30_39"})  # the sex question left unanswered
    click(app, "下一步")
    form = app.get("form")[0]
    blocks = [block for block in form.children.values() if getattr(block, "type", None) == "flex_container"]
    by_question = {}
    for block in blocks:
        keys = [w.key for w in block.get("radio") + block.get("number_input") if getattr(w, "key", None)]
        by_question[keys[0].split(":")[1] if keys else None] = [e.value for e in block.get("error")]
    assert by_question["sex"] == ["请回答此题"]
    assert all(not messages for code, messages in by_question.items() if code != "sex"), by_question
