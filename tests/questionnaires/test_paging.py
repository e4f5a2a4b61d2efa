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
