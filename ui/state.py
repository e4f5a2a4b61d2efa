"""Things created once per process and shared by every session."""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy import Engine

from data.db import DatabaseNotWritable, database_url, open_database
from data.demo import load_demo
from ui.i18n import in_language


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = open_database(url)
    # Only fills an empty database, so a newcomer never opens on an empty screen; a real
    # deployment sets SURVEY_DEMO=0 and starts from its own areas and questionnaire.
    if os.environ.get("SURVEY_DEMO", "1") != "0":
        load_demo(engine)
    return engine


def engine() -> Engine:
    # Keyed by the URL so tests that point DATABASE_URL elsewhere get their own engine.
    try:
        return _engine_for(database_url())
    except DatabaseNotWritable as problem:  # not cached: fixed permissions take effect at the next visit
        st.error(in_language(problem))
        st.stop()
