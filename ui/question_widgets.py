"""One widget per question type, big enough to tap on a phone.

Each function draws the question and returns the current answer in the questionnaire's own value
types (option code, list of codes, number, text, or ISO text for a date, time or date-time), or None
when unanswered (always for a note).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import streamlit as st

from questionnaires import dates
from questionnaires.model import DATE_TYPES, Question
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
    if question.type in DATE_TYPES:
        return date_widget(question, label, previous, key, help_text, lang)
    text = st.text_area(label, value=previous or "", max_chars=question.max_length, key=key, help=help_text,
                        height=100)
    return text.strip() or None


# The widest span a date picker offers when the question sets none (a birth date, an event next year).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)


def date_widget(question: Question, label: str, previous, key: str, help_text: str | None, lang: str) -> str | None:
    """A date, time or date-time picker, empty until the respondent picks (never today's date by
    default: an untouched picker must not answer for them), held to the question's `earliest` /
    `latest`; the answer as the ISO text the questionnaire stores."""
    value = dates.as_object(question.type, previous)
    if question.earliest or question.latest:
        st.caption(dates.bounds_text(question.type, question.earliest, question.latest, lang))
    low = dates.as_object("date", question.earliest) or FIRST_DAY
    high = dates.as_object("date", question.latest) or LAST_DAY
    if question.type == "date":
        picked = st.date_input(label, value=value, min_value=low, max_value=high, key=key, help=help_text,
                               format="YYYY-MM-DD")
    elif question.type == "time":
        picked = st.time_input(label, value=value, key=key, help=help_text, step=timedelta(minutes=1))
    else:
        picked = st.datetime_input(label, value=value, min_value=datetime.combine(low, time()),
                                   max_value=datetime.combine(high, time(23, 59)), key=key, help=help_text,
                                   format="YYYY-MM-DD", step=timedelta(minutes=1))
    return dates.read(question.type, picked) if picked is not None else None
