"""No tracebacks for users: a page that raises shows a short bilingual message with a reference,
and the server log holds the full error under that reference."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from data import rounds


def test_streamlit_error_details_are_off_in_the_shipped_config():
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_a_raising_page_shows_a_reference_and_no_traceback(app, monkeypatch, caplog):
    def broken(_session):
        raise RuntimeError("secret detail in /work/wt/harden/data/repository.py line 1")

    monkeypatch.setattr(rounds, "list_rounds", broken)
    # ui.cached holds its own reference once any earlier test has imported it.
    import ui.cached

    monkeypatch.setattr(ui.cached, "list_rounds", broken)
    with caplog.at_level(logging.ERROR, logger="survey.errors"):
        app.run()
    assert not app.exception
    shown = [element.value for element in (*app.error, *app.markdown, *app.warning, *app.info)]
    message = next(text for text in shown if "参考编号" in text)
    reference = re.search(r"参考编号 ([0-9a-f]{10})", message).group(1)
    assert not any("Traceback" in text or "/work/" in text or "secret detail" in text for text in shown)
    logged = [record for record in caplog.records if reference in record.getMessage()]
    assert logged and "secret detail" in "".join(logging.Formatter().formatException(r.exc_info) for r in logged)
