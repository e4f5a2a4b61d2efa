"""Engine and session set-up: SQLite file by default, PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = DATA_DIR / "survey.sqlite3"


def database_url() -> str:
    """The URL in DATABASE_URL, else the default SQLite file under data/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        return _make_sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _make_sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module so that SQLAlchemy's BEGIN is the
        # one that runs (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # Writers take the write lock up front, so two writers never deadlock upgrading a read lock.
        mode = "IMMEDIATE" if connection.get_execution_options().get("writes") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


# SQLite has one writer at a time; queueing writers of this process on a lock is much faster
# than letting them poll SQLite's busy handler, which sleeps in growing steps.
_SQLITE_WRITE_LOCK = threading.Lock()


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes: commits on success, rolls back on any error."""
    is_sqlite = engine.dialect.name == "sqlite"
    bind = engine.execution_options(writes=True) if is_sqlite else engine
    lock = _SQLITE_WRITE_LOCK if is_sqlite else nullcontext()
    with lock, Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work that sees one consistent snapshot of the database.

    SQLite in WAL mode gives a snapshot per transaction; on PostgreSQL we ask for REPEATABLE READ so
    that counts and rates read by several statements come from the same moment.
    """
    bind = engine
    if engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


def upgrade_database(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(DATA_DIR / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

