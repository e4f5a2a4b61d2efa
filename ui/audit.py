"""Audit records written from pages (downloads happen in the browser, so the click is recorded)."""

from data import accounts
from data.db import write_session
from ui.state import engine


def export(username: str, round_code: str, what: str, rows: int) -> None:
    with write_session(engine()) as session:
        accounts.record(session, username, "export", round_code, what=what, rows=rows)
