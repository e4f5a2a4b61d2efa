"""Smaller leaks, through the real pages: exclusion reasons keep to the reader's area and are shown
as plain text (a Markdown image in a reason must not make every analyst's browser fetch its URL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data.responses import set_response_status
from data.rounds import round_by_code
from data.db import make_engine, read_session, write_session
from data.models import Area, Response
from data.scope import CITY
from tests.pages.conftest import create_staff, log_in

IMAGE = "![x](http://evil.example/track.png)"


def exclude_one(url: str, district: str, reason: str) -> None:
    engine = make_engine(url)
    with read_session(engine) as session:
        survey_round = round_by_code(session, "2026-R2")
        response_id = session.scalar(select(Response.id).join(Area, Area.id == Response.community_id).where(
            Response.round_id == survey_round.id, Response.status == "included", Response.eligible.is_(True),
            Area.code.startswith(district)).limit(1))
    with write_session(engine) as session:
        set_response_status(session, "admin", [response_id], "excluded", reason, scope=CITY)
    engine.dispose()


@pytest.fixture
def excluded(staff_app, demo_url):
    exclude_one(demo_url, "CD", IMAGE)
    exclude_one(demo_url, "CX", "CX-only reason")
    create_staff(demo_url, "cd_analyst", "analyst", "CD")
    create_staff(demo_url, "cd_organiser", "organiser", "CD")
    return staff_app


def texts(app) -> list[str]:
    return [e.value for e in (*app.caption, *app.markdown, *app.info, *app.error, *app.warning)]


def test_dashboard_shows_only_its_areas_reasons_as_plain_text(excluded):
    log_in(excluded, "cd_analyst")
    excluded.switch_page("pages/dashboard.py").run()
    assert not excluded.exception
    shown = "\n".join(texts(excluded))
    assert "\\!\\[x\\]\\(http\\:" in shown  # escaped: rendered as the characters, never as an image
    assert IMAGE not in shown
    assert "CX-only reason" not in shown


def test_quality_page_lists_only_its_areas_exclusions(excluded):
    log_in(excluded, "cd_organiser")
    excluded.switch_page("pages/quality.py").run()
    assert not excluded.exception
    tables = "\n".join(frame.value.to_string() for frame in excluded.dataframe)
    assert "evil.example" in tables and "CX-only reason" not in tables
