import textwrap

from questionnaires import load_default, parse_questionnaire_text
from questionnaires.paging import survey_steps


def test_default_steps_follow_sections_and_stay_short():
    q = load_default()
    steps = survey_steps(q)
    assert [x for step in steps for x in step] == list(q.questions)
    assert all(1 <= len(step) <= 5 for step in steps)
    assert all(len({x.section for x in step}) == 1 for step in steps)
    # nine satisfaction items: two pages of 5 and 4 rather than 5 and 4 of uneven topics
    assert [len(s) for s in steps if s[0].section == "satisfaction"] == [5, 4]


def test_questions_without_sections_are_grouped_and_split_evenly():
    body = "\n".join(f"  - {{code: q{i}, type: yes_no, label: {{zh: 问题{i}}}}}" for i in range(7))
    q = parse_questionnaire_text(textwrap.dedent("code: t\nversion: 1\ntitle: {zh: 问卷}\nquestions:\n") + body)
    assert [len(s) for s in survey_steps(q)] == [4, 3]
    assert [len(s) for s in survey_steps(q, max_per_step=10)] == [7]
    assert [len(s) for s in survey_steps(q, max_per_step=0)] == [1] * 7


def test_a_step_ends_the_questionnaire_only_when_no_answer_on_it_can_open_a_later_question():
    """The button of a step says 提交 only when nothing answered on it can open a later question."""
    from pathlib import Path

    from questionnaires import load_default, load_questionnaire
    from questionnaires.paging import ends_here, visible_steps

    dated = load_questionnaire(Path(__file__).parent / "dates.yaml")
    for answers in ({"resident": "yes"}, {"resident": "yes", "visit_day": "2023-05-01", "market_clean": "satisfied"}):
        steps = visible_steps(dated, answers)
        assert len(steps) == 1 and not ends_here(dated, steps, 0)  # the date may open the date-time question
    steps = visible_steps(dated, {"resident": "yes", "visit_day": "2025-05-01", "visit_time": "09:00",
                                  "recent_event": "2025-02-01T10:00"})
    assert [ends_here(dated, steps, i) for i in range(len(steps))] == [False, False, True]  # the note closes it

    default = load_default()
    steps = visible_steps(default, {})
    assert [ends_here(default, steps, i) for i in range(len(steps))] == [False] * (len(steps) - 1) + [True]
