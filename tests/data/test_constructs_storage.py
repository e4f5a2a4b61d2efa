"""Notes, "please specify", at most N choices with exclusive options and shuffled options, stored on real
databases (SQLite and PostgreSQL): a citizen's submission, a bulk import and a paper file store the same
answers, and refuse a forged answer that breaks the rules with a clear message and no write at all.
The paper template keeps the declared option order; the SPSS file holds the "please specify" text."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pyreadstat
import pytest
from sqlalchemy import func, select

from data import paper, submissions
from data.areas import areas_frame
from data.db import read_session, write_session
from data.demo import build_city
from data.imports import bulk_import
from data.models import Area, Response
from data.questionnaire_versions import save_questionnaire
from data.responses import SubmissionRefused, new_response_id
from data.rounds import create_round, round_by_code
from data.scope import CITY
from questionnaires import load_questionnaire
from reports.paper_template import paper_template
from reports.spss import responses_sav
from tests.data.test_paper import fill

QUESTIONNAIRE = load_questionnaire(Path(__file__).parents[1] / "questionnaires" / "constructs.yaml")
ROUND = "C1"
GOOD = {"consent": "ignored", "channels": ["tv", "other"], "channels_other": "社区公告栏", "values_quiz": "b",
        "where_heard": "elsewhere", "where_heard_other": "公交车站"}
STORED = {k: v for k, v in GOOD.items() if k != "consent"}
TOO_MANY = {**GOOD, "channels": ["tv", "online", "posters"]}
NONE_AND_MORE = {**GOOD, "channels": ["none", "tv"]}


def open_city(engine, questionnaire, round_code: str, name: str, targets: dict):
    """A city with one open round of `questionnaire`: (engine, areas, first community's id, round)."""
    with write_session(engine) as session:
        version = save_questionnaire(session, questionnaire)
        build_city(session)
        create_round(session, round_code, name, version, targets,
                     opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    with read_session(engine) as session:
        areas = areas_frame(session)
        community = session.scalar(select(Area.id).where(Area.level == "community").order_by(Area.code))
        survey_round = round_by_code(session, round_code)
    return engine, areas, community, survey_round


@pytest.fixture
def city(engine):
    return open_city(engine, QUESTIONNAIRE, ROUND, "新题型轮", {"awareness": 0.9})


def template_entry(questionnaire, areas):
    """The paper template of `questionnaire`: its bytes, the workbook, its entry sheet and headers."""
    template = paper_template(questionnaire, areas, scope=CITY)
    book = openpyxl.load_workbook(io.BytesIO(template))
    entry = book["问卷录入"]
    return template, book, entry, [cell.value for cell in entry[1]]


def stored_answers(engine) -> list[dict]:
    with read_session(engine) as session:
        return [a for a in session.scalars(select(Response.answers).order_by(Response.submitted_at))]


def count(engine) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(Response))


def test_a_submission_stores_codes_and_the_specify_texts_and_nothing_for_the_note(city):
    engine, _, community, survey_round = city
    result = submissions.submit(engine, response_id=new_response_id(), survey_round=survey_round,
                                questionnaire=QUESTIONNAIRE, community_id=community, answers=GOOD, channel="self")
    assert result.stored
    assert stored_answers(engine) == [STORED]


@pytest.mark.parametrize("answers, zh, en", [
    (TOO_MANY, "最多只能选 2 项", "Please choose at most 2 options"),
    (NONE_AND_MORE, "选了“以上都没有”就不能再选其他选项", "“None of the above” cannot be chosen together with other options"),
])
def test_a_forged_submission_or_interview_breaking_the_rules_is_refused_and_nothing_written(city, answers, zh, en):
    engine, _, community, survey_round = city
    for lang, message, channel in (("zh", zh, "self"), ("en", en, "interview")):
        with pytest.raises(SubmissionRefused) as refused:
            submissions.submit(engine, response_id=new_response_id(), survey_round=survey_round,
                               questionnaire=QUESTIONNAIRE, community_id=community, answers=answers, channel=channel,
                               interviewer="dx01" if channel == "interview" else None, lang=lang)
        assert refused.value.messages == {"channels": message}
    assert count(engine) == 0


def test_a_bulk_import_with_one_forged_record_stores_none(city):
    engine, _, community, survey_round = city
    records = [{"community_id": community, "answers": GOOD}, {"community_id": community, "answers": NONE_AND_MORE}]
    with pytest.raises(SubmissionRefused) as refused:
        with write_session(engine) as session:
            bulk_import(session, survey_round, QUESTIONNAIRE, records)
    assert refused.value.messages == {"#2 channels": "选了“以上都没有”就不能再选其他选项"}
    assert count(engine) == 0
    with write_session(engine) as session:
        assert bulk_import(session, survey_round, QUESTIONNAIRE, records[:1]) == 1
    assert stored_answers(engine) == [STORED]


def test_the_paper_template_has_a_column_per_answer_in_declared_order_and_imports_the_specify_texts(city):
    engine, areas, _, _ = city
    template, book, entry, headers = template_entry(QUESTIONNAIRE, areas)
    # No column for the note; the "please specify" box under its question's number.
    assert headers[4:] == ["1. 您通过哪些渠道了解创建工作？", "1. 其他（请注明）",
                           "2. 社会主义核心价值观中，个人层面的价值准则是？", "3. 您最常在哪里看到创建宣传？",
                           "3. 其他地方（请注明）"]
    channels_note = entry.cell(row=1, column=5).comment.text
    assert "最多选 2 项" in channels_note and "选“以上都没有”时不能再选其他项" in channels_note
    assert "第1题选了“其他（请注明）”时必填" in entry.cell(row=1, column=6).comment.text
    # The shuffled quiz keeps its declared order on paper (the drop-down list of the hidden sheet).
    lists = book["选项"]
    quiz_column = next(c for c in lists[1] if c.value == "values_quiz").column
    labels = [lists.cell(row=r, column=quiz_column).value for r in range(2, 7)]
    assert labels == [o.text("zh") for o in QUESTIONNAIRE.question("values_quiz").options]

    community = areas[areas["level"] == "community"]["code"].iloc[0]
    base = {"问卷编号": "P1", "社区编码": community, "调查日期": datetime.combine(date.today(), datetime.min.time())}
    rows = [
        {**base, headers[4]: "电视;其他（请注明）", headers[5]: "社区公告栏", headers[6]: "爱国、敬业、诚信、友善",
         headers[7]: "其他地方", headers[8]: "公交车站"},
        {**base, "问卷编号": "P2", headers[4]: "以上都没有;电视", headers[6]: "2"},
        {**base, "问卷编号": "P3", headers[4]: "1;2;3", headers[6]: "2"},
        {**base, "问卷编号": "P4", headers[4]: "电视", headers[5]: "没选其他却写了", headers[6]: "2"},
    ]
    checked = paper.read_paper_file(fill(template, rows), QUESTIONNAIRE, areas)
    assert (checked.total_count, checked.valid_count) == (4, 1)
    errors = {(r.行号, r.列): r.问题 for r in checked.errors.itertuples()}
    assert errors == {
        (3, headers[4]): "选了“以上都没有”就不能再选其他选项",
        (4, headers[4]): "最多只能选 2 项",
        (5, headers[5]): "按跳题规则本题不应作答，请留空（或检查前面的答案）",
    }
    with write_session(engine) as session:
        assert paper.import_paper(session, round_by_code(session, ROUND), QUESTIONNAIRE, checked, only_valid=True,
                                  actor="clerk", scope=CITY) == 1
    assert stored_answers(engine) == [STORED]


def test_spss_holds_the_specify_text_and_no_note(tmp_path):
    import pandas as pd

    # A multiple-choice question whose option is called "other": its 0/1 variable channels_other and the
    # text of the box must not collide.
    responses = pd.DataFrame({"id": ["r1", "r2"], "community_id": [1, 1], "channel": ["self", "self"],
                              "interviewer": [None, None], "status": ["included", "included"],
                              "submitted_at": [datetime(2026, 5, 1, 9), datetime(2026, 5, 1, 10)],
                              "answers": [STORED, {"channels": ["tv"], "values_quiz": "a"}]})
    areas = pd.DataFrame({"id": [1], "code": ["C01"], "name_zh": ["东社区"], "name_en": ["East"]})
    path = tmp_path / "constructs.sav"
    path.write_bytes(responses_sav(responses, QUESTIONNAIRE, areas))
    data, meta = pyreadstat.read_sav(str(path))
    assert "consent" not in data.columns
    assert data["channels_other"].tolist() == [1.0, 0.0]  # the option, chosen or not
    assert data["channels_other_text"].tolist() == ["社区公告栏", ""]
    assert meta.column_names_to_labels["channels_other_text"] == "您通过哪些渠道了解创建工作？：其他（请注明）"
    assert data["where_heard_other"].tolist() == ["公交车站", ""]


def test_the_specify_texts_appear_among_the_comments_naming_their_question(city):
    from data.comments import round_comments
    from questionnaires.comment_themes import load_comment_themes
    from reports.comments import comments_export_frame

    engine, areas, community, survey_round = city
    with write_session(engine) as session:
        bulk_import(session, survey_round, QUESTIONNAIRE, [{"community_id": community, "answers": GOOD}])
    with read_session(engine) as session:
        comments = round_comments(session, survey_round.id, QUESTIONNAIRE)
    assert sorted(comments["text"]) == sorted(["社区公告栏", "公交车站"])
    indexed = areas.set_index("id")
    comments["street_id"] = comments["community_id"].map(indexed["street_id"])
    comments["district_id"] = comments["community_id"].map(indexed["district_id"])
    frame = comments_export_frame(comments, areas, QUESTIONNAIRE, load_comment_themes())
    assert dict(zip(frame["意见和建议"], frame["题目"])) == {
        "社区公告栏": "您通过哪些渠道了解创建工作？：其他（请注明）",
        "公交车站": "您最常在哪里看到创建宣传？：其他地方（请注明）",
    }


def test_the_yaml_download_loads_back_to_the_same_questionnaire():
    from data.questionnaire_versions import to_yaml
    from questionnaires import parse_questionnaire_text

    text = to_yaml(QUESTIONNAIRE)
    assert "channels_other" not in text  # derived from `specify`, not written
    again = parse_questionnaire_text(text)
    assert again == QUESTIONNAIRE and again.content_hash() == QUESTIONNAIRE.content_hash()
