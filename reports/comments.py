"""Residents' suggestions as a table for people: area names, age group and sex in words, the themes
each suggestion mentions; for the page, the CSV download and the Excel report's own sheet."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from analysis.comments import theme_matches
from questionnaires import Questionnaire
from questionnaires.comment_themes import CommentTheme

HEADERS = {
    "district": ("区（县）", "District"), "street": ("街道（乡镇）", "Street"), "community": ("社区（村）", "Community"),
    "age_group": ("年龄段", "Age group"), "sex": ("性别", "Sex"), "text": ("意见和建议", "Suggestion"),
    "themes": ("涉及主题", "Themes"), "submitted_at": ("提交时间", "Submitted"), "question": ("题目", "Question"),
}
# A cell that starts like a formula is written as text (OWASP, CSV injection): residents type anything.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value) -> str:
    value = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def comments_export_frame(comments: pd.DataFrame, areas: pd.DataFrame, questionnaire: Questionnaire,
                          themes: Sequence[CommentTheme], lang: str = "zh") -> pd.DataFrame:
    """One row per suggestion with its district, street and community names, the respondent's age
    group and sex as worded in the questionnaire, the text as stored (already masked) and its themes; with
    several free-text questions (a "please specify" box among them), the question each text answers."""
    pick = 1 if lang == "en" else 0
    names = areas.set_index("id")["name_en" if lang == "en" else "name_zh"]

    def option_words(demographic: str) -> dict:
        question = next((q for q in questionnaire.questions if q.demographic == demographic), None)
        return {} if question is None else {o.code: o.text(lang) for o in question.options}

    ages, sexes = option_words("age_group"), option_words("sex")
    matches = theme_matches(comments["text"].tolist(), themes)
    labels = [theme.label(lang) for theme in themes]
    mentioned = ["、".join(label for label, hit in zip(labels, row) if hit) for row in matches.to_numpy()]
    frame = pd.DataFrame({
        HEADERS["district"][pick]: comments["district_id"].map(names).to_numpy(),
        HEADERS["street"][pick]: comments["street_id"].map(names).to_numpy(),
        HEADERS["community"][pick]: comments["community_id"].map(names).to_numpy(),
        HEADERS["age_group"][pick]: [ages.get(v, "") for v in comments["age_group"]],
        HEADERS["sex"][pick]: [sexes.get(v, "") for v in comments["sex"]],
        HEADERS["text"][pick]: [_as_text(x) for x in comments["text"]],
        HEADERS["themes"][pick]: mentioned,
        HEADERS["submitted_at"][pick]: pd.to_datetime(comments["submitted_at"]).dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
    })
    texts = [q for q in questionnaire.questions if q.type == "text"]
    if len(texts) > 1 and "question" in comments:
        # Several free-text answers (a "please specify" box among them): say which question each answers.
        frame.insert(5, HEADERS["question"][pick], comments["question"].map(
            {q.code: _question_words(questionnaire, q, lang) for q in texts}).fillna("").to_numpy())
    return frame


def _question_words(questionnaire: Questionnaire, question, lang: str) -> str:
    if question.other_of is not None and questionnaire.has_question(question.other_of):
        return f"{questionnaire.question(question.other_of).text(lang)}：{question.text(lang)}"
    return question.text(lang)
