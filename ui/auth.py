"""Who is using this browser session, and what they may see.

The logged-in identity lives in session state only; every run re-reads the account from the
database (a disabled account or a changed role takes effect at the next click) and logs out after
SURVEY_IDLE_MINUTES of inactivity (default 30).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import streamlit as st

from data import accounts
from data.db import read_session, write_session
from ui.state import engine

KEY = "auth"

# Which pages each role reaches; the entry file builds the navigation from this one table.
PAGES_BY_ROLE = {
    None: ("survey", "methods", "account"),
    "admin": ("dashboard", "insights", "comments", "drilldown", "compare", "weighting", "report", "survey", "rounds",
              "fieldwork", "quality", "questionnaires", "users", "audit", "planner", "methods", "account"),
    "organiser": ("fieldwork", "survey", "interview", "rounds", "links", "paper", "quality", "questionnaires",
                  "dashboard", "insights", "comments", "drilldown", "compare", "weighting", "report", "planner",
                  "methods", "account"),
    "analyst": ("dashboard", "insights", "comments", "drilldown", "compare", "weighting", "report", "planner", "survey",
                "methods", "account"),
    "interviewer": ("interview", "survey", "methods", "account"),
}


def idle_limit() -> timedelta:
    try:
        return timedelta(minutes=float(os.environ.get("SURVEY_IDLE_MINUTES", "30")))
    except ValueError:
        return timedelta(minutes=30)


def current_user() -> accounts.StaffIdentity | None:
    session_auth = st.session_state.get(KEY)
    if not session_auth:
        return None
    now = datetime.now()
    if now - session_auth["last_seen"] > idle_limit():
        logout(reason="idle")
        st.session_state["auth_notice"] = "expired"
        return None
    with read_session(engine()) as session:
        staff = accounts.still_allowed(session, session_auth["user"])
    if staff is None:
        logout(reason="disabled")
        return None
    session_auth.update(user=staff, last_seen=now)
    return staff


def login(username: str, password: str) -> accounts.LoginOutcome:
    with write_session(engine()) as session:
        outcome = accounts.authenticate(session, username, password)
    if outcome.staff is not None:
        st.session_state[KEY] = {"user": outcome.staff, "last_seen": datetime.now()}
    return outcome


def logout(reason: str = "logout") -> None:
    session_auth = st.session_state.pop(KEY, None)
    if session_auth:
        with write_session(engine()) as session:
            accounts.record(session, session_auth["user"].username, "logout", session_auth["user"].username,
                            reason=reason)


def require(*roles: str) -> accounts.StaffIdentity:
    """Stop the page unless the user has one of these roles (a second lock behind the navigation)."""
    from ui.i18n import t

    staff = current_user()
    if staff is None or staff.role not in roles:
        st.error(t("not_allowed"))
        st.stop()
    return staff


def require_page(page: str) -> accounts.StaffIdentity:
    """Stop the page unless the user's role has it in PAGES_BY_ROLE: the navigation and every staff
    page's own check read the same table, so they can never disagree."""
    return require(*(role for role, pages in PAGES_BY_ROLE.items() if role and page in pages))


def has_any_user() -> bool:
    with read_session(engine()) as session:
        return accounts.has_users(session)
