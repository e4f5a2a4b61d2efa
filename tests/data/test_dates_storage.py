"""Date, time and date-time answers on real databases (SQLite and PostgreSQL): a submission stores the ISO
text, the paper template checks date and time cells the way its notes say and its import reads them back
(Excel dates and times, and text typed as 2025/3/8 or 9:15), and the SPSS file holds them as SPSS dates,
times and date-times (read back with pyreadstat, and with R haven where it is installed)."""

from __future__ import annotations

import io
import os
import subprocess
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from data import paper, submissions
from data.db import write_session
from data.responses import SubmissionRefused, new_response_id
from data.rounds import round_by_code
from data.scope import CITY
from questionnaires import load_questionnaire
from reports.paper_template import rejected_rows_xlsx
from reports.spss import responses_sav
from tests.data.test_constructs_storage import open_city, stored_answers, template_entry
from tests.data.test_paper import fill
from tests.reports.test_spss import _haven_available

QUESTIONNAIRE = load_questionnaire(Path(__file__).parents[1] / "questionnaires" / "dates.yaml")
ROUND = "D1"
GOOD = {"resident": "yes", "visit_day": "2025-03-08", "visit_time": "09:15", "market_clean": "satisfied",
        "recent_event": "2025-02-14T18:30"}


@pytest.fixture
def city(engine):
    return open_city(engine, QUESTIONNAIRE, ROUND, "日期轮", {"satisfaction": 0.9})


def test_a_submission_stores_iso_text_and_an_out_of_range_date_is_refused(city):
    engine, _, community, survey_round = city
    with pytest.raises(SubmissionRefused) as refused:
        submissions.submit(engine, response_id=new_response_id(), survey_round=survey_round, questionnaire=QUESTIONNAIRE,
                           community_id=community, answers={**GOOD, "visit_day": "2023-12-31"}, channel="self", lang="en")
    assert refused.value.messages == {"visit_day": "Please enter a date from 2024-01-01 to 2026-12-31"}
    sent = {**GOOD, "visit_day": date(2025, 3, 8), "visit_time": "9:15", "recent_event": "2025-02-14 18:30:00"}
    assert submissions.submit(engine, response_id=new_response_id(), survey_round=survey_round,
                              questionnaire=QUESTIONNAIRE, community_id=community, answers=sent, channel="self").stored
    assert stored_answers(engine) == [GOOD]


def test_a_bulk_import_of_synthetic_respondents_stores_their_dates_as_given(city):
    import numpy as np

    from data.demo import synthetic_answers
    from data.imports import bulk_import
    from questionnaires import clean_answers

    engine, _, community, survey_round = city
    rng = np.random.default_rng(16)
    answers = [synthetic_answers(QUESTIONNAIRE, rng, {"satisfaction": 0.9}) for _ in range(40)]
    with write_session(engine) as session:
        assert bulk_import(session, survey_round, QUESTIONNAIRE,
                           [{"community_id": community, "answers": a} for a in answers]) == 40
    stored = stored_answers(engine)
    assert sorted(map(str, stored)) == sorted(str(clean_answers(QUESTIONNAIRE, a)) for a in answers)
    assert all(len(a["visit_day"]) == 10 and "2024-01-01" <= a["visit_day"] <= "2026-12-31" for a in stored)


def test_the_paper_template_checks_dates_and_times_and_its_import_reads_them_back(city):
    engine, areas, _, _ = city
    template, _, entry, headers = template_entry(QUESTIONNAIRE, areas)
    day, clock, moment = (headers.index(h) for h in headers if h.split(". ", 1)[-1] in (
        QUESTIONNAIRE.question("visit_day").text(), QUESTIONNAIRE.question("visit_time").text(),
        QUESTIONNAIRE.question("recent_event").text()))
    notes = [entry.cell(row=1, column=i + 1).comment.text for i in (day, clock, moment)]
    assert notes[0].startswith("填写2024-01-01 到 2026-12-31 之间的日期（如 2024-05-01）")
    assert notes[1].startswith("填写时间（如 08:30）") and notes[2].startswith("填写日期和时间（如 2024-05-01 08:30）")
    # Excel's own checks say the same: a date in the question's span, a time of day, a date and time.
    checks = {str(v.sqref).split(":")[0]: v for v in entry.data_validations.dataValidation}
    letter = lambda i: openpyxl.utils.get_column_letter(i + 1)  # noqa: E731
    day_check, time_check = checks[f"{letter(day)}2"], checks[f"{letter(clock)}2"]
    assert day_check.type == "date" and day_check.operator in (None, "between")  # between is the default
    assert (day_check.formula1, day_check.formula2) == ("45292", "46387")  # 2024-01-01, 2026-12-31 as Excel counts
    assert (time_check.type, time_check.formula1) == ("time", "0")
    assert checks[f"{letter(moment)}2"].type == "date"
    formats = [entry.column_dimensions[letter(i)] for i in (day, clock, moment)]
    assert [f.number_format for f in formats] == ["yyyy-mm-dd", "hh:mm", "yyyy-mm-dd hh:mm"]

    community = areas[areas["level"] == "community"]["code"].iloc[0]
    base = {"问卷编号": "P1", "社区编码": community, "调查日期": datetime.combine(date.today(), datetime.min.time()),
            headers[4]: "是", headers[day]: datetime(2025, 3, 8), headers[clock]: time(9, 15),
            headers[headers.index(next(h for h in headers if "满意" in h))]: "比较满意",
            headers[moment]: datetime(2025, 2, 14, 18, 30)}
    rows = [
        base,
        {**base, "问卷编号": "P2", headers[day]: "2025/3/8", headers[clock]: "9:15", headers[moment]: "2025-02-14 18:30"},
        {**base, "问卷编号": "P3", headers[day]: "2023-12-31", headers[moment]: None},  # not asked before 2025
        {**base, "问卷编号": "P4", headers[clock]: "中午"},
    ]
    checked = paper.read_paper_file(fill(template, rows), QUESTIONNAIRE, areas)
    assert (checked.total_count, checked.valid_count) == (4, 2)
    errors = {(r.行号, r.列): r.问题 for r in checked.errors.itertuples()}
    assert errors == {(4, headers[day]): "请填写2024-01-01 到 2026-12-31 之间的日期",
                      (5, headers[clock]): "“中午”不是时间，请填写时间（如 08:30）"}
    # The rejected rows come back as typed, each date, time and date-time shown as its column asks.
    rejected = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(checked)))["问卷录入"]
    assert [rejected.cell(row=2, column=i + 1).value for i in (day, clock)] == ["2023-12-31", time(9, 15)]
    assert rejected.cell(row=2, column=clock + 1).number_format == "hh:mm"
    assert [rejected.cell(row=3, column=i + 1).number_format for i in (day, moment)] == ["yyyy-mm-dd", "yyyy-mm-dd hh:mm"]
    with write_session(engine) as session:
        assert paper.import_paper(session, round_by_code(session, ROUND), QUESTIONNAIRE, checked, only_valid=True,
                                  actor="clerk", scope=CITY) == 2
    assert stored_answers(engine) == [GOOD, GOOD]


RESPONSES = pd.DataFrame({"id": ["r1", "r2"], "community_id": [1, 1], "channel": ["self", "self"],
                          "interviewer": [None, None], "status": ["included", "included"],
                          "submitted_at": [datetime(2026, 5, 1, 9), datetime(2026, 5, 1, 10)],
                          "answers": [GOOD, {"resident": "yes", "visit_day": "2024-06-01", "market_clean": "neutral"}]})
AREAS = pd.DataFrame({"id": [1], "code": ["C01"], "name_zh": ["东社区"], "name_en": ["East"]})


@pytest.fixture
def dates_sav(tmp_path):
    path = tmp_path / "dates.sav"
    path.write_bytes(responses_sav(RESPONSES, QUESTIONNAIRE, AREAS))
    return path


def test_spss_holds_dates_times_and_date_times_with_their_formats(dates_sav):
    data, meta = pyreadstat.read_sav(str(dates_sav))
    assert meta.original_variable_types["visit_day"] == "SDATE10"
    assert meta.original_variable_types["visit_time"] == "TIME5"
    assert meta.original_variable_types["recent_event"] == "DATETIME17"
    assert {meta.variable_measure[c] for c in ("visit_day", "visit_time", "recent_event")} == {"scale"}
    assert data["visit_day"].tolist() == [date(2025, 3, 8), date(2024, 6, 1)]
    assert data["visit_time"].iloc[0] == time(9, 15) and pd.isna(data["visit_time"].iloc[1])
    assert data["recent_event"].iloc[0] == pd.Timestamp(2025, 2, 14, 18, 30) and pd.isna(data["recent_event"].iloc[1])
    assert meta.column_names_to_labels["visit_day"] == "您最近一次去农贸市场是哪一天？"
    assert "thanks_volunteer" not in data.columns  # a note holds no answer


def test_spss_keeps_an_unanswered_date_column_a_date_variable(tmp_path):
    path = tmp_path / "empty.sav"
    nobody = RESPONSES.assign(answers=[{"resident": "no"}, {"resident": "no"}])
    path.write_bytes(responses_sav(nobody, QUESTIONNAIRE, AREAS))
    _, meta = pyreadstat.read_sav(str(path))
    assert [meta.readstat_variable_types[c] for c in ("visit_day", "visit_time", "recent_event")] == ["double"] * 3
    assert meta.original_variable_types["visit_day"] == "SDATE10"


def test_r_haven_reads_dates_times_and_date_times(dates_sav):
    if not _haven_available():
        if os.environ.get("CI"):
            pytest.fail("Rscript with haven is required in CI")
        pytest.skip("Rscript with the haven package is not installed")
    script = (f'd <- haven::read_sav("{dates_sav}"); '
              'cat(class(d$visit_day)[1], format(d$visit_day[1]), "\\n"); '
              'cat(class(d$visit_time)[1], format(d$visit_time[1]), "\\n"); '
              'cat(class(d$recent_event)[1], format(d$recent_event[1], "%Y-%m-%d %H:%M", tz = "UTC"), "\\n")')
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["Date 2025-03-08 ", "hms 09:15:00 ", "POSIXct 2025-02-14 18:30 "]
