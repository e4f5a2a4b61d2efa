"""Make sure every visit goes through the entry file's navigation.

Until some session has run `st.navigation`, Streamlit treats an app that has a `pages/` folder as a
legacy multipage app: a URL such as /dashboard runs pages/dashboard.py directly, without the entry
file, and the sidebar lists every file.  The first such visit is sent through the entry once (with
its URL parameters); after that Streamlit uses our navigation for every session of the process.
"""

from pathlib import Path

import streamlit as st

ENTRY = str(Path(__file__).resolve().parent.parent / "survey_app.py")
_entry_has_run = False


def mark_entry_run() -> None:
    global _entry_has_run
    _entry_has_run = True


def ensure_entry_run() -> None:
    if not _entry_has_run:
        st.switch_page(ENTRY, query_params=st.query_params.to_dict())  # keep ?lang=, ?community=
