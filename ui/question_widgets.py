"""One widget per question type, big enough to tap on a phone.

Each function draws the question and returns the current answer in the questionnaire's own value
types (option code, list of codes, number or text), or None when unanswered.
"""

from __future__ import annotations

import streamlit as st

from questionnaires.model import Question

CHOICE_TYPES = ("single_choice", "yes_no", "satisfaction", "quiz")


def question_widget(question: Question, number: int, previous, key: str, lang: str, required_mark: str,
                    multi_hint: str, text: str | None = None):
    """`text` replaces the question's own text (e.g. with earlier answers piped in)."""
    label = f"**{number}. {text if text is not None else question.text(lang)}** {required_mark}".rstrip()
    help_text = (question.help or {}).get(lang) or (question.help or {}).get("zh")
    codes = [option.code for option in question.options]
    if question.type in CHOICE_TYPES:
        index = codes.index(previous) if previous in codes else None
        return st.radio(label, codes, index=index, key=key, help=help_text,
                        format_func=lambda code: question.option_label(code, lang))
    if question.type == "multiple_choice":
        st.markdown(f"{label} {multi_hint}", help=help_text)
        chosen = set(previous or [])
        picked = [code for code in codes
                  if st.checkbox(question.option_label(code, lang), value=code in chosen, key=f"{key}:{code}")]
        return picked or None
    if question.type == "number":
        # No min/max on the widget: an out-of-range entry gets the questionnaire's own clear
        # message from validation instead of being silently clamped.
        step = 1 if question.integer else 0.1
        value = st.number_input(label, value=previous, step=step, key=key, help=help_text,
                                format="%d" if question.integer else "%.1f")
        if value is not None and question.integer:
            value = int(value)
        return value
    text = st.text_area(label, value=previous or "", max_chars=question.max_length, key=key, help=help_text,
                        height=100)
    return text.strip() or None
