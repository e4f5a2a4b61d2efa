"""What a visitor sees when a page fails unexpectedly: a short message and a reference, never a traceback.

The full error, with its traceback, goes to the server log under the same reference, so an
administrator can find it from what the visitor reports.  Streamlit's own error details are off
(``client.showErrorDetails = "none"`` in .streamlit/config.toml) for whatever escapes this.
"""

from __future__ import annotations

import logging
import uuid

import streamlit as st

from ui.i18n import t

log = logging.getLogger("survey.errors")


def run_page(page) -> None:
    """``page.run()``; an exception becomes a bilingual message with a reference id logged in full.
    Streamlit's own control flow (st.stop, st.rerun, st.switch_page) is not an Exception and passes."""
    try:
        page.run()
    except Exception:  # every unexpected error of every page, by design
        reference = uuid.uuid4().hex[:10]
        log.exception("page %s failed; reference %s", getattr(page, "url_path", "?"), reference)
        st.error(t("unexpected_error", reference=reference))
