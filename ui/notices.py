"""Confirmations after a save that survive the rerun the save ends with.

A page saves, then calls ``st.rerun()`` so every table shows the new state; a toast drawn just
before the rerun can vanish with it.  ``confirm`` keeps the text in session state and
``show_pending`` (run first thing by every page, through ``ui.i18n.language_switch``) shows it.
"""

from __future__ import annotations

import streamlit as st

KEY = "notices.pending"


def confirm(text: str) -> None:
    st.session_state.setdefault(KEY, []).append(text)


def show_pending() -> None:
    for text in st.session_state.pop(KEY, []):
        st.toast(text, icon=":material/check_circle:")
