import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from questionnaires import (
    INDICATORS,
    Questionnaire,
    QuestionnaireError,
    bundled_questionnaire_paths,
    default_questionnaire_path,
    load_default,
    load_questionnaire,
    parse_questionnaire,
    parse_questionnaire_text,
    questionnaire_from_dict,
    text,
)

# Every inline questionnaire below starts with this header; the test shows the questions.
HEADER = "code: t\nversion: 1\ntitle: {zh: 测试问卷}\n"


def parse(body: str, source: str = "t.yaml") -> Questionnaire:
    return parse_questionnaire_text(HEADER + textwrap.dedent(body), source)


def errors(body: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        parse(body)
    return info.value.errors


def assert_one_error(body: str, *fragments: str) -> str:
    found = errors(body)
    assert len(found) == 1, found
    for fragment in fragments:
        assert fragment in found[0], (fragment, found[0])
    assert found[0].startswith("t.yaml: ")
    return found[0]


# ---------------------------------------------------------------------------------------------- bundled files

@pytest.mark.parametrize("path", bundled_questionnaire_paths(), ids=lambda p: p.name)
def test_bundled_questionnaires_load_and_round_trip(path):
    q = load_questionnaire(path)
    assert q.indicators() == list(INDICATORS)
    d = q.to_dict()
    json.dumps(d)  # JSON-serialisable
    back = questionnaire_from_dict(json.loads(json.dumps(d)))
    assert back == q
    assert back.to_dict() == d
    assert back.content_hash() == q.content_hash()


def test_there_are_two_bundled_questionnaires():
    names = [p.name for p in bundled_questionnaire_paths()]
    assert names[0] == "default.yaml" and "short_civic.yaml" in names


def test_default_questionnaire_content():
    q = load_default()
    assert default_questionnaire_path().name == "default.yaml"
    assert 25 <= len(q.questions) <= 30
    assert [s.code for s in q.sections] == ["screening", "awareness", "support", "participation", "satisfaction", "suggestions"]
    assert q.question("resident").screening_eligible == {"yes"}
    age = q.question("age_group")
    assert age.demographic == "age_group"
    assert age.option_codes == ("under_18", "18_29", "30_39", "40_49", "50_59", "60_plus")
    assert "under_18" not in age.screening_eligible
    assert q.question("sex").option_codes == ("male", "female")
    quiz = q.question("core_values_quiz")
    assert quiz.option_label(next(iter(quiz.correct))) == "爱国、敬业、诚信、友善"
    assert quiz.positive == quiz.correct
    support = q.question("support_campaign")
    assert support.positive == {"support"} and support.invalid == {"unsure"}
    assert "indifferent" in support.option_codes  # 无所谓: a valid answer, not positive
    satisfaction_items = {x.code for x in q.indicator_items("satisfaction")}
    assert {"sat_farmers_markets", "sat_back_streets", "sat_old_communities", "sat_campaign_overall"} <= satisfaction_items
    sat = q.question("sat_traffic_order")
    assert sat.positive == {"very_satisfied", "satisfied"} and sat.invalid == {"unknown"}
    assert sat.option_label("satisfied") == "比较满意"
    assert q.question("learn_channels").relevant and q.question("learn_channels").indicator is None
    years = q.question("years_in_city")
    assert (years.required, years.min, years.max, years.integer) == (False, 0, 100, True)
    assert q.question("suggestion").type == "text" and not q.question("suggestion").required
    for question in q.questions:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", question.code)
        assert question.label["zh"] and question.label.get("en")
    assert [x.code for x in q.indicator_items()] == [x.code for x in q.questions if x.indicator]


def test_text_falls_back_to_chinese():
    assert text({"zh": "知道", "en": "Yes"}, "en") == "Yes"
    assert text({"zh": "知道"}, "en") == "知道"
    assert text(None, "en") == ""
    q = parse("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问题}}
    """)
    assert q.question("a").text("en") == "问题"
    assert q.question("a").option_label("yes", "en") == "Yes"
    assert q.question("a").option_label("zzz") == "zzz"
    assert q.title == {"zh": "测试问卷"} and q.intro is None and q.sections == ()


def test_readme_example_is_valid():
    readme = (Path(default_questionnaire_path()).parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    q = parse_questionnaire_text(example, "README.md")
    assert q.question("resident").screening_eligible == {"yes"}
    assert q.question("aware_campaign").invalid == {"dont_know"}


def test_content_hash_changes_with_content():
    a = parse("questions:\n  - {code: a, type: yes_no, label: {zh: 问题}}\n")
    b = parse("questions:\n  - {code: a, type: yes_no, label: {zh: 问题二}}\n")
    assert a.content_hash() != b.content_hash()
    assert len(a.content_hash()) == 64


def test_question_lookup_and_indicators_order():
    q = parse("""
        questions:
          - {code: s, type: satisfaction, indicator: satisfaction, label: {zh: 满意吗}}
          - {code: a, type: yes_no, indicator: awareness, label: {zh: 知道吗}}
    """)
    assert q.indicators() == ["awareness", "satisfaction"]
    assert [x.code for x in q.indicator_items("awareness")] == ["a"]
    with pytest.raises(KeyError):
        q.question("nope")


# ---------------------------------------------------------------------------------------------- YAML 1.1 traps

def test_yes_no_codes_stay_strings():
    q = parse("""
        questions:
          - code: a
            type: yes_no
            label: {zh: 知道吗}
            options:
              - {code: yes, label: {zh: 知道, en: Yes}}
              - {code: no, label: {zh: 不知道, en: No}}
              - {code: on, label: {zh: 在, en: On}}
            positive: [yes]
            screening: {eligible: [yes, on]}
    """)
    a = q.question("a")
    assert a.option_codes == ("yes", "no", "on")
    assert a.positive == {"yes"} and a.screening_eligible == {"yes", "on"}
    assert a.option_label("yes", "en") == "Yes"  # `en: Yes` is text, not True


def test_underscore_numbers_stay_strings():
    q = parse("""
        questions:
          - code: age
            type: single_choice
            label: {zh: 年龄}
            options:
              - {code: 18_29, label: {zh: 18—29岁}}
              - {code: 012, label: {zh: 零一二}}
    """)
    assert q.question("age").option_codes == ("18_29", "012")


def test_dict_from_plain_safe_load_with_booleans_is_accepted():
    data = yaml.safe_load(HEADER + "questions:\n  - {code: a, type: yes_no, label: {zh: 问}, screening: {eligible: [yes]}}\n")
    assert data["questions"][0]["screening"]["eligible"] == [True]
    assert parse_questionnaire(data).question("a").screening_eligible == {"yes"}


def test_integer_option_code_is_reported_with_a_hint():
    message = assert_one_error("""
        questions:
          - code: a
            type: single_choice
            label: {zh: 问}
            options: [{code: 1, label: {zh: 一}}]
    """, "问题 a 的字段 options[0].code", "question a, field options[0].code", "引号", "quotes")
    assert "1" in message


def test_duplicate_yaml_key_is_an_error():
    found = errors("""
        questions:
          - code: a
            type: yes_no
            label: {zh: 问}
            label: {zh: 又问}
    """)
    assert "duplicate key 'label'" in found[0] and "t.yaml" in found[0]


def test_yaml_syntax_error_names_the_line():
    found = errors("questions:\n  - {code: a, type: yes_no, label: {zh: 问, en: Why? no}}\n")
    assert "YAML" in found[0] and "line 5" in found[0] and "第 5 行" in found[0]


def test_missing_file():
    with pytest.raises(QuestionnaireError, match="nowhere.yaml"):
        load_questionnaire("/nonexistent/nowhere.yaml")


# ---------------------------------------------------------------------------------------------- schema errors

def test_example_message_format():
    message = assert_one_error("""
        questions:
          - code: aware_campaign
            type: yes_no
            label: {zh: 知道吗}
            positive: [maybe]
    """)
    assert message == (
        "t.yaml: 问题 aware_campaign 的字段 positive: 选项 maybe 不存在"
        " / question aware_campaign, field positive: option 'maybe' does not exist"
    )


def test_missing_required_field_names_the_field():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no}
    """, "问题 a 的字段 label: 必须填写", "question a, field label: is required")


def test_missing_top_level_field():
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire_text("code: t\nversion: 1\nquestions:\n  - {code: a, type: yes_no, label: {zh: 问}}\n", "x.yaml")
    assert info.value.errors == ["x.yaml: 字段 title: 必须填写 / field title: is required"]


def test_unknown_field_is_a_typo():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, requried: false}
    """, "问题 a 的字段 requried", "unknown field")


def test_unknown_type():
    assert_one_error("""
        questions:
          - {code: a, type: rating, label: {zh: 问}}
    """, "问题 a 的字段 type", "rating", "single_choice")


def test_bad_question_code_uses_index():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}}
          - {code: Bad-Code, type: yes_no, label: {zh: 问}}
    """, "问题 Bad-Code 的字段 code", "question Bad-Code, field code", "lower-case")
    assert_one_error("""
        questions:
          - {type: yes_no, label: {zh: 问}}
    """, "问题 #1 的字段 code: 必须填写", "question #1, field code: is required")


def test_label_must_have_chinese():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {en: Question}}
    """, "问题 a 的字段 label.zh: 必须填写", "question a, field label.zh: is required")


def test_all_errors_of_a_file_are_collected():
    found = errors("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, indicator: fame}
          - {code: b, type: yes_no, label: {zh: 问}, positive: [maybe]}
          - {code: c, type: number, label: {zh: 问}, min: 5, max: 1}
    """)
    assert len(found) == 3
    assert any("问题 a 的字段 indicator" in e for e in found)
    assert any("问题 b 的字段 positive" in e for e in found)
    assert any("问题 c 的字段 min" in e for e in found)


# ---------------------------------------------------------------------------------------------- semantic errors

def test_duplicate_question_code():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}}
          - {code: a, type: yes_no, label: {zh: 再问}}
    """, "问题 a 的字段 code: 问题代码重复", "duplicate question code")


def test_duplicate_option_code():
    assert_one_error("""
        questions:
          - code: a
            type: single_choice
            label: {zh: 问}
            options: [{code: x, label: {zh: 甲}}, {code: x, label: {zh: 乙}}]
    """, "问题 a 的字段 options: 选项代码 x 重复", "duplicate option code 'x'")


@pytest.mark.parametrize("field", ["positive", "invalid"])
def test_unknown_option_in_positive_or_invalid(field):
    assert_one_error(f"""
        questions:
          - {{code: s, type: satisfaction, label: {{zh: 满意吗}}, {field}: [great]}}
    """, f"问题 s 的字段 {field}: 选项 great 不存在", f"question s, field {field}: option 'great' does not exist")


def test_unknown_correct_option():
    assert_one_error("""
        questions:
          - code: q
            type: quiz
            label: {zh: 哪个对}
            options: [{code: a, label: {zh: 甲}}, {code: b, label: {zh: 乙}}]
            correct: [c]
    """, "问题 q 的字段 correct: 选项 c 不存在", "question q, field correct: option 'c' does not exist")


def test_unknown_screening_option():
    assert_one_error("""
        questions:
          - {code: r, type: yes_no, label: {zh: 满半年吗}, screening: {eligible: [yes, maybe]}}
    """, "问题 r 的字段 screening.eligible: 选项 maybe 不存在", "question r, field screening.eligible")


def test_positive_and_invalid_overlap():
    assert_one_error("""
        questions:
          - {code: s, type: satisfaction, label: {zh: 满意吗}, invalid: [unknown, satisfied]}
    """, "问题 s 的字段 positive: 选项 satisfied 同时出现在 positive 和 invalid 中", "'satisfied' is both positive and invalid")


def test_quiz_without_correct():
    assert_one_error("""
        questions:
          - code: q
            type: quiz
            label: {zh: 哪个对}
            options: [{code: a, label: {zh: 甲}}]
    """, "问题 q 的字段 correct: quiz 类型的问题必须指定正确答案", "question q, field correct: is required for a quiz question")


def test_correct_on_non_quiz():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, correct: [yes]}
    """, "问题 a 的字段 correct", "only quiz questions")


def test_choice_question_without_options():
    assert_one_error("""
        questions:
          - {code: a, type: single_choice, label: {zh: 问}}
    """, "问题 a 的字段 options", "is required for a single_choice question")


def test_yes_no_options_must_keep_yes_and_no():
    assert_one_error("""
        questions:
          - code: a
            type: yes_no
            label: {zh: 问}
            options: [{code: know, label: {zh: 知道}}, {code: no, label: {zh: 不知道}}]
    """, "问题 a 的字段 options", "codes yes and no")


@pytest.mark.parametrize("qtype", ["number", "text"])
def test_indicator_on_number_or_text(qtype):
    assert_one_error(f"""
        questions:
          - {{code: n, type: {qtype}, label: {{zh: 多少}}, indicator: participation}}
    """, "问题 n 的字段 indicator", f"a {qtype} question cannot count towards an indicator")


def test_indicator_needs_positive_options():
    assert_one_error("""
        questions:
          - code: a
            type: single_choice
            indicator: support
            label: {zh: 支持吗}
            options: [{code: support, label: {zh: 支持}}]
    """, "问题 a 的字段 positive", "needs at least one positive option")


def test_min_greater_than_max():
    assert_one_error("""
        questions:
          - {code: age, type: number, label: {zh: 年龄}, min: 130, max: 120}
    """, "问题 age 的字段 min: 最小值 130 大于最大值 120", "question age, field min: min 130 is greater than max 120")


def test_number_and_text_only_fields():
    found = errors("""
        questions:
          - {code: a, type: text, label: {zh: 问}, min: 1}
          - {code: b, type: number, label: {zh: 问}, max_length: 10}
    """)
    assert len(found) == 2
    assert "问题 a 的字段 min" in found[0] and "only number questions" in found[0]
    assert "问题 b 的字段 max_length" in found[1] and "only text questions" in found[1]


def test_relevant_unknown_question():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, relevant: "${ghost} = 'yes'"}
    """, "问题 a 的字段 relevant: 引用的问题 ghost 不存在", "refers to unknown question 'ghost'")


def test_relevant_later_question():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, relevant: "${b} = 'yes'"}
          - {code: b, type: yes_no, label: {zh: 问}}
    """, "问题 a 的字段 relevant", "refers to question 'b', which comes after this one")


def test_relevant_own_question():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, relevant: "${a} = 'yes'"}
    """, "问题 a 的字段 relevant", "its own question")


def test_relevant_parse_error_gives_position():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}}
          - {code: b, type: yes_no, label: {zh: 问}, relevant: "${a} == 'yes'"}
    """, "问题 b 的字段 relevant: 条件无法解析", "cannot parse the condition: at character 7")


def test_errors_are_in_file_order_and_broken_questions_still_get_condition_checks():
    found = errors("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}, indicator: fame}
          - {code: b, type: yes_no, label: {zh: 问}, relevant: "${a} = 'yes' and", help: 提示}
          - {code: c, type: yes_no, label: {zh: 问}, relevant: "${a} = 'yes'"}
    """)
    assert len(found) == 3, found
    assert "问题 a 的字段 indicator" in found[0]
    assert "问题 b 的字段 help" in found[1] and "问题 b 的字段 relevant" in found[2]
    assert "the condition ends too early" in found[2]
    # `a` exists (it is only malformed), so c's reference to it is not reported


def test_relevant_misspelt_option():
    assert_one_error("""
        questions:
          - {code: a, type: yes_no, label: {zh: 问}}
          - {code: b, type: yes_no, label: {zh: 问}, relevant: "${a} = 'yse'"}
    """, "问题 b 的字段 relevant: 问题 a 没有选项 yse", "question 'a' has no option 'yse'")


def test_one_question_per_demographic():
    assert_one_error("""
        questions:
          - {code: age1, type: single_choice, demographic: age_group, label: {zh: 年龄}, options: [{code: young, label: {zh: 年轻}}]}
          - {code: age2, type: single_choice, demographic: age_group, label: {zh: 年龄}, options: [{code: old, label: {zh: 年长}}]}
    """, "问题 age2 的字段 demographic", "question 'age1' is already the age_group question")


def test_undeclared_section():
    found = errors("""
        sections: [{code: one, title: {zh: 一}}]
        questions:
          - {code: a, section: two, type: yes_no, label: {zh: 问}}
    """)
    assert len(found) == 1 and "问题 a 的字段 section" in found[0] and "'two' is not declared" in found[0]


def test_screening_on_multiple_choice_rejected():
    assert_one_error("""
        questions:
          - code: a
            type: multiple_choice
            label: {zh: 问}
            options: [{code: x, label: {zh: 甲}}]
            screening: {eligible: [x]}
    """, "问题 a 的字段 screening", "only single_choice and yes_no")


def test_questionnaire_from_dict_rejects_wrong_shape():
    with pytest.raises(QuestionnaireError):
        questionnaire_from_dict({"code": "x"})


def test_round_trip_preserves_every_field():
    q = parse("""
        sections: [{code: s1, title: {zh: 一, en: One}}]
        intro: {zh: 你好}
        questions:
          - {code: r, section: s1, type: yes_no, label: {zh: 满半年吗}, help: {zh: 提示}, screening: {eligible: [yes]}}
          - {code: n, section: s1, type: number, label: {zh: 多少}, required: false, min: 0.5, max: 9, integer: false, relevant: "${r} = 'yes'"}
          - {code: m, type: multiple_choice, label: {zh: 哪些}, indicator: participation, options: [{code: x, label: {zh: 甲}}, {code: z, label: {zh: 丙}}], positive: [x], invalid: [z]}
          - {code: t, type: text, label: {zh: 建议}, max_length: 20}
    """)
    assert questionnaire_from_dict(q.to_dict()) == q
    assert q.to_dict()["questions"][0]["screening"] == {"eligible": ["yes"]}
    assert q.to_dict()["questions"][1]["relevant"] == "${r} = 'yes'"
