"""Date, time and date-time answers: one canonical ISO text per kind, and the words that ask for it.

A `date` answer is stored as `YYYY-MM-DD`, a `time` as `HH:MM` (24 hours), a `datetime` as
`YYYY-MM-DDTHH:MM`: text that sorts as the moments do, so the skip logic compares them as strings
(`${visit} >= '2024-01-01'`) and every export reads them back with one format. Pure functions, no
Streamlit, no database.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

DATE_TYPES = ("date", "time", "datetime")
FORMATS = {"date": "%Y-%m-%d", "time": "%H:%M", "datetime": "%Y-%m-%dT%H:%M"}
EXAMPLES = {"date": "2024-05-01", "time": "08:30", "datetime": "2024-05-01T08:30"}
KIND_WORDS = {"date": ("日期", "a date"), "time": ("时间", "a time"), "datetime": ("日期和时间", "a date and time")}

_CANONICAL = {
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "time": re.compile(r"^\d{2}:\d{2}$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"),
}
# What else a person or a device may write for the same moment: seconds (dropped: answers are to
# the minute), a space instead of "T", one-digit months, days and hours, "/" or "." between the parts
# of a date, 2024年5月1日 and 8点30分.
_LOOSE_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_LOOSE_TIME = r"(\d{1,2})\s*[:：点时]\s*(\d{1,2})\s*分?(?:[:：]\d{1,2}(?:\.\d+)?)?"
_LOOSE = {
    "date": re.compile(rf"^{_LOOSE_DATE}$"),
    "time": re.compile(rf"^{_LOOSE_TIME}$"),
    "datetime": re.compile(rf"^{_LOOSE_DATE}(?:\s*T\s*|\s+){_LOOSE_TIME}$"),
}


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def canonical(kind: str, value: Any) -> str | None:
    """The ISO text of a well-formed, existing date / time / date-time in the canonical form only
    (`2024-05-01`, `08:30`, `2024-05-01T08:30`), else None."""
    if not isinstance(value, str) or kind not in _CANONICAL or not _CANONICAL[kind].match(value):
        return None
    try:
        datetime.strptime(value, FORMATS[kind])
    except ValueError:  # 2024-02-30, 25:00
        return None
    return value


def read(kind: str, value: Any) -> str | None:
    """Any reasonable way of writing a `kind` value (a date/time object, ISO with seconds or a space,
    2024/5/1, 2024年5月1日, 8:30, 8点30分) as its canonical ISO text; None when it is none."""
    if isinstance(value, datetime):
        value = value if kind != "date" else value.date()
    if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime(FORMATS["date"])
    if kind == "datetime" and isinstance(value, datetime):
        return value.strftime(FORMATS["datetime"])
    if kind == "time" and isinstance(value, (time, datetime)):
        return value.strftime(FORMATS["time"])
    if not isinstance(value, str) or kind not in _LOOSE:
        return None
    text = value.strip()
    if canonical(kind, text):
        return text
    match = _LOOSE[kind].match(text)
    if not match:
        return None
    parts = [int(p) for p in match.groups()]
    try:
        if kind == "date":
            return date(*parts).strftime(FORMATS["date"])
        if kind == "time":
            return time(*parts).strftime(FORMATS["time"])
        return datetime(*parts).strftime(FORMATS["datetime"])
    except ValueError:
        return None


def as_object(kind: str, value: str | None):
    """The canonical text as a date / time / datetime object (for widgets and exports); None if not one."""
    text = canonical(kind, value)
    if text is None:
        return None
    moment = datetime.strptime(text, FORMATS[kind])
    return moment.date() if kind == "date" else moment.time() if kind == "time" else moment


def shown(kind: str, value: str) -> str:
    """How a person reads a stored value: the date-time with a space instead of ISO's "T"."""
    return value.replace("T", " ") if kind == "datetime" and isinstance(value, str) else str(value)


def kind_text(kind: str, lang: str) -> str:
    """'日期（如 2024-05-01）' / 'a date such as 2024-05-01'."""
    zh, en = KIND_WORDS[kind]
    return _msg(lang, f"{zh}（如 {shown(kind, EXAMPLES[kind])}）", f"{en} such as {shown(kind, EXAMPLES[kind])}")


def bounds_text(kind: str, earliest: str | None, latest: str | None, lang: str) -> str:
    """The allowed span in words: '2024-01-01 到 2024-12-31 之间的日期' / 'a date from … to …'."""
    zh, en = KIND_WORDS[kind]
    if earliest and latest:
        return _msg(lang, f"{earliest} 到 {latest} 之间的{zh}", f"{en} from {earliest} to {latest}")
    if earliest:
        return _msg(lang, f"不早于 {earliest} 的{zh}", f"{en} on or after {earliest}")
    if latest:
        return _msg(lang, f"不晚于 {latest} 的{zh}", f"{en} on or before {latest}")
    return kind_text(kind, lang)


def value_problem(kind: str, value: Any, earliest: str | None, latest: str | None, lang: str) -> str | None:
    """The message for a stored answer that is not a canonical value of `kind` or lies outside the
    bounds; None when it is fine."""
    text = canonical(kind, value)
    if text is None:
        return _msg(lang, f"请填写{kind_text(kind, lang)}", f"Please enter {kind_text(kind, lang)}")
    if (earliest and text < earliest) or (latest and text > latest):
        return _msg(lang, f"请填写{bounds_text(kind, earliest, latest, lang)}",
                    f"Please enter {bounds_text(kind, earliest, latest, lang)}")
    return None
