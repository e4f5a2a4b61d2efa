"""Who is using this browser, and what they may see.

A login is a staff session in the database (data.accounts).  This tab keeps the session's id in
session state; other tabs and a refresh find it through an HttpOnly cookie holding a random token,
of which the database keeps only a keyed hash.  The page never sees the token: after a login the
tab shows an invisible image whose address carries a one-time code, and the server's answer to it
(ui/session_routes.py) makes the token and sets the cookie.  Every run re-reads the session and
the account, so a logout, a disabled account or a changed role takes effect at the next click in
every tab, and a session ends after SURVEY_IDLE_MINUTES without activity (default 30).
"""

from __future__ import annotations

import ipaddress
import os
import time
from datetime import datetime, timedelta

import streamlit as st

from data import accounts
from data.db import read_session, write_session
from ui.state import engine

KEY = "auth"
SESSION_COOKIE = "survey_staff"
DEVICE_COOKIE = "survey_device"
CLAIM_PATH = "api/staff-session"  # relative: every page's address is one level below the app's root
END_PATH = "api/staff-session/end"
CLEAR_SHOWN_FOR = 30  # seconds the cookie-clearing image stays on the page after a logout

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


def _cookies() -> dict[str, str]:
    try:
        cookies = dict(st.context.cookies)
    except Exception:  # no browser behind this run (AppTest): no cookies
        return {}
    return {name: value for name, value in cookies.items() if isinstance(value, str)}


def client_source() -> str:
    """The client's address, for throttling logins per source.  Behind a reverse proxy on this
    machine (or one named in SURVEY_TRUSTED_PROXIES) it is the address the proxy appended to
    X-Forwarded-For; a header from anyone else is ignored, since a client could write anything."""
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For", "")
    except Exception:
        return "unknown"
    peer = peer if isinstance(peer, str) else ""  # AppTest has no client
    forwarded = forwarded if isinstance(forwarded, str) else ""
    trusted = {p.strip() for p in os.environ.get("SURVEY_TRUSTED_PROXIES", "").split(",") if p.strip()}
    try:
        from_proxy = ipaddress.ip_address(peer).is_loopback or peer in trusted
    except ValueError:
        from_proxy = False
    if from_proxy and forwarded:
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer[:64] or "unknown"


def current_user() -> accounts.StaffIdentity | None:
    session_auth = st.session_state.get(KEY)
    token = None if session_auth else _cookies().get(SESSION_COOKIE)
    if not session_auth and not token:
        return None
    with read_session(engine()) as session:
        check = accounts.check_session(session, idle_limit(), token=token,
                                       session_id=session_auth["session_id"] if session_auth else None)
    if check.ended:
        with write_session(engine()) as session:
            accounts.end_session(session, session_id=check.session_id)
            if session_auth:
                accounts.record(session, session_auth["user"].username, "logout", session_auth["user"].username,
                                reason="idle" if check.expired else "disabled")
    if check.staff is None:
        st.session_state.pop(KEY, None)
        if check.expired:
            st.session_state["auth_notice"] = "expired"
        return None
    if check.stale:
        with write_session(engine()) as session:
            accounts.touch_session(session, check.session_id)
    kept = session_auth or {}
    st.session_state[KEY] = {
        "user": check.staff, "session_id": check.session_id,
        # The one-time code stays until the cookie is set, so the image survives reruns.
        "handoff": kept.get("handoff") if check.cookie_pending else None,
    }
    return check.staff


def current_session_id() -> int | None:
    return (st.session_state.get(KEY) or {}).get("session_id")


def login(username: str, password: str) -> accounts.LoginOutcome:
    cookies = _cookies()
    with write_session(engine()) as session:
        outcome = accounts.authenticate(session, username, password, source=client_source(),
                                        device=cookies.get(DEVICE_COOKIE))
        if outcome.staff is not None:
            session_id, code = accounts.start_session(session, outcome.staff)
    if outcome.staff is not None:
        st.session_state[KEY] = {"user": outcome.staff, "session_id": session_id, "handoff": code}
        st.session_state["auth_landing"] = True
        st.session_state.pop("auth_cookie_cleared_at", None)
    return outcome


def logout(reason: str = "logout") -> None:
    """End the session in every tab of this browser, and drop the cookie."""
    session_auth = st.session_state.pop(KEY, None)
    with write_session(engine()) as session:
        accounts.end_session(session, session_id=session_auth["session_id"] if session_auth else None,
                             token=_cookies().get(SESSION_COOKIE))
        if session_auth:
            accounts.record(session, session_auth["user"].username, "logout", session_auth["user"].username,
                            reason=reason)
    st.session_state["auth_cookie_cleared_at"] = time.monotonic()


def cookie_bridge() -> None:
    """The invisible images that set the session cookie after a login and drop it after a logout.
    Without the server's routes (``streamlit run survey_app.py``, AppTest) they load nothing and a
    login lasts as long as the tab, as before."""
    session_auth = st.session_state.get(KEY) or {}
    if session_auth.get("handoff"):
        st.sidebar.html(f'<img src="{CLAIM_PATH}?code={session_auth["handoff"]}" width="1" height="1" alt="">')
    cleared_at = st.session_state.get("auth_cookie_cleared_at")
    if cleared_at is not None:
        if time.monotonic() - cleared_at < CLEAR_SHOWN_FOR:
            st.sidebar.html(f'<img src="{END_PATH}" width="1" height="1" alt="">')
        else:
            st.session_state.pop("auth_cookie_cleared_at", None)


def sidebar(staff: accounts.StaffIdentity | None) -> None:
    """Who is logged in and the area they see, at the top of the sidebar; then the cookie images."""
    from ui.i18n import lang, t

    if staff is not None:
        st.sidebar.markdown(t("logged_in_as", name=staff.display_name, role=t(f"role_{staff.role}")))
        st.sidebar.caption(t("sidebar_scope", scope=scope_name(staff.area_id, lang())))
    cookie_bridge()


def scope_name(area_id: int | None, language: str) -> str:
    from data.db import database_url
    from ui import cached
    from ui.i18n import t

    if area_id is None:
        return t("whole_city")
    areas = cached.areas(database_url()).set_index("id")
    if area_id not in areas.index:
        return str(area_id)
    return str(areas.at[area_id, "name_en" if language == "en" else "name_zh"])


def land_after_login(pages: list) -> None:
    """Right after a login, open the page the visitor had asked for (a bookmark opened while logged
    out), if their role has it, else the role's first page, instead of staying on the account page."""
    if st.session_state.pop("auth_landing", False) and pages:
        wanted = st.session_state.pop("auth_wanted", None)
        st.switch_page(next((page for page in pages if page.url_path == wanted), pages[0]))


def page_outside_menu(name: str):
    """What the address of a page outside the visitor's menu shows: a word in their language (log in
    first, or not for this role) instead of Streamlit's English "Page not found", while the page's own
    file never runs.  After a login the visitor lands on the page they asked for."""

    def page() -> None:
        from ui.i18n import language_switch, t

        language_switch()
        staff = current_user()
        if staff is None:
            st.session_state["auth_wanted"] = name
            st.info(t("page_needs_login", page=t(f"page_{name}")))
            st.page_link("pages/account.py", label=t("page_login"))
        else:
            st.warning(t("page_not_for_role", page=t(f"page_{name}"), role=t(f"role_{staff.role}")))

    page.__name__ = f"outside_menu_{name}"
    return page


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
    return require(*roles_of(page))


def roles_of(page: str) -> tuple[str, ...]:
    return tuple(role for role, pages in PAGES_BY_ROLE.items() if role and page in pages)


def still_allowed(page: str) -> None:
    """For parts of a page that rerun on their own (st.fragment with run_every): if the account
    was disabled or lost the page's role meanwhile, rerun the whole app, whose navigation and
    the page's own check then shut the page."""
    staff = current_user()
    if staff is None or staff.role not in roles_of(page):
        st.rerun(scope="app")


def has_any_user() -> bool:
    with read_session(engine()) as session:
        return accounts.has_users(session)
