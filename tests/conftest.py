"""Shared fixtures: real SQLite files and the real PostgreSQL server, never mocks.

Storage tests take the ``engine`` fixture and run once per database.  PostgreSQL is at
TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); each test run creates its
own throw-away database there.  Outside CI an unreachable server skips those runs with a reason; in
CI (CI=true) it is an error, so the PostgreSQL half can never silently vanish.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data.db import make_engine, upgrade_database

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _postgres_available() -> str | None:
    try:
        with create_engine(POSTGRES_ADMIN_URL).connect() as connection:
            connection.execute(text("select 1"))
        return None
    except Exception as error:  # any failure to connect means: not available
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_server_url():
    """A fresh database on the PostgreSQL server for this test run, dropped afterwards."""
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"survey_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url_for_test(request, tmp_path):
    """A URL of an empty database of each kind (SQLite file in tmp_path, PostgreSQL schema reset)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'survey.sqlite3'}"
    url = request.getfixturevalue("postgres_server_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def engine(database_url_for_test):
    """An engine on an empty, migrated database, once on SQLite and once on PostgreSQL."""
    engine = make_engine(database_url_for_test)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'survey.sqlite3'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


# Property and fuzz tests draw new inputs on every run on a developer's machine; in CI they draw the same
# ones every time (a failure found at random is fixed and pinned as a plain test, never left to chance).
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
