"""Import what the staff pages need once, when the server starts, not on some user's first click.

Profiling a fresh server's first visit of each staff page (``python -m bench.page_profile quality
comments dashboard --cold --demo-size 34,40``, docs/performance.md) showed the time of a first
click going mostly to imports the process makes once: 数据质量's first open took 9.6 s, of which
6.6 s were importing scipy.stats (and statsmodels) and 0.5 s building the page; 居民意见's 4.3 s
included 0.8 s importing plotly.express and 1.3 s for plotly's first figure (its validators load on
first use).  A thread started with the server (serve.py's lifespan) does that work while nobody
waits for it; a page that needs a module still being imported waits for the import as before.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from contextlib import asynccontextmanager

logger = logging.getLogger(__name__)

# Heavy third-party modules first (what the profile showed), then our modules that import them.
MODULES = (
    "scipy.stats",
    "statsmodels.stats.multitest",
    "statsmodels.stats.proportion",
    "plotly.graph_objects",
    "plotly.express",
    "analysis.quality",
    "analysis.weighting",
    "analysis.comments",
    "reports.results",
    "ui.charts",
)


def warm_up() -> float:
    """Import MODULES and draw one small figure of each kind the pages draw; seconds taken."""
    started = time.perf_counter()
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # never stop the server over an optional speed-up
            logger.exception("warm-up could not import %s", name)
    try:
        import plotly.express as px
        import plotly.graph_objects as go

        px.bar(x=["a"], y=[1]).to_plotly_json()
        go.Figure(go.Scatter(x=[1], y=[1], error_x={"type": "data", "array": [0.1]})).to_plotly_json()
    except Exception:
        logger.exception("warm-up could not build a figure")
    return time.perf_counter() - started


def start() -> threading.Thread:
    thread = threading.Thread(target=lambda: logger.info("warm-up took %.1f s", warm_up()), name="warm-up",
                              daemon=True)
    thread.start()
    return thread


@asynccontextmanager
async def lifespan(app):
    """st.App's lifespan hook: the warm-up starts as the server starts and is not waited for."""
    start()
    yield
