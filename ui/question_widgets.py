"""One widget per question type, big enough to tap on a phone.

Each function draws the question and returns the current answer in the questionnaire's own value
types (option code, list of codes, number or text), or None when unanswered (always for a note).
"""

from __future__ import annotations

import streamlit as st

from questionnaires.model import Question
from ui.question_texts import SAYS_MULTIPLE, choice_limits  # noqa: F401 - choice_limits: the pages' import

CHOICE_TYPES = ("single_choice", "yes_no", "satisfaction", "quiz")


def question_widget(question: Question, number: int | None, previous, key: str, lang: str, required_mark: str,
                    multi_hint: str, text: str | None = None, limits: str | None = None):
    """`text` replaces the question's own text (e.g. with earlier answers piped in); `limits` says
    under a multiple-choice question how many options may be chosen and which go alone. The options
    are shown in the order `question.option_order(key)` gives (shuffled when the question says so;
    `key` holds the response id, so the order stays the same for this respondent on every rerun)."""
    text = text if text is not None else question.text(lang)
    help_text = (question.help or {}).get(lang) or (question.help or {}).get("zh")
    if question.is_note:
        st.markdown(text)
        if help_text:
            st.caption(help_text)
        return None
    if question.other_of is not None:
        # The "please specify" box right under its choice question: no number of its own.
        value = st.text_input(f"{text} {required_mark}".rstrip(), value=previous or "", max_chars=question.max_length,
                              key=key, help=help_text)
        return value.strip() or None
    if question.type == "multiple_choice" and not any(word in text.lower() for word in SAYS_MULTIPLE):
        text = f"{text}{multi_hint}"
    label = f"**{number}. {text}** {required_mark}".rstrip()
    codes = question.option_order(key)
    if question.type in CHOICE_TYPES:
        index = codes.index(previous) if previous in codes else None
        return st.radio(label, codes, index=index, key=key, help=help_text,
                        format_func=lambda code: question.option_label(code, lang))
    if question.type == "multiple_choice":
        # :small[] is the size of the other questions' widget labels (a plain paragraph is larger).
        st.markdown(f":small[{label}]", help=help_text)
        if limits:
            st.caption(limits)
        chosen = set(previous or [])
        picked = [code for code in codes
                  if st.checkbox(question.option_label(code, lang), value=code in chosen, key=f"{key}:{code}")]
        # Stored in the questionnaire's own option order, whatever order they were shown in.
        return [code for code in question.option_codes if code in picked] or None
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
