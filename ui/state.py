"""Things created once per process and shared by every session."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from data.db import DatabaseNotWritable, database_url
from data.demo import open_app_database
from ui.i18n import in_language


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return open_app_database(url)  # created or upgraded; the demo city in an empty one (SURVEY_DEMO)


def engine() -> Engine:
    # Keyed by the URL so tests that point DATABASE_URL elsewhere get their own engine.
    try:
        return _engine_for(database_url())
    except DatabaseNotWritable as problem:  # not cached: fixed permissions take effect at the next visit
        st.error(in_language(problem))
        st.stop()
