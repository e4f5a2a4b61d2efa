"""The storage binds rows on the driver's cursor itself (``data.fast_paths.bind_plan``); what it writes must be
exactly what SQLAlchemy would write."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from data.fast_paths import sqlite_datetime_text

SQLITE = sqlite.dialect()
SQLALCHEMY_TEXT = DateTime().dialect_impl(SQLITE).bind_processor(SQLITE)


VALUES = [
    datetime(2026, 11, 23, 9, 30), datetime(2026, 1, 2, 3, 4, 5, 6), datetime(999, 1, 1), datetime.max,
    datetime.min, None, date(2026, 1, 2), datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=8))),
]


@pytest.mark.parametrize("value", VALUES)
def test_sqlite_datetime_text_is_sqlalchemys(value):
    assert sqlite_datetime_text(SQLALCHEMY_TEXT)(value) == SQLALCHEMY_TEXT(value)


class LocalTime(datetime):
    """A datetime subclass: not what the column-at-once path formats itself."""


@pytest.mark.parametrize("values", [
    [datetime(2026, 11, 23, 9, 30), datetime(2026, 1, 2, 3, 4, 5, 6), datetime.max, datetime.min],  # all naive
    VALUES,  # mixed: naive, None, a date, an aware datetime
    [datetime(2026, 11, 23, 9, 30), datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)],
    [LocalTime(2026, 11, 23, 9, 30, 1)],
    [],
])
def test_a_column_of_datetimes_is_written_as_sqlalchemy_writes_each(values):
    assert sqlite_datetime_text(SQLALCHEMY_TEXT).column(values) == list(map(SQLALCHEMY_TEXT, values))
