"""Date, time and date-time questions: the loader's checks, the stored ISO text, the messages in both
languages, skip logic and piping, the answer rules' single pass, and reading typed-in cells."""
from __future__ import annotations

import textwrap
from datetime import date, datetime, time
from pathlib import Path

import pytest

from questionnaires import (
    QuestionnaireError,
    clean_answers,
    load_questionnaire,
    parse_questionnaire_text,
    questionnaire_from_dict,
    score_answers,
    validate_answers,
    visible_questions,
)
from questionnaires.answer_rules import AnswerRules, answer_problems
from questionnaires.piping import pipe
from questionnaires.typed_answers import read_typed_answer

DATES = load_questionnaire(Path(__file__).with_name("dates.yaml"))
GOOD = {"resident": "yes", "visit_day": "2025-03-08", "visit_time": "09:15", "market_clean": "satisfied",
        "recent_event": "2025-02-14T18:30"}


def errors(body: str) -> list[str]:
    text = "code: t\nversion: 1\ntitle: {zh: 测试}\nquestions:\n" + textwrap.indent(textwrap.dedent(body), "  ")
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire_text(text)
    return info.value.errors


def test_the_three_kinds_load_with_bounds_and_keep_them_in_the_stored_form():
    day = DATES.question("visit_day")
    assert (day.type, day.earliest, day.latest) == ("date", "2024-01-01", "2026-12-31")
    assert [q.type for q in DATES.questions] == ["yes_no", "date", "time", "satisfaction", "datetime", "note"]
    again = questionnaire_from_dict(DATES.to_dict())
    assert again == DATES and again.content_hash() == DATES.content_hash()
    assert "earliest" not in DATES.question("visit_time").to_dict()  # written only when used: old hashes stay


def test_bad_bounds_options_indicators_and_conditions_are_each_reported_in_both_languages():
    messages = errors("""\
        - {code: d, type: date, label: {zh: 日期}, earliest: '2024-13-01', latest: '2024-02-30'}
        - {code: e, type: date, label: {zh: 日期}, earliest: '2024-12-01', latest: '2024-01-01', indicator: awareness}
        - {code: t, type: time, label: {zh: 时间}, earliest: '2024-01-01', options: [{code: a, label: {zh: 甲}}]}
        - {code: f, type: datetime, label: {zh: 时刻}, relevant: "${e} >= today()"}
        - {code: g, type: text, label: {zh: 文字}, relevant: "${e} >= '2024/06/01' or ${t} < 8"}
    """)
    text = "\n".join(messages)
    assert "question d, field earliest: '2024-13-01' is not a date: write it as 2024-01-01" in text
    assert "问题 d 的字段 latest: '2024-02-30' 不是日期" in text
    assert "question e, field indicator: a date question cannot count towards an indicator" in text
    assert "question e, field earliest: earliest 2024-12-01 is after latest 2024-01-01" in text
    assert "question t, field earliest: only date questions have this field" in text
    assert "question t, field options: a time question cannot have options" in text
    assert "today() is not supported: a condition cannot use the current date or time" in text
    assert "不支持 today()" in text
    assert "question 'e' asks for a date: compare it with one written as '2024-05-01', not '2024/06/01'" in text
    assert "a condition cannot compare the time question 't' with a time: ODK Collect compares times differently" in text


def test_answers_are_stored_as_iso_text_whatever_the_widget_or_device_sent():
    sent = {**GOOD, "visit_day": date(2025, 3, 8), "visit_time": time(9, 15, 42),
            "recent_event": datetime(2025, 2, 14, 18, 30)}
    assert clean_answers(DATES, sent) == GOOD
    assert clean_answers(DATES, {**GOOD, "visit_time": " 9:15 ", "recent_event": "2025-02-14 18:30:00"}) == GOOD
    assert validate_answers(DATES, GOOD) == {}
    assert score_answers(DATES, GOOD) == {"market_clean": 1}  # a date is never an indicator


@pytest.mark.parametrize(("code", "value", "zh", "en"), [
    ("visit_day", "tomorrow", "请填写日期（如 2024-05-01）", "Please enter a date such as 2024-05-01"),
    ("visit_day", "2025-02-30", "请填写日期（如 2024-05-01）", "Please enter a date such as 2024-05-01"),
    ("visit_day", 20250308, "请填写日期（如 2024-05-01）", "Please enter a date such as 2024-05-01"),
    ("visit_day", "2023-12-31", "请填写2024-01-01 到 2026-12-31 之间的日期",
     "Please enter a date from 2024-01-01 to 2026-12-31"),
    ("visit_time", "25:00", "请填写时间（如 08:30）", "Please enter a time such as 08:30"),
    ("recent_event", "2025-02-14", "请填写日期和时间（如 2024-05-01 08:30）",
     "Please enter a date and time such as 2024-05-01 08:30"),
])
def test_a_malformed_or_out_of_range_value_gets_a_clear_message(code, value, zh, en):
    answers = {**GOOD, code: value}
    assert validate_answers(DATES, answers) == {code: zh}
    assert validate_answers(DATES, answers, "en") == {code: en}
    assert answer_problems(DATES, answers, "en") == {code: en}


def test_skip_logic_compares_dates_and_piping_shows_them():
    assert [q.code for q in visible_questions(DATES, GOOD)][-2:] == ["recent_event", "thanks_volunteer"]
    assert "thanks_volunteer" not in [q.code for q in visible_questions(DATES, {**GOOD, "recent_event": "2024-12-31T23:59"})]
    early = {**GOOD, "visit_day": "2024-12-31"}
    assert "recent_event" not in [q.code for q in visible_questions(DATES, early)]
    assert "recent_event" not in clean_answers(DATES, early)  # a hidden answer is not kept
    label = DATES.question("market_clean").label
    assert pipe(label["en"], GOOD, DATES, "en") == "Were you satisfied with the market you visited on 2025-03-08?"
    assert pipe(label["zh"], {}, DATES) == "您在 … 去的农贸市场环境卫生满意吗？"


def test_the_single_pass_rules_agree_with_the_reference_functions():
    rules = AnswerRules(DATES)
    for answers in (GOOD, {**GOOD, "visit_day": "2024-12-31"}, {**GOOD, "visit_time": "25:00"},
                    {**GOOD, "visit_day": date(2025, 3, 8)}, {**GOOD, "visit_day": ["forged"]}, {"resident": "no"}):
        problems, cleaned, _, scores = rules.apply(answers, "en")
        assert problems == answer_problems(DATES, answers, "en")
        if not problems:
            assert cleaned == clean_answers(DATES, answers)
            assert scores == score_answers(DATES, answers)


@pytest.mark.parametrize(("code", "cell", "stored"), [
    ("visit_day", datetime(2025, 3, 8), "2025-03-08"),
    ("visit_day", "2025/3/8", "2025-03-08"),
    ("visit_day", "2025年3月8日", "2025-03-08"),
    ("visit_time", time(9, 15), "09:15"),
    ("visit_time", "９:１５", "09:15"),
    ("recent_event", "2025-02-14 18:30", "2025-02-14T18:30"),
    ("recent_event", datetime(2025, 2, 14, 18, 30), "2025-02-14T18:30"),
])
def test_typed_in_cells_are_read_as_the_stored_text(code, cell, stored):
    assert read_typed_answer(DATES.question(code), cell, None, "zh") == (stored, None)


def test_a_typed_in_cell_that_is_no_date_is_named():
    assert read_typed_answer(DATES.question("visit_day"), "next week", None, "en") == (
        None, "“next week” is not a date: enter a date such as 2024-05-01")
    assert read_typed_answer(DATES.question("visit_time"), "中午", None, "zh") == (
        None, "“中午”不是时间，请填写时间（如 08:30）")


def test_the_import_columns_equal_the_row_rules_on_synthetic_and_forged_dates():
    import numpy as np

    from data.demo import synthetic_answers
    from data.db import json_text
    from tests.test_bench import _forged_variants

    rng = np.random.default_rng(16)
    samples = [synthetic_answers(DATES, rng, {"satisfaction": 0.9}) for _ in range(60)]
    samples += [variant for answers in samples[:30] for variant in _forged_variants(answers, rng)]
    odd = [date(2025, 3, 8), time(9, 15), datetime(2025, 2, 14, 18, 30), "2025/3/8", "9:15", "2025-02-30", "24:00",
           "2025-02-14 18:30:59", 20250308, ["2025-03-08"], "", None]
    samples += [{**GOOD, code: value} for code in ("visit_day", "visit_time", "recent_event") for value in odd]
    for lang in ("zh", "en"):
        columns = AnswerRules(DATES).columns(samples, lang)
        for i, answers in enumerate(samples):
            problems, row = AnswerRules(DATES).row("id", 1, 2, 3, answers, "self", None, None, None, lang)
            assert problems == answer_problems(DATES, answers, lang), answers
            assert columns.problems.get(i, {}) == problems, answers
            assert columns.answers_json[i] == json_text(row["answers"]), answers


def test_the_yaml_download_and_the_version_diff_keep_the_bounds():
    from data.questionnaire_versions import to_yaml
    from questionnaires.diff import diff_questionnaires

    text = to_yaml(DATES)
    assert "earliest: '2024-01-01'" in text
    again = parse_questionnaire_text(text)
    assert again == DATES and again.content_hash() == DATES.content_hash()
    moved = parse_questionnaire_text(text.replace("latest: '2026-12-31'", "latest: '2027-06-30'"))
    assert [(c.question, c.field, c.old, c.new) for c in diff_questionnaires(DATES, moved)] == [
        ("visit_day", "latest", "2026-12-31", "2027-06-30")]


def test_the_preview_says_a_date_condition_in_words():
    from questionnaires.diff import describe_condition

    assert describe_condition(DATES, DATES.question("recent_event").relevant) == (
        "第2题“您最近一次去农贸市场是哪一天？” ≥ 2025-01-01")
    assert describe_condition(DATES, DATES.question("thanks_volunteer").relevant, "en") == (
        "Q5 “When did you last take part in volunteer work?” ≥ 2025-01-01T00:00 and Q3 “At about what time?” is answered")


def test_an_unquoted_bound_is_the_iso_text_as_written():
    text = "code: t\nversion: 1\ntitle: {zh: 测试}\nquestions:\n  - {code: d, type: date, label: {zh: 日期}, earliest: 2024-01-01}\n"
    assert parse_questionnaire_text(text).question("d").earliest == "2024-01-01"
