"""The logged-in user's area scope, for pages to hand to the data functions that enforce it."""

from __future__ import annotations

from data import accounts
from data.db import read_session
from data.scope import CITY, Scope, scope_of
from ui.state import engine


def scope_for(staff: accounts.StaffIdentity | None) -> Scope:
    """Read afresh on every run (one small query): a scope changed by the admin applies at the next click."""
    if staff is None or staff.area_id is None:
        return CITY
    with read_session(engine()) as session:
        return scope_of(session, staff.area_id)
