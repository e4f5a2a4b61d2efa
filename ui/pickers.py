"""Pickers several pages share."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from data.models import SurveyRound
from ui.i18n import lang, t


def round_names(rounds: Sequence[SurveyRound]) -> dict[str, str]:
    """Round code → the round's name in the user's language."""
    english = lang() == "en"
    return {r.code: r.name_en if english else r.name_zh for r in rounds}


def round_picker(rounds: Sequence[SurveyRound], key: str, where=st, label: str | None = None,
                 back: int = 0) -> str:
    """A select box of rounds by name; the newest is chosen first (``back``: that many before it).
    Returns the chosen round's code; with no round at all the page says so and stops."""
    if not rounds:
        # A new deployment has no round yet: say so rather than fail on an empty list.
        st.info(t("no_rounds"))
        st.stop()
    names = round_names(rounds)
    return where.selectbox(label or t("round"), list(names), index=len(rounds) - 1 - back,
                           format_func=names.get, key=key)
