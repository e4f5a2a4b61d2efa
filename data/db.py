"""Engine and session set-up: SQLite file by default, PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import orjson
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


def json_text(value) -> str:
    """How a JSON column's value is stored: UTF-8 text (Chinese as itself, not \\u escapes) made by
    orjson, ten times faster than ``json.dumps``, which took a fifth of a bulk import's time."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        return _make_sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=json_text)


def _make_sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=json_text)
    path = engine.url.database
    checkpointer = None
    if path and path != ":memory:" and not path.startswith("file:"):
        checkpointer = _CHECKPOINTERS[engine] = _Checkpointer(path)
        weakref.finalize(engine, checkpointer.close)

        @event.listens_for(engine, "engine_disposed")
        def _disposed(_engine):
            checkpointer.pause()  # so that closing the last connection folds the whole log in

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module so that SQLAlchemy's BEGIN is the
        # one that runs (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # 8 KB pages, for a new file only (an existing one keeps its own; before WAL mode, which fixes
        # it): a response with its answers is ~1.4 KB, and 4 KB pages held two, a third of each
        # page unused.  An import of 20,000 responses at a million took ~8 % less time and the file
        # 1.7 instead of 2.1 GB (docs/performance.md).
        cursor.execute("PRAGMA page_size=8192")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MB of page cache instead of 2 MB (the cache grows only as pages are used): a response
        # with a random id (a paper form's, an older form's) lands anywhere in the primary-key
        # index, and every response in one of a thousand places in the community index; at a
        # million responses these indexes no longer fit in the default cache, and with 32 MB an
        # import of 20,000 responses (28 MB of new rows) pushed them out of it: 64 MB made it ~10 %
        # faster (docs/performance.md).
        cursor.execute("PRAGMA cache_size=-64000")
        if checkpointer is not None:  # see _Checkpointer; this is only the backstop
            cursor.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # Writers take the write lock up front, so two writers never deadlock upgrading a read lock.
        turn = connection.get_execution_options().get("writes")
        if turn is not None:
            turn.take()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if turn is not None else "BEGIN DEFERRED")

    return engine


class FifoLock:
    """A lock that serves waiting threads in the order they came.

    ``threading.Lock`` lets the thread that just released it take it straight back, so under a
    steady stream of submissions some writers wait for many turns while others barge in: the
    median stays low but the slowest citizens wait several times longer.  Here the releasing
    thread hands the lock to the longest waiter.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the thread that hands the lock over

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held: now by the next waiter
            else:
                self._held = False

    def waiting(self) -> int:
        with self._mutex:
            return len(self._waiters)

    def __enter__(self) -> "FifoLock":
        self.acquire()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


# SQLite has one writer at a time; queueing writers of this process on a lock is much faster
# than letting them poll SQLite's busy handler, which sleeps in growing steps.
_SQLITE_WRITE_LOCK = FifoLock()


class _WriteTurn:
    """One unit of work's turn at SQLite's single writer, taken when its transaction begins (its
    first statement), so that whatever it computes before that does not keep other writers waiting."""

    def __init__(self) -> None:
        self.taken = False

    def take(self) -> None:
        if not self.taken:
            _SQLITE_WRITE_LOCK.acquire()
            self.taken = True

    def give_back(self) -> None:
        if self.taken:
            self.taken = False
            _SQLITE_WRITE_LOCK.release()


# 160 MB of log (80 MB in a file with 4 KB pages): reached only if the checkpointer falls behind
_BACKSTOP_CHECKPOINT_PAGES = 20_000


class _Checkpointer:
    """Copies SQLite's write-ahead log back into the database file, in a thread of its own.

    SQLite's automatic checkpoint runs inside whichever commit takes the log past 1,000 pages: every
    few dozen submissions one citizen's commit also copied 4 MB into the database file, while every
    submitter queued behind it waited; that was most of the slowest 5 % of submissions.  Here a
    commit only notes that it wrote, and a passive checkpoint (it never waits for, nor blocks,
    readers or writers) runs shortly afterwards in this thread, on the other core while the
    interpreter runs the writers.  The automatic checkpoint stays on at a much larger log, as a
    backstop.  The thread opens a connection per checkpoint, so it never keeps the database open.
    """

    PAUSE = 0.2  # seconds: the commits of that moment are copied in one checkpoint

    def __init__(self, path: str) -> None:
        self._path = path
        self._wrote = threading.Event()
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.checkpoints = 0
        self.last_result: tuple[int, int, int] | None = None  # (busy, log frames, frames copied)

    def wrote(self) -> None:
        with self._mutex:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
                self._thread.start()
        self._wrote.set()

    def pause(self) -> None:
        """Stop the thread after its current checkpoint; the next write starts another."""
        with self._mutex:
            thread, self._thread = self._thread, None
        self._wrote.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            self._thread = None
        self._wrote.set()

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            self._wrote.wait()
            if self._thread is not me:
                return
            time.sleep(self.PAUSE)
            self._wrote.clear()  # a commit from now on asks for the next checkpoint
            if self._thread is not me:
                return
            try:  # mode=rw: a database file deleted meanwhile is not created again
                connection = sqlite3.connect(f"file:{self._path}?mode=rw", uri=True, timeout=30)
            except sqlite3.Error:
                return
            try:
                self.last_result = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += 1
            except sqlite3.Error:
                pass  # busy or gone: the next commit asks again, and the backstop remains
            finally:
                connection.close()


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, _Checkpointer] = weakref.WeakKeyDictionary()


def checkpointer_of(engine: Engine) -> _Checkpointer | None:
    """The engine's log checkpointer (SQLite files only)."""
    return _CHECKPOINTERS.get(engine)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes: commits on success, rolls back on any error."""
    if engine.dialect.name != "sqlite":
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
        return
    turn = _WriteTurn()
    try:
        with Session(engine.execution_options(writes=turn), expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        turn.give_back()  # after the commit or rollback, once the connection is back in the pool
    checkpointer = _CHECKPOINTERS.get(engine)
    if checkpointer is not None:
        checkpointer.wrote()


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


class DatabaseNotWritable(RuntimeError):
    """The database can be read but not written (a read-only file or directory, a full disk, a
    read-only PostgreSQL role): the app cannot serve anyone, and says so in plain words."""


NOT_WRITABLE_MESSAGE = ("数据库无法写入：数据库文件或其所在目录是只读的（或磁盘已满、账号无写权限）。请管理员检查 DATABASE_URL "
                        "所指数据库的权限后重启 / the database cannot be opened for writing: its file or folder is "
                        "read-only (or the disk is full, or the account may not write). The administrator should check "
                        "the permissions of the database DATABASE_URL names and restart the app")


def open_database(url: str | None = None) -> Engine:
    """An engine on the database, migrated to the newest schema and proven writable, or
    ``DatabaseNotWritable`` (the full cause goes to the log, not to the visitor)."""
    import logging

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(url)
    try:
        upgrade_database(engine)
        with write_session(engine) as session:  # a write that changes nothing: is writing allowed?
            session.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except DBAPIError as error:
        logging.getLogger(__name__).error("database %s not writable: %s",
                                          engine.url.render_as_string(hide_password=True), error)
        engine.dispose()
        raise DatabaseNotWritable(NOT_WRITABLE_MESSAGE) from None
    return engine


def upgrade_database(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(DATA_DIR / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

