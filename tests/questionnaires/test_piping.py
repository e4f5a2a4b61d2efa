"""Piping `${code}` into question texts: shown as the citizen reads the earlier answer; checked on load."""
import pytest

from questionnaires import QuestionnaireError, parse_questionnaire
from questionnaires.piping import pipe
from questionnaires.xlsform import read_xlsform

from .test_xlsform import SETTINGS, YES_NO, xlsform


def form(label_b):
    return {"code": "p", "version": 1, "title": {"zh": "问卷"}, "questions": [
        {"code": "a", "type": "yes_no", "label": {"zh": "您知道吗？", "en": "Do you know?"},
         "options": [{"code": "yes", "label": {"zh": "知道", "en": "Yes"}}, {"code": "no", "label": {"zh": "不知道", "en": "No"}}]},
        {"code": "age", "type": "number", "label": {"zh": "年龄"}, "integer": True},
        {"code": "b", "type": "text", "label": label_b, "required": False},
    ]}


def test_earlier_answers_are_shown_in_the_citizens_language():
    q = parse_questionnaire(form({"zh": "您回答了“${a}”，年龄 ${ age }。为什么？", "en": "You said ${a}. Why?"}))
    b = q.question("b")
    assert pipe(b.text("zh"), {"a": "yes", "age": 30}, q, "zh") == "您回答了“知道”，年龄 30。为什么？"
    assert pipe(b.text("en"), {"a": "no"}, q, "en") == "You said No. Why?"
    assert pipe(b.text("zh"), {}, q, "zh") == "您回答了“…”，年龄 …。为什么？"


@pytest.mark.parametrize("label, fragment", [
    ({"zh": "您说 ${nope}"}, "pipes in unknown question 'nope'"),
    ({"zh": "您说 ${b}"}, "can only show the answer to an earlier question"),
])
def test_a_piped_code_must_name_an_earlier_question(label, fragment):
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(form(label))
    assert any(fragment in e and "label.zh" in e for e in caught.value.errors), caught.value.errors


def test_xlsform_labels_pipe_renamed_questions():
    """Issue 16 item 3: a label with ${age} was accepted and shown literally."""
    q = read_xlsform(xlsform([("type", "name", "label::中文"), ("integer", "Age", "年龄"), ("text", "why", "${Age} 岁的原因？")],
                             YES_NO, SETTINGS))
    assert q.question("why").label == {"zh": "${age} 岁的原因？"}
    assert pipe(q.question("why").text(), {"age": 40}, q) == "40 岁的原因？"
