"""The light page's HTML without a server: a block for every question type, every construct of the
questionnaire shown as the Streamlit page shows it, and nothing a questionnaire or a citizen writes
ever becomes markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from citizen_web.render import BLOCKS, PICKERS, SPECIFY_BLOCK, block_of, environment, step_html
from questionnaires import QUESTION_TYPES, load_default, load_questionnaire
from questionnaires.model import DATE_TYPES, Option, Question, Questionnaire
from questionnaires.paging import visible_steps

CONSTRUCTS = load_questionnaire(Path(__file__).parents[1] / "questionnaires" / "constructs.yaml")
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
SEED = "01900000-0000-7000-8000-000000000000"


def page(questionnaire, answers=None, errors=None, index=0, language="zh", seed=SEED):
    answers = answers or {}
    return step_html(questionnaire, visible_steps(questionnaire, answers), index, answers, seed, errors or {},
                     language, action="q", switch_action="q?lang=en", round_name="第一轮", community_name="幸福社区",
                     notices=[], state="signed")


def one_of_each_type(label: str = "题目") -> Questionnaire:
    """A questionnaire with one question of every type of the model."""
    options = (Option("a", {"zh": "甲", "en": "A"}), Option("b", {"zh": "乙", "en": "B"}))
    questions = [Question(code=f"q_{kind}", type=kind, label={"zh": f"{label}{kind}"},
                          options=options if kind not in ("number", "text", "note", *DATE_TYPES) else ())
                 for kind in QUESTION_TYPES]
    return Questionnaire(code="all", version=1, title={"zh": "全部题型"}, questions=tuple(questions))


def test_every_question_type_of_the_model_has_a_block():
    """Fails when the model gains a type: add its macro to templates/blocks.html and to BLOCKS."""
    assert set(BLOCKS) == set(QUESTION_TYPES)
    macros = environment().get_template("blocks.html").module
    for block in {*BLOCKS.values(), SPECIFY_BLOCK}:
        assert callable(getattr(macros, block, None)), f"templates/blocks.html has no macro {block}"


@pytest.mark.parametrize("kind", QUESTION_TYPES)
def test_each_type_is_drawn_with_its_own_block(kind):
    questionnaire = one_of_each_type()
    question = questionnaire.question(f"q_{kind}")
    html = step_html(questionnaire, [[question]], 0, {}, SEED, {}, "zh", action="q", switch_action="q",
                     round_name="", community_name="", notices=[], state="s")
    assert f"题目{kind}" in html
    expected = {"one_option": 'type="radio" name="q_', "several_options": 'type="checkbox" name="q_',
                "number": 'inputmode="decimal"', "text": "<textarea", "note": 'class="note"',
                "moment": f'type="{PICKERS.get(kind)}"'}[block_of(question)]
    assert expected in html
    assert "<script" not in html


def test_the_default_questionnaires_first_step_says_what_the_streamlit_page_says():
    html = page(load_default())
    assert "问卷不记名，大约需要 3 分钟" in html  # the intro: anonymity and duration
    assert "第 1 / " in html and "<h2>基本情况</h2>" in html and "您所在的社区" in html
    assert "1. 您在本市居住（工作、学习）是否已满半年？" in html
    assert html.count('type="submit" name="go" value="next"') == 1 and 'value="back"' not in html


def test_multiple_choice_hints_optional_marks_and_limits_are_said_once():
    default = load_default()
    steps = visible_steps(default, {"aware_campaign": "yes"})
    index = next(i for i, s in enumerate(steps) if any(q.code == "learn_channels" for q in s))
    html = page(default, {"aware_campaign": "yes"}, index=index)
    assert html.count("可多选") == 1  # its label says so already: no second （可多选）
    constructs = page(CONSTRUCTS)
    assert constructs.count("（可多选）") == 1  # the label does not say it: added once
    assert "最多选 2 项；选“以上都没有”时不能再选其他项" in constructs
    assert "（选答）" in constructs  # where_heard is optional
    assert "本问卷不记名，回答仅用于统计。" in constructs and "继续作答即表示同意。" in constructs  # the note


def test_please_specify_boxes_sit_under_their_question_without_a_number():
    html = page(CONSTRUCTS)
    assert 'name="channels_other"' in html and 'name="where_heard_other"' in html
    assert html.index('id="q-channels"') < html.index('id="q-channels_other"') < html.index('id="q-values_quiz"')
    assert "其他（请注明）" in html and re.search(r"\d\. 其他", html) is None
    assert "3. 您最常在哪里看到创建宣传？" in html  # the boxes take no number: 1 channels, 2 quiz, 3 where


def test_randomised_options_keep_one_order_per_respondent():
    def order(seed):
        html = page(CONSTRUCTS, seed=seed)
        return re.findall(r'name="values_quiz" value="([^"]+)"', html)

    assert order(SEED) == order(SEED)
    orders = {tuple(order(f"{SEED[:-2]}{i:02d}")) for i in range(20)}
    assert len(orders) > 1
    assert all(o[-1] == "unknown" for o in orders)  # 不知道 stays last


def test_answers_and_errors_are_shown_in_place():
    answers = {"channels": ["tv", "other"], "channels_other": "社区公告栏", "values_quiz": "b"}
    html = page(CONSTRUCTS, answers, errors={"where_heard": "请回答此题"})
    assert 'value="tv" checked' in html and 'value="other" checked' in html and 'value="online" checked' not in html
    assert 'value="社区公告栏"' in html and 'value="b" checked' in html
    assert "还有 1 道题需要补充或修改" in html
    assert html.index('id="q-where_heard"') < html.index('id="where_heard-error"')


def test_hostile_labels_and_answers_never_become_markup():
    hostile = Questionnaire(
        code="h", version=1, title={"zh": HOSTILE}, intro={"zh": HOSTILE},
        sections=(),
        questions=(
            Question(code="name", type="text", label={"zh": HOSTILE}, help={"zh": HOSTILE}),
            Question(code="pick", type="single_choice", label={"zh": "您写了 ${name}"},
                     options=(Option("a", {"zh": HOSTILE}),)),
            Question(code="many", type="multiple_choice", label={"zh": HOSTILE}, options=(Option("a", {"zh": HOSTILE}),)),
            Question(code="n", type="number", label={"zh": HOSTILE}),
            Question(code="note", type="note", label={"zh": HOSTILE}),
        ),
    )
    answers = {"name": HOSTILE, "n": HOSTILE, "pick": '"><b>'}
    html = step_html(hostile, [list(hostile.questions)], 0, answers, SEED, {"name": HOSTILE}, "zh",
                     action="q", switch_action="q", round_name=HOSTILE, community_name=HOSTILE,
                     notices=[("warn", HOSTILE)], state=HOSTILE)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "您写了 &lt;script&gt;" in html  # a piped answer is escaped too
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img' in html  # attribute values stay closed
