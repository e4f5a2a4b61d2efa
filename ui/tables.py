"""Result frames turned into the tables an analyst reads (labels in the user's language)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from questionnaires import Questionnaire
from ui.i18n import TEXTS

VERDICT_COLOURS = {"met": "green", "not_met": "red", "undecided": "orange", "no_data": "gray", "no_target": "gray"}


def _label(key: str, language: str) -> str:
    zh, en = TEXTS[key]
    return en if language == "en" else zh


VERDICT_PILLS = {"met": "#2e7d32", "not_met": "#c62828", "undecided": "#ef6c00", "no_data": "#9e9e9e",
                 "no_target": "#1565c0"}


def coloured_verdicts(table: pd.DataFrame, language: str, column: str | None = None) -> dict:
    """``st.dataframe`` arguments showing the verdict column as coloured pills (green met, red not
    met, orange undecided): ``st.dataframe(**coloured_verdicts(table, language), ...)``.

    A column setting, not a pandas Styler: styling cell by cell cost about 0.35 s a table in
    Streamlit's marshalling (bench/page_profile.py), most of the dashboard's rerun."""
    column = column or _label("verdict", language)
    if column not in table.columns or table.empty:
        return {"data": table}
    colours = {_label(v, language): colour for v, colour in VERDICT_PILLS.items()}
    shown = list(dict.fromkeys(str(v) for v in table[column]))
    options = [v for v in shown if v]
    palette = [colours.get(v.split(" · ")[0], "#757575") for v in options]
    data = table.assign(**{column: [[str(v)] if v else [] for v in table[column]]})
    return {"data": data, "column_config": {
        column: st.column_config.MultiselectColumn(column, options=options, color=palette)}}


def verdict_badge(verdict: str, language: str) -> str:
    return f":{VERDICT_COLOURS.get(verdict, 'gray')}-badge[{_label(verdict, language)}]"


def percent(value) -> str:
    """A rate as people read it: a percentage to one decimal (full precision stays in JSON)."""
    return "—" if pd.isna(value) else f"{value:.1%}"


_percent = percent


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


def item_table_view(items: pd.DataFrame, questionnaire: Questionnaire, language: str) -> dict:
    """``st.dataframe`` arguments for the item table: verdicts coloured, and the question column kept
    to a bounded width (its full text on hover) so that 目标 / 差距 / 判定 stay in view."""
    view = coloured_verdicts(item_table(items, questionnaire, language), language)
    question = _label("item", language)
    view["column_config"] = {**view.get("column_config", {}),
                             question: st.column_config.TextColumn(question, width="large")}
    return view


def demographic_names(questionnaire: Questionnaire, kind: str, language: str) -> dict[str, str]:
    """Age-group or sex code → its label in the questionnaire (18_29 → 18–29 岁)."""
    question = questionnaire.demographic_question(kind)
    if question is None:
        return {}
    return {option.code: option.text(language) for option in question.options}


def method_name(method: str, language: str) -> str:
    """An interval method as people read it (wilson → Wilson 得分区间)."""
    key = f"method_{method}"
    return _label(key, language) if key in TEXTS else method


# Streamlit writes the word "None" in an empty cell (a quota not set, a rate without data); readers
# of these tables are not programmers, so every table shows a dash there instead.
MISSING = "—"


def show_table(data=None, **options):
    """``st.dataframe`` with missing values shown as a dash; a table without rows is a short line in
    the reader's language instead (Streamlit draws the headers over the English word "empty")."""
    if isinstance(data, pd.DataFrame) and data.empty and not options.get("on_select"):
        from ui.i18n import t

        st.caption(t("table_empty"))
        return None
    return st.dataframe(data, placeholder=MISSING, **options)


def edit_table(data, **options):
    """``st.data_editor`` with missing values shown as a dash."""
    return st.data_editor(data, placeholder=MISSING, **options)
