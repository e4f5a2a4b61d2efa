"""Responses as an SPSS .sav file with Chinese variable and value labels."""

from __future__ import annotations

import os
import tempfile

import pandas as pd
import pyreadstat

from questionnaires import Questionnaire

CHOICE_TYPES = ("single_choice", "yes_no", "satisfaction", "quiz")


def responses_sav(responses: pd.DataFrame, questionnaire: Questionnaire, areas: pd.DataFrame, lang: str = "zh",
                  rule=None) -> bytes:
    """One row per response; choice answers as numbered codes with value labels in ``lang``,
    multiple choice as one 0/1 variable per option, numbers as numbers, text as text.  ``rule`` (the
    round's VerdictRule) goes into the file label, so an analysis redone in SPSS knows the official rule."""
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
    answers = responses["answers"].tolist()
    for question in questionnaire.questions:
        text = question.text(lang)
        option_codes = [o.code for o in question.options]
        if question.type in CHOICE_TYPES:
            numbers = {code: number for number, code in enumerate(option_codes, start=1)}
            data[question.code] = [numbers.get(a.get(question.code)) for a in answers]
            data[question.code] = data[question.code].astype("float64")
            labels[question.code] = text
            value_labels[question.code] = {float(n): question.option_label(c, lang) for c, n in numbers.items()}
        elif question.type == "multiple_choice":
            for number, code in enumerate(option_codes, start=1):
                variable = f"{question.code}_{number}"
                data[variable] = [float(code in (a.get(question.code) or [])) if question.code in a else None
                                  for a in answers]
                labels[variable] = f"{text}：{question.option_label(code, lang)}"
                value_labels[variable] = {0.0: "未选" if not english else "Not chosen",
                                          1.0: "选中" if not english else "Chosen"}
        elif question.type == "number":
            data[question.code] = pd.to_numeric(pd.Series([a.get(question.code) for a in answers]), errors="coerce")
            labels[question.code] = text
        else:
            data[question.code] = [str(a.get(question.code) or "") for a in answers]
            labels[question.code] = text
    handle, path = tempfile.mkstemp(suffix=".sav")
    os.close(handle)
    try:
        pyreadstat.write_sav(data, path, column_labels=[labels[c] for c in data.columns],
                             variable_value_labels=value_labels,
                             file_label=None if rule is None else rule.describe(lang))
        with open(path, "rb") as saved:
            return saved.read()
    finally:
        os.remove(path)
