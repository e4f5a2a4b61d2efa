"""Plain-language explanation of the indicators and the statistics (the text lives in docs/)."""

from pathlib import Path

import streamlit as st

from ui.i18n import lang, language_switch

language_switch()

DOCS = Path(__file__).resolve().parent.parent / "docs"

st.markdown((DOCS / f"methods.{lang()}.md").read_text(encoding="utf-8"))
