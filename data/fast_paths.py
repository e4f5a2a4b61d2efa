"""The storage's fast paths, in one place: what each trick buys, and the plain way beside it.

Each trick below was measured by ``python -m bench.run`` (1,000,000 responses on SQLite unless
said) and is re-measured by ``python -m bench.fast_paths``, which times each against its plain path,
alternating, in one run (last run 2026-12-02 19:29 UTC, 20,000 responses, 3 rounds: the "now"
figures below; plain ÷ trick is what the trick buys); each has a plain path here that
``tests/data/test_fast_paths.py`` proves equal on the same rows.  A SQLAlchemy or driver upgrade that breaks a trick breaks that test, not the data: switch the
callers to the plain path and re-measure.  Nothing outside this module touches SQLAlchemy's compiled
internals (``tests/test_layering.py`` checks).

* **Bind plan** (``driver_execute`` / ``driver_execute_columns`` / ``bind_plan``; plain path
  ``plain_execute``): a statement is compiled once per dialect and parameter names
  (``compiled.positiontup``, ``compiled.bind_names``), rows are bound column by column with the
  columns' own ``bind_processor``s and handed to the driver's ``executemany``.  SQLAlchemy's
  per-row parameter handling cost more than SQLite's own work for a 20,000-response import, and
  for one citizen's submission its per-statement work was most of the time the write lock is held
  (2026-11-23: part of the 73 → 47 µs a response of the third pass).  Now: 41.2 → 23.6 µs a
  response's insert, 1.75×.
* **SQLite DateTime text by ``datetime.isoformat``** (``sqlite_datetime_text``; plain path:
  SQLAlchemy's own ``bind_processor``): 1.4 → 0.8 µs a value (2026-11-23; now 4.3 → 2.4, 1.81×); same text for naive,
  aware, None, dates and subclasses (``tests/data/test_binding.py``).
* **Driver tuples for plain reads** (``plain_rows``; plain path ``session.execute(...).all()``):
  reading a round's ~25,000 tally rows ~4× faster, most of the dashboard's time (2026-11-23; now
  5.5 → 3.1 µs a row, 1.74×).
* **Garbage collector paused during an import** (``cyclic_gc_paused``; plain path: the function
  undecorated, ``bulk_import.__wrapped__``): 47 → 40 µs a response (2026-11-23; now 68.6 → 62.2,
  1.10× in one run of three rounds: the smallest gain, the first to drop if a run shows less).
* **Answer rules kept per questionnaire object** (``rules_for``, keyed by ``id()`` and checked by
  identity; plain path ``AnswerRules(questionnaire)``): a page keeps its questionnaire object, so
  the rules' per-value memory is built once, not for every submission (now 484 → 40 µs a
  submission's row, 12×).
* **PostgreSQL: many rows as one JSON document** (``recordset_insert_sql``: ``INSERT … SELECT … FROM
  json_to_recordset(%s)``; plain path: ``executemany`` of the same insert): the upsert ran once per
  row, ~500 rows for a group of 16 submissions.  Uses public APIs only (the column types' compile).

Dropped on 2026-12-02: joining a response's stored JSON with ``str.replace("{,", "{")`` over a
C-level ``map`` (no faster than a plain join in ``questionnaires.answer_rules``).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache, wraps
from itertools import repeat
from operator import attrgetter
from typing import Callable, Iterable, Mapping

from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from data.models import TALLY_SUMS
from questionnaires import Questionnaire
from questionnaires.answer_rules import AnswerRules


def _insert_of(dialect: str) -> Callable:
    """The dialect's own insert (it has ON CONFLICT).  PostgreSQL's dialect package is imported on
    first use only: it is a tenth of a second of a new process's start on SQLite (the cold dashboard)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite.insert


@contextmanager
def driver_cursor(session: Session):
    """The driver's own cursor, in the session's transaction, closed afterwards."""
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def executemany(session: Session, statement, rows: list[dict]) -> None:
    """``session.execute(statement, rows)`` without SQLAlchemy's per-row and per-statement work."""
    if rows:
        driver_execute(session, statement, rows).close()


def driver_execute(session: Session, statement, rows: list[dict]):
    """Run ``statement`` for ``rows`` on the driver's own cursor, in the session's transaction, and
    return that cursor (or SQLAlchemy's result when the statement cannot be run that way).

    The statement is compiled once per statement, dialect and parameter names, and every row is
    bound with the columns' own bind processors (JSON serialised, dates formatted exactly as
    SQLAlchemy stores them), column by column.  SQLAlchemy's per-row parameter handling cost more
    than SQLite's own work for an import of 20,000 rows; and for one citizen's submission its
    per-statement work was most of the time the SQLite write lock is held, which every other
    submitter waits for.
    """
    return driver_execute_columns(session, statement, {key: [row[key] for row in rows] for key in rows[0]})


def driver_execute_columns(session: Session, statement, values_of: Mapping[str, list], ready: Iterable[str] = ()):
    """``driver_execute`` for rows given column by column (``values_of[key][i]``: row i's value);
    the columns named in ``ready`` hold values already as the driver takes them (JSON as text)."""
    connection = session.connection()
    plan = bind_plan(statement, connection.dialect, tuple(values_of))
    if plan is None and not ready:
        rows = [dict(zip(values_of, values)) for values in zip(*values_of.values())]
        return connection.execute(statement, rows if len(rows) > 1 else rows[0])
    if plan is None:
        raise ValueError("values ready for the driver need a statement the driver can run")
    sql, positional, binds = plan
    size = len(next(iter(values_of.values())))
    columns = []
    for _, key, process, constant in binds:  # one map() per column instead of a loop per value
        if key is None:
            columns.append([constant] * size)
        else:
            values = values_of[key]
            columns.append(values if process is None or key in ready else _processed_column(process, values))
    if positional:
        parameters = list(zip(*columns))
    else:
        names = [name for name, _, _, _ in binds]
        parameters = [dict(zip(names, values)) for values in zip(*columns)]
    cursor = connection.connection.driver_connection.cursor()
    if len(parameters) == 1:
        cursor.execute(sql, parameters[0])
    else:
        cursor.executemany(sql, parameters)
    return cursor


@lru_cache(maxsize=64)
def bind_plan(statement, dialect, keys: tuple[str, ...]):
    """(SQL text, positional?, [(parameter, row key or None, bind processor, constant)]) for rows
    with these keys, or None when the statement's parameters are not these keys plus constants."""
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        return None
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    try:
        defaults = compiled.construct_params(params=dict.fromkeys(keys))
    except Exception:  # a parameter that is neither one of the keys nor a constant
        return None
    names = list(compiled.positiontup) if compiled.positional else list(defaults)
    if not set(keys) <= set(names):
        return None
    bind_of = {name: bind for bind, name in compiled.bind_names.items()}
    binds = []
    for name in names:
        bind_type = bind_of[name].type
        process = bind_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and dialect.name == "sqlite" and isinstance(bind_type, DateTime):
            process = sqlite_datetime_text(process)
        if name in keys:
            binds.append((name, name, process, None))
        else:  # a literal of the statement itself
            value = defaults[name]
            binds.append((name, None, None, process(value) if process else value))
    return compiled.string, compiled.positional, binds


def _processed_column(process: Callable, values: list) -> list:
    """The bind processor applied to a column of values (its own ``column`` when it has one)."""
    column = getattr(process, "column", None)
    return column(values) if column is not None else list(map(process, values))


def sqlite_datetime_text(general: Callable):
    """SQLite's DateTime text exactly as SQLAlchemy writes it ('2026-11-23 09:30:00.000000'), made by
    ``datetime.isoformat`` for the usual naive datetime: SQLAlchemy's own formatting was a tenth of
    an import's time.  Anything else (None, dates, aware datetimes) goes to SQLAlchemy's."""
    def text(value):
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return general(value)

    def column(values: list) -> list:
        # A column of naive datetimes only (an import's) in one C-level map: half the time.
        if set(map(type, values)) == {datetime} and not any(map(_TZINFO, values)):
            return list(map(datetime.isoformat, values, repeat(" "), repeat("microseconds")))
        return list(map(text, values))

    text.column = column
    return text


_TZINFO = attrgetter("tzinfo")


@lru_cache(maxsize=None)
def prebuilt_statement(dialect: str, kind: str, table):
    """Statements built once per dialect and table (building an upsert costs a millisecond, a
    good part of one citizen's submission); SQLAlchemy caches their compiled form by identity."""
    statement = _insert_of(dialect)(table)
    if kind == "insert_if_new":
        return statement.on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    keys = [column.name for column in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: table.c[name] + statement.excluded[name] for name in TALLY_SUMS}
    )



def plain_rows(session: Session, statement) -> list[tuple]:
    """The rows of a query whose columns are plain integers and strings, as the driver's tuples.

    Runs on the session's own connection, so inside its transaction (and snapshot).  Skipping
    SQLAlchemy's Row objects and pandas' inference from them makes reading a round's tally
    (~25,000 rows for 1,000 communities) four times faster, most of the dashboard's time.
    """
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    parameters = compiled.params
    if compiled.positional:
        parameters = tuple(parameters[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, parameters)
        return cursor.fetchall()
    finally:
        cursor.close()


def cyclic_gc_paused(function: Callable) -> Callable:
    """The function run with Python's cyclic garbage collector paused (reference counting still
    frees what it drops).  An import holds hundreds of thousands of containers (the records, their
    answers, its columns) and makes millions more: the collector kept walking them all, a sixth of
    an import's time, for cycles it does not make."""
    @wraps(function)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:  # not if someone else had paused it
                gc.enable()
    return paused


@lru_cache(maxsize=16)
def recordset_insert_sql(table, columns: tuple[str, ...], on_conflict: str) -> str:
    """PostgreSQL: INSERT INTO table (columns) SELECT … FROM json_to_recordset(one JSON array of
    rows) …: many rows in one statement, one parameter, no per-row work on the server's side."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    names = ", ".join(columns)
    types = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in columns)
    return (f"INSERT INTO {table.name} ({names}) SELECT {names} FROM json_to_recordset(%s::json) AS rows({types}) "
            f"{on_conflict}")



def plain_execute(session: Session, statement, rows: list[dict]):
    """What ``driver_execute`` does, through SQLAlchemy's public API (the reference it is tested against)."""
    return session.execute(statement, rows if len(rows) > 1 else rows[0])


def plain_read(session: Session, statement) -> list[tuple]:
    """What ``plain_rows`` returns, through SQLAlchemy's public API."""
    return [tuple(row) for row in session.execute(statement)]


_RULES: dict[int, tuple[Questionnaire, AnswerRules]] = {}


def rules_for(questionnaire: Questionnaire) -> AnswerRules:
    """The answer rules of this questionnaire object, kept for the next submission (pages keep
    their questionnaire object), so its per-value memory is not rebuilt every time."""
    cached = _RULES.get(id(questionnaire))
    if cached is None or cached[0] is not questionnaire:
        if len(_RULES) >= 32:
            _RULES.clear()
        cached = _RULES[id(questionnaire)] = (questionnaire, AnswerRules(questionnaire))
    return cached[1]

