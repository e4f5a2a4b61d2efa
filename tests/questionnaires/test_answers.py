import textwrap

import pytest

from questionnaires import (
    clean_answers,
    demographics,
    is_eligible,
    load_default,
    parse_questionnaire_text,
    score_answers,
    validate_answers,
    visible_questions,
)

SURVEY_YAML = """
code: t
version: 1
title: {zh: 测试问卷}
questions:
  - {code: resident, type: yes_no, label: {zh: 满半年吗}, screening: {eligible: [yes]}}
  - code: age
    type: single_choice
    demographic: age_group
    label: {zh: 年龄}
    options:
      - {code: under_18, label: {zh: 18岁以下}}
      - {code: 18_59, label: {zh: 18—59岁}}
      - {code: 60_plus, label: {zh: 60岁及以上}}
    screening: {eligible: [18_59, 60_plus]}
  - {code: sex, type: single_choice, demographic: sex, required: false, label: {zh: 性别},
     options: [{code: male, label: {zh: 男}}, {code: female, label: {zh: 女}}]}
  - code: aware
    type: yes_no
    indicator: awareness
    label: {zh: 知道吗}
    options:
      - {code: yes, label: {zh: 知道}}
      - {code: no, label: {zh: 不知道}}
      - {code: dont_know, label: {zh: 不清楚}}
    invalid: [dont_know]
  - code: channels
    type: multiple_choice
    indicator: participation
    label: {zh: 通过哪些方式参与}
    relevant: "${aware} = 'yes'"
    options:
      - {code: volunteer, label: {zh: 志愿服务}}
      - {code: cleanup, label: {zh: 环境整治}}
      - {code: none, label: {zh: 都没有}}
      - {code: forgot, label: {zh: 记不清}}
    positive: [volunteer, cleanup]
    invalid: [forgot]
  - {code: sat, type: satisfaction, indicator: satisfaction, label: {zh: 满意吗}}
  - {code: quiz, type: quiz, indicator: awareness, label: {zh: 哪个对},
     options: [{code: a, label: {zh: 甲}}, {code: b, label: {zh: 乙}}], correct: [b]}
  - {code: years, type: number, label: {zh: 居住年数}, required: false, min: 0, max: 100, integer: true}
  - {code: adults, type: number, label: {zh: 家中成年人数}, min: 1, relevant: "${years} >= 1"}
  - {code: note, type: text, label: {zh: 建议}, required: false, max_length: 10}
"""


@pytest.fixture(scope="module")
def survey():
    return parse_questionnaire_text(textwrap.dedent(SURVEY_YAML), "survey.yaml")


COMPLETE = {
    "resident": "yes",
    "age": "18_59",
    "sex": "female",
    "aware": "yes",
    "channels": ["volunteer"],
    "sat": "satisfied",
    "quiz": "b",
}


def codes(questions):
    return [q.code for q in questions]


# ---------------------------------------------------------------------------------------------- visibility

def test_visible_questions_apply_skip_logic(survey):
    assert "channels" in codes(visible_questions(survey, {"aware": "yes"}))
    assert "channels" not in codes(visible_questions(survey, {"aware": "no"}))
    assert "channels" not in codes(visible_questions(survey, {}))
    assert "adults" in codes(visible_questions(survey, {"years": 3}))
    assert "adults" not in codes(visible_questions(survey, {"years": 0}))


def test_failed_screening_hides_everything_after_it(survey):
    assert codes(visible_questions(survey, {"resident": "no"})) == ["resident"]
    assert codes(visible_questions(survey, {"resident": "yes", "age": "under_18"})) == ["resident", "age"]


def test_clean_answers_drops_hidden_and_empty_and_strips_text(survey):
    answers = dict(
        COMPLETE,
        aware="no",  # hides `channels`, whose answer must go
        note="  很好  ",
        years="",
        adults=None,
        stranger="not a question",
    )
    cleaned = clean_answers(survey, answers)
    assert "channels" not in cleaned and "stranger" not in cleaned
    assert "years" not in cleaned and "adults" not in cleaned
    assert cleaned["note"] == "很好"
    assert clean_answers(survey, {"channels": [], "aware": "yes"}) == {"aware": "yes"}
    assert clean_answers(survey, {"aware": "yes", "channels": [" volunteer ", "", "volunteer"]})["channels"] == ["volunteer"]


def test_numbers_typed_as_text_are_read(survey):
    cleaned = clean_answers(survey, dict(COMPLETE, years=" 12 ", adults="2"))
    assert cleaned["years"] == 12 and isinstance(cleaned["years"], int)
    assert cleaned["adults"] == 2


# ---------------------------------------------------------------------------------------------- validation

def test_complete_answers_are_valid(survey):
    assert validate_answers(survey, COMPLETE) == {}


def test_missing_required_answers(survey):
    problems = validate_answers(survey, {"resident": "yes"})
    assert problems == {code: "请回答此题" for code in ("age", "aware", "sat", "quiz")}
    assert validate_answers(survey, {"resident": "yes"}, lang="en")["age"] == "Please answer this question"


def test_hidden_required_question_is_not_required(survey):
    answers = dict(COMPLETE, aware="no")
    del answers["channels"]
    assert validate_answers(survey, answers) == {}
    # `adults` is required but only shown when years >= 1
    assert validate_answers(survey, dict(COMPLETE, years=5)) == {"adults": "请回答此题"}


def test_ineligible_respondent_needs_no_further_answers(survey):
    assert validate_answers(survey, {"resident": "no"}) == {}


def test_unknown_option_codes(survey):
    problems = validate_answers(survey, dict(COMPLETE, sat="great", channels=["volunteer", "bribe"]))
    assert problems == {"sat": "请从选项中选择一项", "channels": "请从选项中选择"}
    assert validate_answers(survey, dict(COMPLETE, sat="great"), lang="en") == {"sat": "Please choose one of the options"}


@pytest.mark.parametrize(
    "years, zh, en",
    [
        (101, "请输入 0 到 100 之间的整数", "Please enter a whole number between 0 and 100"),
        (-1, "请输入 0 到 100 之间的整数", "Please enter a whole number between 0 and 100"),
        (2.5, "请输入 0 到 100 之间的整数", "Please enter a whole number between 0 and 100"),
        ("many", "请输入 0 到 100 之间的整数", "Please enter a whole number between 0 and 100"),
    ],
)
def test_number_out_of_range_or_not_whole(survey, years, zh, en):
    answers = dict(COMPLETE, years=years, adults=2)
    assert validate_answers(survey, answers)["years"] == zh
    assert validate_answers(survey, answers, lang="en")["years"] == en


def test_number_with_only_a_minimum(survey):
    answers = dict(COMPLETE, years=3, adults=0)
    assert validate_answers(survey, answers) == {"adults": "请输入不小于 1 的数字"}
    assert validate_answers(survey, dict(answers, adults=1.5)) == {}
    assert validate_answers(survey, dict(COMPLETE, years=3.0, adults=2)) == {}  # 3.0 is a whole number


def test_text_too_long(survey):
    assert validate_answers(survey, dict(COMPLETE, note="字" * 11)) == {"note": "请不要超过 10 个字"}
    assert validate_answers(survey, dict(COMPLETE, note="字" * 11), lang="en") == {"note": "Please use at most 10 characters"}
    assert validate_answers(survey, dict(COMPLETE, note="字" * 10)) == {}


def test_unknown_language_falls_back_to_chinese(survey):
    assert validate_answers(survey, {}, lang="fr")["resident"] == "请回答此题"


FORGED = [
    None,
    "resident=yes",
    42,
    ["resident", "yes"],
    {"resident": ["yes"]},
    {"resident": {"$ne": None}},
    {"resident": True},
    {"resident": "yes", "age": 18},
    {"resident": "yes", "age": "18_59", "aware": "yes", "channels": "volunteer"},
    {"resident": "yes", "age": "18_59", "aware": "yes", "channels": [["volunteer"]]},
    {"resident": "yes", "age": "18_59", "aware": "yes", "channels": [{"a": 1}, None, 3]},
    dict(COMPLETE, years=float("nan")),
    dict(COMPLETE, years=float("inf")),
    dict(COMPLETE, years=True),
    dict(COMPLETE, years=[1]),
    dict(COMPLETE, note=12345),
    dict(COMPLETE, note=["x"]),
    dict(COMPLETE, sat=None, quiz=object()),
    {1: "yes", None: "no", ("t",): 1},
]


@pytest.mark.parametrize("answers", FORGED, ids=range(len(FORGED)))
def test_forged_input_never_raises(survey, answers):
    problems = validate_answers(survey, answers)
    assert isinstance(problems, dict) and all(isinstance(m, str) for m in problems.values())
    scores = score_answers(survey, answers)
    assert all(v in (0, 1, None) for v in scores.values())
    assert isinstance(is_eligible(survey, answers), bool)
    assert set(demographics(survey, answers)) == {"age_group", "sex"}
    clean_answers(survey, answers)
    visible_questions(survey, answers)


def test_forged_values_are_reported_not_accepted(survey):
    assert validate_answers(survey, dict(COMPLETE, years=True))["years"] == "请输入 0 到 100 之间的整数"
    assert validate_answers(survey, dict(COMPLETE, years=float("nan")))["years"] == "请输入 0 到 100 之间的整数"
    assert validate_answers(survey, dict(COMPLETE, note=12345))["note"] == "请输入文字"
    assert validate_answers(survey, dict(COMPLETE, channels="volunteer"))["channels"] == "请从选项中选择"
    assert validate_answers(survey, dict(COMPLETE, sat=["satisfied"]))["sat"] == "请从选项中选择一项"
    assert validate_answers(survey, None) == {code: "请回答此题" for code in ("resident", "age", "aware", "sat", "quiz")}


# ---------------------------------------------------------------------------------------------- scoring

def test_scores_of_complete_answers(survey):
    assert score_answers(survey, COMPLETE) == {"aware": 1, "channels": 1, "sat": 1, "quiz": 1}


def test_scores_negative_and_invalid(survey):
    answers = dict(COMPLETE, aware="dont_know", sat="unknown", quiz="a")
    del answers["channels"]
    # aware=dont_know hides `channels`: it is absent, not None
    assert score_answers(survey, answers) == {"aware": None, "sat": None, "quiz": 0}
    assert score_answers(survey, dict(COMPLETE, sat="neutral"))["sat"] == 0
    assert score_answers(survey, dict(COMPLETE, sat="very_satisfied"))["sat"] == 1
    assert score_answers(survey, dict(COMPLETE, sat="very_dissatisfied"))["sat"] == 0


def test_hidden_items_are_absent_from_scores(survey):
    scores = score_answers(survey, dict(COMPLETE, aware="no"))
    assert "channels" not in scores
    assert scores["aware"] == 0


def test_unanswered_and_unknown_codes_score_none(survey):
    scores = score_answers(survey, {"resident": "yes", "age": "60_plus", "aware": "yes", "sat": "great"})
    assert scores == {"aware": 1, "channels": None, "sat": None, "quiz": None}


@pytest.mark.parametrize(
    "selected, expected",
    [
        (["volunteer"], 1),
        (["none", "cleanup"], 1),  # any positive option makes it positive
        (["forgot", "volunteer"], 1),
        (["none"], 0),
        (["none", "forgot"], 0),  # a valid non-positive answer among invalid ones
        (["forgot"], None),  # all invalid
        (["bogus"], None),  # unknown codes are ignored
        ([], None),
    ],
)
def test_multiple_choice_scoring(survey, selected, expected):
    assert score_answers(survey, dict(COMPLETE, channels=selected))["channels"] == expected


def test_ineligible_respondent_has_no_scores(survey):
    assert score_answers(survey, {"resident": "no", "aware": "yes"}) == {}


# ---------------------------------------------------------------------------------------------- eligibility and demographics

@pytest.mark.parametrize(
    "answers, expected",
    [
        (COMPLETE, True),
        ({"resident": "yes", "age": "60_plus"}, True),
        ({"resident": "no", "age": "60_plus"}, False),
        ({"resident": "yes", "age": "under_18"}, False),
        ({"resident": "yes"}, False),  # age unanswered: we cannot tell
        ({}, False),
        ({"resident": "maybe", "age": "18_59"}, False),
    ],
)
def test_is_eligible(survey, answers, expected):
    assert is_eligible(survey, answers) is expected


def test_demographics(survey):
    assert demographics(survey, COMPLETE) == {"age_group": "18_59", "sex": "female"}
    assert demographics(survey, {"resident": "yes", "age": "60_plus"}) == {"age_group": "60_plus", "sex": None}
    assert demographics(survey, {"resident": "yes", "age": "ninety", "sex": "other"}) == {"age_group": None, "sex": None}


def test_demographics_without_demographic_questions():
    q = parse_questionnaire_text("code: x\nversion: 1\ntitle: {zh: 问卷}\nquestions:\n  - {code: a, type: yes_no, label: {zh: 问}}\n")
    assert demographics(q, {"a": "yes"}) == {"age_group": None, "sex": None}
    assert is_eligible(q, {}) is True


# ---------------------------------------------------------------------------------------------- the default questionnaire

def default_complete_answers():
    q = load_default()
    answers = {}
    for question in q.questions:
        if question.type in ("yes_no", "single_choice", "satisfaction", "quiz"):
            answers[question.code] = sorted(question.positive)[0] if question.indicator else question.option_codes[0]
        elif question.type == "multiple_choice":
            answers[question.code] = [question.option_codes[0]]
    answers["age_group"] = "30_39"
    answers["sex"] = "male"
    answers["resident"] = "yes"
    answers["years_in_city"] = 12
    return q, answers


def test_default_questionnaire_full_positive_respondent():
    q, answers = default_complete_answers()
    assert validate_answers(q, answers) == {}
    assert is_eligible(q, answers)
    scores = score_answers(q, answers)
    assert set(scores) == {x.code for x in q.indicator_items()}
    assert all(v == 1 for v in scores.values())
    assert demographics(q, answers) == {"age_group": "30_39", "sex": "male"}


def test_default_questionnaire_skip_logic_and_screening():
    q, answers = default_complete_answers()
    assert "learn_channels" not in clean_answers(q, dict(answers, aware_campaign="no"))
    assert validate_answers(q, dict(answers, years_in_city=101))["years_in_city"] == "请输入 0 到 100 之间的整数"
    assert not is_eligible(q, dict(answers, age_group="under_18"))
    assert not is_eligible(q, dict(answers, resident="no"))
    assert score_answers(q, dict(answers, support_campaign="indifferent"))["support_campaign"] == 0
    assert score_answers(q, dict(answers, support_campaign="unsure"))["support_campaign"] is None
    assert score_answers(q, dict(answers, core_values_quiz="not_sure"))["core_values_quiz"] == 0
    assert score_answers(q, dict(answers, aware_practice_station="dont_know"))["aware_practice_station"] is None
    assert score_answers(q, dict(answers, sat_back_streets="unknown"))["sat_back_streets"] is None
    empty = validate_answers(q, {})
    assert {"resident", "age_group", "sex", "aware_campaign", "sat_campaign_overall"} <= set(empty)
    assert "suggestion" not in empty and "years_in_city" not in empty and "learn_channels" not in empty
