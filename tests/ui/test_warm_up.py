"""The server's warm-up (ui/warm_up.py) imports modules that exist and draws its figures without error:
a renamed module would otherwise only show as a logged exception at every start."""

from __future__ import annotations

import logging
import sys

from ui import warm_up


def test_warm_up_imports_every_module_and_draws_its_figures(caplog):
    with caplog.at_level(logging.ERROR, logger=warm_up.__name__):
        warm_up.warm_up()
    assert [record.getMessage() for record in caplog.records] == []
    assert all(name in sys.modules for name in warm_up.MODULES)
