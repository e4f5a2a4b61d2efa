"""Result frames turned into the tables an analyst reads (labels in the user's language)."""

from __future__ import annotations

import pandas as pd

from questionnaires import Questionnaire
from ui.i18n import TEXTS

VERDICT_COLOURS = {"met": "green", "not_met": "red", "undecided": "orange", "no_data": "gray", "no_target": "gray"}


def _label(key: str, language: str) -> str:
    zh, en = TEXTS[key]
    return en if language == "en" else zh


def verdict_badge(verdict: str, language: str) -> str:
    return f":{VERDICT_COLOURS.get(verdict, 'gray')}-badge[{_label(verdict, language)}]"


def _percent(value) -> str:
    return "—" if pd.isna(value) else f"{value:.1%}"


def _interval(low, high) -> str:
    return "—" if pd.isna(low) else f"{low:.1%} – {high:.1%}"


def indicator_table(rows: pd.DataFrame, language: str) -> pd.DataFrame:
    name = "area_label_en" if language == "en" else "area_label_zh"
    parent = "parent_label_en" if language == "en" else "parent_label_zh"
    verdicts = [
        _label(v, language) + (f" · {_label('too_small', language)}" if small and v != "no_data" else "")
        for v, small in zip(rows["verdict"], rows["too_small"])
    ]
    return pd.DataFrame({
        _label("area", language): rows[name].to_numpy(),
        _label("parent", language): rows[parent].to_numpy(),
        _label("respondents", language): rows["respondents"].to_numpy(),
        _label("rate", language): [_percent(v) for v in rows["rate"]],
        _label("ci", language): [_interval(lo, hi) for lo, hi in zip(rows["ci_low"], rows["ci_high"])],
        _label("target", language): [_percent(v) for v in rows["target"]],
        _label("verdict", language): verdicts,
        _label("extra_needed", language): [
            "" if pd.isna(v) or v == 0 else str(int(v)) for v in rows["extra_needed"]
        ],
        _label("deff", language): [("—" if pd.isna(v) else f"{v:.2f}") for v in rows["deff"]],
    })


def item_table(items: pd.DataFrame, questionnaire: Questionnaire, language: str) -> pd.DataFrame:
    def question_text(code):
        try:
            return questionnaire.question(code).text(language)
        except (KeyError, LookupError):
            return code

    return pd.DataFrame({
        _label("item", language): [question_text(code) for code in items["item"]],
        _label("valid", language): items["valid"].to_numpy(),
        _label("rate", language): [_percent(v) for v in items["rate"]],
        _label("ci", language): [_interval(lo, hi) for lo, hi in zip(items["ci_low"], items["ci_high"])],
        _label("target", language): [_percent(v) for v in items["target"]],
        _label("gap", language): ["—" if pd.isna(g) else f"{g:+.1%}" for g in items["gap"]],
        _label("verdict", language): [_label(v, language) for v in items["verdict"]],
    })
