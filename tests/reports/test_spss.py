"""SPSS export read back by independent readers: pyreadstat (ReadStat) always, R haven when Rscript and
haven are installed (required in CI)."""
from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime

import pandas as pd
import pyreadstat
import pytest

from questionnaires import load_default, parse_questionnaire
from reports.spss import responses_sav

# A satisfaction item coded as many imported XLSForms code it: 5 = 满意 … 1 = 不满意, 9 = 说不清.
IMPORTED = parse_questionnaire({
    "code": "coded", "version": 1, "title": {"zh": "编码问卷"},
    "questions": [
        {"code": "sat_park", "type": "satisfaction", "label": {"zh": "您对公园满意吗？"}, "indicator": "satisfaction",
         "options": [{"code": c, "label": {"zh": t}} for c, t in
                     (("5", "满意"), ("4", "比较满意"), ("3", "一般"), ("2", "不太满意"), ("1", "不满意"), ("9", "说不清"))],
         "positive": ["5", "4"], "invalid": ["9"]},
        {"code": "know", "type": "yes_no", "label": {"zh": "您知道吗？"}, "indicator": "awareness",
         "options": [{"code": "yes", "label": {"zh": "知道"}}, {"code": "no", "label": {"zh": "不知道"}},
                     {"code": "dk", "label": {"zh": "不清楚"}}], "invalid": ["dk"]},
        {"code": "age", "type": "number", "label": {"zh": "年龄"}, "integer": True, "min": 18, "max": 120},
        {"code": "channels", "type": "multiple_choice", "label": {"zh": "渠道"}, "required": False,
         "options": [{"code": "tv", "label": {"zh": "电视"}}, {"code": "web", "label": {"zh": "网络"}}]},
    ],
})
ANSWERS = [
    {"sat_park": "5", "know": "yes", "age": 30, "channels": ["tv"]},
    {"sat_park": "1", "know": "dk", "age": 61, "channels": ["tv", "web"]},
    {"sat_park": "9", "know": "no", "age": 45},
]
AREAS = pd.DataFrame({"id": [1], "code": ["C01"], "name_zh": ["东社区"], "name_en": ["East"]})


def frame(answers):
    return pd.DataFrame({
        "id": [f"r{i}" for i in range(len(answers))], "community_id": [1] * len(answers),
        "channel": ["web"] * len(answers), "interviewer": [None] * len(answers),
        "submitted_at": [datetime(2026, 5, 1, 9, i) for i in range(len(answers))],
        "status": ["counted"] * len(answers), "answers": answers,
    })


@pytest.fixture
def sav(tmp_path):
    path = tmp_path / "coded.sav"
    path.write_bytes(responses_sav(frame(ANSWERS), IMPORTED, AREAS))
    return path


def test_own_codes_user_missing_levels_formats_and_chinese_labels(sav):
    data, meta = pyreadstat.read_sav(str(sav), user_missing=True)
    assert data["sat_park"].tolist() == [5, 1, 9]  # the questionnaire's codes, not positions 1, 5, 6
    assert meta.variable_value_labels["sat_park"] == {5: "满意", 4: "比较满意", 3: "一般", 2: "不太满意", 1: "不满意", 9: "说不清"}
    assert meta.missing_ranges["sat_park"] == [{"lo": 9.0, "hi": 9.0}]
    assert meta.missing_ranges["know"] == [{"lo": 3.0, "hi": 3.0}]  # word codes are numbered in order
    assert meta.variable_value_labels["know"] == {1: "知道", 2: "不知道", 3: "不清楚"}
    assert meta.variable_measure["sat_park"] == "ordinal"
    assert meta.variable_measure["know"] == "nominal"
    assert meta.variable_measure["age"] == "scale"
    assert meta.original_variable_types["sat_park"] == "F1.0"
    assert meta.original_variable_types["age"] == "F3.0"
    assert meta.original_variable_types["channels_tv"] == "F1.0"
    assert meta.column_names_to_labels["sat_park"] == "您对公园满意吗？"
    assert meta.column_names_to_labels["channels_web"] == "渠道：网络"
    assert data["channels_web"].tolist()[:2] == [0, 1] and pd.isna(data["channels_web"].iloc[2])
    # Read the ordinary way, the user-missing "don't know" is missing, as our rates leave it out.
    plain, _ = pyreadstat.read_sav(str(sav))
    assert pd.isna(plain["sat_park"].iloc[2]) and plain["sat_park"].mean() == 3.0


def test_default_questionnaire_declares_its_dont_know_options_missing(tmp_path):
    questionnaire = load_default()
    path = tmp_path / "default.sav"
    path.write_bytes(responses_sav(frame([{}]), questionnaire, AREAS))
    _, meta = pyreadstat.read_sav(str(path), user_missing=True)
    for question in questionnaire.questions:
        if question.invalid and question.type != "multiple_choice":
            assert question.code in meta.missing_ranges, question.code
        if question.type == "satisfaction":
            assert meta.variable_measure[question.code] == "ordinal"


def _haven_available() -> bool:
    if not shutil.which("Rscript"):
        return False
    probe = subprocess.run(["Rscript", "-e", "library(haven)"], capture_output=True)
    return probe.returncode == 0


def test_r_haven_reads_the_same_codes_labels_and_missing(sav):
    if not _haven_available():
        if os.environ.get("CI"):
            pytest.fail("Rscript with haven is required in CI")
        pytest.skip("Rscript with the haven package is not installed")
    script = (
        f'd <- haven::read_sav("{sav}", user_na = TRUE); x <- d$sat_park; '
        'cat(as.integer(x), sep=","); cat("\\n"); '
        'l <- attr(x, "labels"); cat(paste(l, names(l), sep="=", collapse=","), "\\n"); '
        'cat(attr(x, "na_values"), "\\n"); cat(attr(d$know, "label"), "\\n")'
    )
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "5,1,9"
    assert "5=满意" in out[1] and "9=说不清" in out[1]
    assert out[2].strip() == "9"
    assert out[3].strip() == "您知道吗？"
