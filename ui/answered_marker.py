"""The "answered on this phone" marker: a cookie named after the round, holding "1" and nothing else.

Shared by the Streamlit page (ui.phone sets it from a script in the page) and the light citizen page
(citizen_web sets it with a Set-Cookie header); either page reads the other's.  It identifies
nobody: it is not stored on the server, and it is no guarantee of one answer per person either (a
private tab has no cookie); rounds that need that use invitation codes.  No Streamlit here.
"""

from __future__ import annotations

import re

MARKER_DAYS = 180  # longer than any round


def cookie_name(round_code: str) -> str:
    return "survey_answered_" + re.sub(r"[^A-Za-z0-9_-]", "_", str(round_code))


def is_marked(cookies, round_code: str) -> bool:
    return cookies.get(cookie_name(round_code)) == "1"
