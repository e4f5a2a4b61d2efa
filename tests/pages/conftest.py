"""Page tests run the real app (streamlit.testing AppTest) on a real SQLite file holding the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.db import make_engine, upgrade_database
from data.demo import load_demo

APP = str(Path(__file__).resolve().parents[2] / "survey_app.py")


@pytest.fixture(scope="session")
def demo_database_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    load_demo(engine, per_community=(12, 14))
    engine.dispose()  # checkpoints the WAL into the file we copy
    return path


@pytest.fixture
def demo_url(demo_database_file, tmp_path, monkeypatch) -> str:
    """DATABASE_URL of a private copy of the demo database for one test."""
    copy = tmp_path / "survey.sqlite3"
    shutil.copy(demo_database_file, copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def app(demo_url) -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


PASSWORD = "test password 1"


def create_staff(url: str, username: str, role: str, area_code: str | None = None) -> None:
    from data import accounts
    from data.areas import child_areas
    from data.db import write_session

    engine = make_engine(url)
    with write_session(engine) as session:
        area_id = None
        if area_code:
            area_id = next(a.id for a in child_areas(session, None, "district") +
                           child_areas(session, None, "street") if a.code == area_code)
        accounts.create_user(session, None, username, PASSWORD, role, area_id=area_id)
    engine.dispose()


def log_in(app: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Log in through the real account page, as a person would."""
    app.run()
    app.switch_page("pages/account.py").run()
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    next(b for b in app.button if b.label in ("登录", "Log in")).click().run()
    return app


@pytest.fixture
def staff_app(app, demo_url):
    """An app on the demo database that already has an admin (so the set-up step is done)."""
    create_staff(demo_url, "admin", "admin")
    return app


def area_id(url: str, code: str) -> int:
    """The id of an area of the demo city by its code (AppTest selects by value, not by label)."""
    from sqlalchemy import select

    from data.db import read_session
    from data.models import Area

    engine = make_engine(url)
    with read_session(engine) as session:
        found = session.scalar(select(Area.id).where(Area.code == code))
    engine.dispose()
    return found
