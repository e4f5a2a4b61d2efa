"""Responses as an SPSS .sav file an analyst can trust: the questionnaire's own codes, "don't know"
codes declared user-missing, measurement levels, integer formats, Chinese variable and value labels.

A choice question is one numeric variable. When every option code of the question is a whole number
(as in most imported XLSForms: 5 = 满意 … 1 = 不满意) those numbers are the values; otherwise the
options are numbered in questionnaire order (our bundled questionnaires use words as codes). The question's ``invalid`` options
(不了解 / 说不清 …), which our rates leave out of the denominator, are declared user-missing, so SPSS
frequencies and means leave them out as well. Satisfaction scales and the age group are ordinal,
other choices nominal, numbers scale; multiple choice is one 0/1 variable per option. Date, time and
date-time answers are SPSS dates (formats SDATE10 = 2024-05-01, TIME5 = 08:30, DATETIME17 =
01-MAY-2024 08:30), scale, so SPSS sorts, subtracts and filters them as moments.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, time

import pandas as pd
import pyreadstat

from questionnaires import Question, Questionnaire, dates
from questionnaires.model import DATE_TYPES

CHOICE_TYPES = ("single_choice", "yes_no", "satisfaction", "quiz")
ORDINAL_TYPES = ("satisfaction",)
ORDINAL_DEMOGRAPHICS = ("age_group",)
# SPSS keeps at most three discrete user-missing values per variable (or one range plus one value).
MAX_DISCRETE_MISSING = 3
_WHOLE_NUMBER = re.compile(r"^-?\d{1,9}$")
# SPSS formats of the date kinds (pyreadstat writes date, time and datetime values with them).
DATE_FORMATS = {"date": "SDATE10", "time": "TIME5", "datetime": "DATETIME17"}


def option_values(question: Question) -> dict[str, int]:
    """Option code -> the number stored in SPSS: the code itself when every code is a whole number,
    else the option's position (1, 2, …)."""
    codes = question.option_codes
    if codes and all(_WHOLE_NUMBER.match(code) for code in codes) and len({int(c) for c in codes}) == len(codes):
        return {code: int(code) for code in codes}
    return {code: number for number, code in enumerate(codes, start=1)}


def _missing(values: list[int]) -> list:
    """User-missing declaration for these values in the form pyreadstat accepts."""
    values = sorted(set(values))
    if len(values) <= MAX_DISCRETE_MISSING:
        return values
    return [{"lo": values[0], "hi": values[-1]}]


def _width(values) -> int:
    return max(len(str(v)) for v in values) if values else 1


def _spss_moments(kind: str, values: list) -> pd.Series:
    """Stored ISO texts as what SPSS holds: a date or date-time as a moment (pyreadstat writes it as
    seconds since 1582, SPSS's own count), a time as seconds since midnight. Typed columns, so that a
    column nobody answered is still a date variable and not an empty text."""
    moments = [dates.as_object(kind, value) for value in values]
    if kind == "time":
        return pd.Series([m.hour * 3600 + m.minute * 60 if m is not None else None for m in moments], dtype="float64")
    if kind == "date":
        moments = [datetime.combine(m, time()) if m is not None else None for m in moments]
    return pd.Series(moments, dtype="datetime64[us]")


def measurement_level(question: Question) -> str:
    if question.type == "number" or question.type in DATE_TYPES:
        return "scale"
    if question.type in ORDINAL_TYPES or question.demographic in ORDINAL_DEMOGRAPHICS:
        return "ordinal"
    return "nominal"


def responses_sav(responses: pd.DataFrame, questionnaire: Questionnaire, areas: pd.DataFrame, lang: str = "zh",
                  rule=None) -> bytes:
    """One row per response, the questionnaire's variables after the response's own fields.  ``rule``
    (the round's VerdictRule) goes into the file label, so an analysis redone in SPSS knows the official rule."""
    english = lang == "en"
    names = dict(zip(areas["id"], areas["name_en" if english else "name_zh"]))
    codes = dict(zip(areas["id"], areas["code"]))
    data = pd.DataFrame({
        "response_id": responses["id"].astype(str),
        "community": [codes.get(c, "") for c in responses["community_id"]],
        "community_name": [names.get(c, "") for c in responses["community_id"]],
        "channel": responses["channel"].astype(str),
        "interviewer": responses["interviewer"].fillna("").astype(str),
        "submitted": pd.to_datetime(responses["submitted_at"]),
        "status": responses["status"].astype(str),
    })
    labels = {"response_id": "问卷编号" if not english else "Response id",
              "community": "社区编码" if not english else "Community code",
              "community_name": "社区" if not english else "Community",
              "channel": "填报方式" if not english else "Channel",
              "interviewer": "调查员" if not english else "Interviewer",
              "submitted": "提交时间" if not english else "Submitted",
              "status": "是否计入" if not english else "Status"}
    value_labels: dict[str, dict] = {}
    missing: dict[str, list] = {}
    measure: dict[str, str] = {name: "nominal" for name in data.columns}
    measure["submitted"] = "scale"
    formats: dict[str, str] = {}
    answers = responses["answers"].tolist()
    for question in questionnaire.answered_questions():  # a note holds no answer
        text = question.text(lang)
        if question.type in CHOICE_TYPES:
            values = option_values(question)
            data[question.code] = pd.Series([values.get(a.get(question.code)) for a in answers], dtype="float64")
            labels[question.code] = text
            value_labels[question.code] = {
                value: question.option_label(code, lang) for code, value in values.items()
            }
            invalid = [values[c] for c in question.option_codes if c in question.invalid]
            if invalid:
                missing[question.code] = _missing(invalid)
            measure[question.code] = measurement_level(question)
            formats[question.code] = f"F{_width(values.values())}.0"
        elif question.type == "multiple_choice":
            for number, code in enumerate(question.option_codes, start=1):
                variable = f"{question.code}_{code}" if re.fullmatch(r"[A-Za-z0-9_]+", code) else f"{question.code}_{number}"
                data[variable] = pd.Series(
                    [float(code in (a.get(question.code) or [])) if question.code in a else None for a in answers],
                    dtype="float64")
                labels[variable] = f"{text}：{question.option_label(code, lang)}"
                value_labels[variable] = {0: "未选" if not english else "Not chosen", 1: "选中" if not english else "Chosen"}
                measure[variable] = "nominal"
                formats[variable] = "F1.0"
        elif question.type == "number":
            data[question.code] = pd.to_numeric(pd.Series([a.get(question.code) for a in answers]), errors="coerce")
            labels[question.code] = text
            measure[question.code] = "scale"
            if question.integer:
                largest = max((abs(v) for v in (question.min, question.max) if v is not None), default=None)
                digits = len(str(int(largest))) if largest is not None else 8
                formats[question.code] = f"F{digits + (1 if (question.min or 0) < 0 else 0)}.0"
            else:
                formats[question.code] = "F8.2"
        elif question.type in DATE_TYPES:
            data[question.code] = _spss_moments(question.type, [a.get(question.code) for a in answers])
            labels[question.code] = text
            measure[question.code] = "scale"
            formats[question.code] = DATE_FORMATS[question.type]
        else:
            variable = question.code
            if question.other_of is not None:
                # A "please specify" text: labelled with its question, and named apart from the 0/1
                # variable of a multiple-choice option that is also called <code>_other.
                text = f"{questionnaire.question(question.other_of).text(lang)}：{text}"
                variable = question.code if question.code not in data.columns else f"{question.code}_text"
            data[variable] = [str(a.get(question.code) or "") for a in answers]
            labels[variable] = text
            measure[variable] = "nominal"
    handle, path = tempfile.mkstemp(suffix=".sav")
    os.close(handle)
    try:
        pyreadstat.write_sav(data, path, column_labels=[labels[c] for c in data.columns],
                             variable_value_labels=value_labels, missing_ranges=missing,
                             variable_measure=measure, variable_format=formats,
                             file_label=None if rule is None else rule.describe(lang))
        with open(path, "rb") as saved:
            return saved.read()
    finally:
        os.remove(path)
