"""The survey constructs of issue 16's last part, in the questionnaire itself: notes, "please specify"
options, at most N choices with exclusive options (以上都没有), shuffled options.  The loader's checks,
the answer rules (one by one and column by column alike) and the paging."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from questionnaires import (
    QuestionnaireError,
    clean_answers,
    load_default,
    load_questionnaire,
    parse_questionnaire_text,
    questionnaire_from_dict,
    score_answers,
    survey_steps,
    validate_answers,
    visible_questions,
)
from questionnaires.answer_rules import AnswerRules, answer_problems

CONSTRUCTS = load_questionnaire(Path(__file__).with_name("constructs.yaml"))
HEADER = "code: t\nversion: 1\ntitle: {zh: 测试问卷}\n"
GOOD = {"channels": ["tv", "other"], "channels_other": "社区公告栏", "values_quiz": "b"}


def errors(body: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire_text(HEADER + textwrap.dedent(body), "t.yaml")
    return info.value.errors


# ------------------------------------------------------------------------------------ the model

def test_the_derived_please_specify_questions_follow_their_choice_question():
    codes = [q.code for q in CONSTRUCTS.questions]
    assert codes == ["consent", "channels", "channels_other", "values_quiz", "where_heard", "where_heard_other"]
    other = CONSTRUCTS.question("channels_other")
    assert (other.type, other.other_of, other.required, other.max_length) == ("text", "channels", True, 100)
    assert other.label == {"zh": "其他（请注明）", "en": "Other (please specify)"}  # says so already
    assert CONSTRUCTS.question("where_heard_other").label == {"zh": "其他地方（请注明）",
                                                             "en": "Elsewhere (please specify)"}
    assert CONSTRUCTS.question("where_heard_other").required is False  # as its optional question
    # Notes have no number; the box has its question's.
    assert CONSTRUCTS.question_numbers() == {"channels": 1, "channels_other": 1, "values_quiz": 2, "where_heard": 3,
                                             "where_heard_other": 3}
    assert [q.code for q in CONSTRUCTS.answered_questions()][0] == "channels"


def test_the_stored_form_holds_the_constructs_once_and_rebuilds_the_same_questionnaire():
    stored = CONSTRUCTS.to_dict()
    assert [q["code"] for q in stored["questions"]] == ["consent", "channels", "values_quiz", "where_heard"]
    channels = stored["questions"][1]
    assert (channels["max_choices"], channels["exclusive"], channels["specify"]) == (2, ["none"], "other")
    assert stored["questions"][2]["randomize"] is True
    again = questionnaire_from_dict(stored)
    assert again == CONSTRUCTS and again.content_hash() == CONSTRUCTS.content_hash()


def test_questionnaires_without_the_constructs_keep_their_stored_form_and_hash():
    """The new fields are written only when used: a questionnaire stored before they existed has the same
    content hash today (a different hash would make its stored version look changed)."""
    old_keys = {"code", "type", "label", "help", "required", "section", "options", "indicator", "positive",
                "invalid", "correct", "screening", "demographic", "min", "max", "integer", "max_length", "relevant"}
    for question in load_default().to_dict()["questions"]:
        assert set(question) == old_keys


# ------------------------------------------------------------------------------------ loader checks

def test_a_note_has_no_answer_so_it_cannot_be_required_have_options_or_count():
    found = errors("""
        questions:
          - {code: intro_note, type: note, label: {zh: 说明}, required: true, indicator: awareness,
             options: [{code: a, label: {zh: 甲}}]}
        """)
    joined = "\n".join(found)
    assert "a note has no answer, so it cannot be required" in joined
    assert "a note question cannot have options" in joined
    assert "a note question cannot count towards an indicator" in joined


def test_conditions_and_piping_cannot_refer_to_a_note():
    found = errors("""
        questions:
          - {code: intro_note, type: note, label: {zh: 说明}}
          - {code: q1, type: text, label: {zh: "您看到${intro_note}了吗"}, relevant: "${intro_note} != ''"}
        """)
    assert any("'intro_note' is a note: it has no answer to show" in e for e in found), found
    assert any("'intro_note' is a note: it has no answer" in e and "relevant" in e for e in found), found


def test_constructs_on_the_wrong_type_or_with_unknown_options_are_reported_each():
    found = errors("""
        questions:
          - code: sat
            type: satisfaction
            label: {zh: 满意吗}
            randomize: true
            max_choices: 1
            specify: unknown
          - code: channels
            type: multiple_choice
            label: {zh: 渠道}
            options: [{code: a, label: {zh: 甲}}, {code: b, label: {zh: 乙}}]
            max_choices: 3
            exclusive: [none]
            specify: other
        """)
    joined = "\n".join(found)
    assert "question sat, field randomize: only single_choice, multiple_choice and quiz questions can shuffle" in joined
    assert "question sat, field max_choices: only multiple_choice questions have this field" in joined
    assert "question sat, field specify: only single_choice and multiple_choice questions can have a 'please " \
           "specify' option" in joined
    assert "question channels, field max_choices: at most 3 choices, but there are only 2 options" in joined
    assert "question channels, field exclusive: option 'none' does not exist" in joined
    assert "question channels, field specify: option 'other' does not exist" in joined
    assert all(" / " in e for e in found)  # bilingual


def test_the_please_specify_code_must_be_free():
    found = errors("""
        questions:
          - {code: q, type: single_choice, label: {zh: 问}, options: [{code: other, label: {zh: 其他}}], specify: other}
          - {code: q_other, type: text, label: {zh: 另一个}}
        """)
    assert len(found) == 1 and "the 'please specify' text is stored as 'q_other', but question #2 has that code" in found[0]


def test_later_questions_may_refer_to_the_specify_text_but_not_the_question_itself():
    parse_questionnaire_text(HEADER + textwrap.dedent("""
        questions:
          - {code: q, type: single_choice, label: {zh: 问}, options: [{code: other, label: {zh: 其他}}], specify: other}
          - {code: why, type: text, label: {zh: "您写了${q_other}，为什么？"}, relevant: "${q_other} != ''"}
        """))
    found = errors("""
        questions:
          - {code: q, type: single_choice, label: {zh: 问}, relevant: "${q_other} = ''",
             options: [{code: other, label: {zh: 其他}}], specify: other}
        """)
    assert any("comes after this one" in e for e in found), found


# ------------------------------------------------------------------------------------ answer rules

def test_a_note_stores_nothing_and_the_specify_text_only_with_its_option():
    forged = {"consent": "I agree", **GOOD, "where_heard": "street", "where_heard_other": "不该保存"}
    cleaned = clean_answers(CONSTRUCTS, forged)
    assert cleaned == {**GOOD, "where_heard": "street"}
    assert validate_answers(CONSTRUCTS, forged) == {}
    # The text is masked like every free-text answer.
    cleaned = clean_answers(CONSTRUCTS, {**GOOD, "channels_other": "打电话13912345678"})
    assert "13912345678" not in cleaned["channels_other"]
    # Chosen but not specified: asked for, under its own box.
    assert validate_answers(CONSTRUCTS, {**GOOD, "channels_other": " "}) == {"channels_other": "请注明"}
    assert AnswerRules(CONSTRUCTS).problems({**GOOD, "channels_other": " "}, "en") == {"channels_other": "Please specify"}


@pytest.mark.parametrize("channels, zh, en", [
    (["tv", "online", "posters"], "最多只能选 2 项", "Please choose at most 2 options"),
    (["tv", "none"], "选了“以上都没有”就不能再选其他选项", "“None of the above” cannot be chosen together with other options"),
])
def test_too_many_choices_or_an_exclusive_option_with_others_is_refused_in_both_languages(channels, zh, en):
    answers = {**GOOD, "channels": channels}
    assert validate_answers(CONSTRUCTS, answers) == {"channels": zh}
    assert validate_answers(CONSTRUCTS, answers, "en") == {"channels": en}
    assert answer_problems(CONSTRUCTS, answers) == {"channels": zh}
    rules = AnswerRules(CONSTRUCTS)
    assert rules.problems(answers, "en") == {"channels": en}
    # Column by column (the bulk import) says the same of the same answers.
    columns = rules.columns([GOOD, answers, {**GOOD, "channels": ["none"]}])
    assert columns.problems == {1: {"channels": zh}}


def test_scoring_reads_codes_whatever_order_the_options_were_shown_in():
    assert score_answers(CONSTRUCTS, {**GOOD, "values_quiz": "b"}) == {"values_quiz": 1}
    assert score_answers(CONSTRUCTS, {**GOOD, "values_quiz": "a"}) == {"values_quiz": 0}
    assert score_answers(CONSTRUCTS, {**GOOD, "values_quiz": "unknown"}) == {"values_quiz": None}


def test_the_rules_agree_with_the_row_they_store():
    rules = AnswerRules(CONSTRUCTS)
    problems, row = rules.row("r1", 1, 1, 1, {"consent": "x", **GOOD}, "self", None, None, None)
    assert problems == {} and row["answers"] == GOOD and row["scores"] == {"values_quiz": 1}
    columns = rules.columns([{"consent": "x", **GOOD}])
    assert columns.answers_json == ['{"channels":["tv","other"],"channels_other":"社区公告栏","values_quiz":"b"}']


# ------------------------------------------------------------------------------------ order and paging

def test_shuffled_options_are_stable_per_respondent_and_keep_closing_options_in_place():
    quiz = CONSTRUCTS.question("values_quiz")
    orders = {tuple(quiz.option_order(f"respondent-{n}")) for n in range(40)}
    assert len(orders) > 5  # respondents see different orders …
    assert quiz.option_order("respondent-1") == quiz.option_order("respondent-1")  # … each always the same
    for order in orders:
        assert sorted(order) == sorted(quiz.option_codes) and order[-1] == "unknown"  # 不知道 stays last
    channels = CONSTRUCTS.question("channels")
    assert channels.option_order("respondent-1") == list(channels.option_codes)  # not shuffled: declared order


def test_the_specify_box_stays_on_its_question_s_step():
    steps = survey_steps(CONSTRUCTS, max_per_step=1)
    assert [[q.code for q in step] for step in steps] == [
        ["consent"], ["channels", "channels_other"], ["values_quiz"], ["where_heard", "where_heard_other"]]
    # Shown (and so kept) only when its option is chosen.
    seen = [q.code for q in visible_questions(CONSTRUCTS, {"channels": ["tv"], "where_heard": "elsewhere"})]
    assert "channels_other" not in seen and "where_heard_other" in seen


def test_single_pass_and_column_rules_equal_the_reference_rules_on_random_and_forged_answers():
    """The differential test of tests/test_bench.py, on this questionnaire: every path (validate,
    clean, score; AnswerRules one by one and column by column) says the same of the same answers."""
    import random

    rng = random.Random(16)
    channels = list(CONSTRUCTS.question("channels").option_codes)
    samples = []
    for _ in range(400):
        answers = {"consent": rng.choice([None, "x", ["forged"]]),
                   "channels": rng.sample(channels, rng.randint(0, 4)) if rng.random() < 0.9 else rng.choice(["tv", 3]),
                   "channels_other": rng.choice([None, "", " 公告栏 ", 7, "x" * 120]),
                   "values_quiz": rng.choice(["a", "b", "unknown", "z", None, ["b"]]),
                   "where_heard": rng.choice(["street", "elsewhere", None, "nowhere"]),
                   "where_heard_other": rng.choice([None, "车站", ""])}
        samples.append({k: v for k, v in answers.items() if v is not None or rng.random() < 0.5})
    rules = AnswerRules(CONSTRUCTS)
    for lang in ("zh", "en"):
        columns = rules.columns(samples, lang)
        for i, answers in enumerate(samples):
            problems, cleaned, eligible, scores = rules.apply(answers, lang)
            assert problems == validate_answers(CONSTRUCTS, answers, lang), answers
            assert cleaned == clean_answers(CONSTRUCTS, answers) and "consent" not in cleaned
            assert scores == score_answers(CONSTRUCTS, answers)
            assert columns.problems.get(i, {}) == problems, answers
    assert any(columns.problems) and len(columns.problems) < len(samples)


def test_the_version_diff_names_the_new_fields():
    from dataclasses import replace

    from questionnaires import Questionnaire
    from questionnaires.diff import diff_questionnaires, field_name

    changed = Questionnaire(**{**{f: getattr(CONSTRUCTS, f) for f in ("code", "version", "title", "intro", "thanks",
                                                                       "sections")},
                               "questions": tuple(replace(q, max_choices=3) if q.code == "channels" else
                                                  replace(q, randomize=False) if q.code == "values_quiz" else q
                                                  for q in CONSTRUCTS.questions)})
    changes = {(c.question, c.field): (c.old, c.new) for c in diff_questionnaires(CONSTRUCTS, changed)}
    assert changes == {("channels", "max_choices"): (2, 3), ("values_quiz", "randomize"): (True, None)}
    assert (field_name("max_choices"), field_name("randomize", "en")) == ("最多可选项数", "shuffled options")
