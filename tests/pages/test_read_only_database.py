"""A database that cannot be written gets a clear message at start, not "unable to open database file"."""

from __future__ import annotations

import pytest

from data.db import DatabaseNotWritable, open_database

@pytest.fixture
def read_only_url(demo_url, monkeypatch):
    """The demo database opened read-only by SQLite itself (the tests run as root, whom file
    permissions do not stop; the permission case is the subprocess test below)."""
    path = demo_url.removeprefix("sqlite:///")
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_open_database_refuses_a_read_only_database(read_only_url):
    with pytest.raises(DatabaseNotWritable, match="cannot be opened for writing"):
        open_database(read_only_url)


def test_the_app_says_so_in_plain_words(app, read_only_url):
    app.run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert any("数据库无法写入" in e for e in errors)
    assert not any("unable to open" in e or "readonly" in e or "/tmp" in e for e in errors)
