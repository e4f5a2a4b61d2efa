"""SQLite's write-ahead log is copied back into the database file by a thread of its own
(data.db._Checkpointer), not inside a citizen's commit.  SQLite only: PostgreSQL has no such log."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from data.areas import add_area
from data.db import checkpointer_of, make_engine, upgrade_database, write_session


def _add_districts(engine, start: int, count: int) -> None:
    for k in range(start, start + count):
        with write_session(engine) as session:
            add_area(session, f"D{k:03d}", f"区{k}", "district")


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_commits_leave_the_checkpoint_to_the_thread(sqlite_engine):
    engine = sqlite_engine  # tests/conftest.py: a migrated SQLite file
    checkpointer = checkpointer_of(engine)
    with engine.connect() as connection:
        # The automatic checkpoint is only a backstop, far above SQLite's default of 1,000 pages.
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 20_000
    _add_districts(engine, 0, 30)
    # A passive checkpoint that copied the whole log (frames in the log == frames copied) ran
    # after the writes, in the checkpointer's thread.
    assert _wait_for(lambda: checkpointer.checkpoints >= 1 and checkpointer.last_result is not None
                     and checkpointer.last_result[1] > 0
                     and checkpointer.last_result[1] == checkpointer.last_result[2])


def test_dispose_folds_the_whole_log_into_the_file(sqlite_engine, tmp_path):
    engine, path = sqlite_engine, Path(sqlite_engine.url.database)
    _add_districts(engine, 0, 40)
    engine.dispose()
    # The file alone, without its -wal, holds every row (what copying a database file relies on).
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(path, copy)
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT count(*) FROM area").fetchone()[0] == 40
    # A disposed engine still works, and checkpoints again.
    runs = checkpointer_of(engine).checkpoints
    _add_districts(engine, 40, 5)
    assert _wait_for(lambda: checkpointer_of(engine).checkpoints > runs)


def test_a_deleted_database_is_not_created_again(sqlite_engine):
    engine, path = sqlite_engine, Path(sqlite_engine.url.database)
    _add_districts(engine, 0, 3)
    checkpointer = checkpointer_of(engine)
    assert _wait_for(lambda: checkpointer.checkpoints >= 1)
    runs = checkpointer.checkpoints
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    checkpointer.wrote()  # as a commit that raced the deletion would
    time.sleep(checkpointer.PAUSE * 3)
    assert not path.exists()
    assert checkpointer.checkpoints == runs


def test_memory_databases_have_no_checkpointer():
    engine = make_engine("sqlite://")
    assert checkpointer_of(engine) is None
    engine.dispose()


def test_a_new_file_has_8_kb_pages_and_an_old_one_keeps_its_own(tmp_path):
    """data.db sets 8 KB pages (docs/performance.md); only a new file can take them, and a file made
    before, with SQLite's default 4 KB, must keep working as it is."""
    def page_size(path: Path) -> int:
        connection = sqlite3.connect(path)
        try:
            return connection.execute("PRAGMA page_size").fetchone()[0]
        finally:
            connection.close()

    old = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(old)
    connection.execute("PRAGMA page_size=4096")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    for path, expected in ((tmp_path / "new.sqlite3", 8192), (old, 4096)):
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade_database(engine)
            _add_districts(engine, 0, 3)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM area")).scalar() == 3
        finally:
            engine.dispose()
        assert page_size(path) == expected
