"""Real-browser fixtures: the real app (``streamlit run``) on a throw-away demo database, driven by
Debian's headless Chromium through Playwright's sync API.

Without /usr/bin/chromium the browser tests are skipped with a reason; in CI (CI set) that is an
error instead, so the browser half of the suite can never silently vanish.  Playwright's own browser
download is never used: the tests always launch the system Chromium.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from data.db import make_engine, upgrade_database
from data.demo import load_demo

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"  # gitignored: screenshots for a human to look at
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
STARTUP_TIMEOUT = 60  # seconds for the app to answer its health check


def _require_or_skip(problem: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests are required in CI: {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium; checked before anything is started."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _require_or_skip(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        _require_or_skip(f"the playwright Python package is not installed: {error}")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def live_database_url(chromium_path, tmp_path_factory) -> str:
    """A SQLite file holding the demo city (3 interviews per community and round)."""
    path = tmp_path_factory.mktemp("browser") / "survey.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_database(engine)
    load_demo(engine, per_community=(3, 3))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def live_engine(live_database_url):
    """An engine on the app's database, for the tests' own checks and set-up."""
    engine = make_engine(live_database_url)
    yield engine
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Terminate the app and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def _running_app(database_url: str, log_dir: Path, demo: bool = False) -> Iterator[str]:
    """``streamlit run serve.py`` (the app and its routes) on the database; yields its base URL, stops it afterwards.
    With ``demo`` the app fills an empty database with the demo city itself, as a first start does."""
    port = _free_port()
    log_path = log_dir / "streamlit.log"
    env = dict(os.environ, DATABASE_URL=database_url, SURVEY_DEMO="1" if demo else "0", PYTHONUNBUFFERED="1")
    command = [
        sys.executable, "-m", "streamlit", "run", "serve.py",  # the app with its cookie routes
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        # Others may edit the source while the tests run: never offer or do a rerun on file changes.
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not become healthy within {STARTUP_TIMEOUT} s:\n"
                            f"{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def app_url(live_database_url, browser, tmp_path_factory) -> Iterator[str]:
    """Base URL of the real app, already opened once at its root.

    Streamlit keeps serving the legacy ``pages/`` directory until some session has run the entry
    file's st.navigation; until then a deep link such as /survey runs pages/survey.py *without*
    survey_app.py (see test_first_visitor_after_a_restart_* for what that breaks).  One visit to
    the root puts the server in its normal state, so the other tests do not depend on their order.
    """
    with _running_app(live_database_url, tmp_path_factory.mktemp("streamlit")) as base_url:
        context = browser.new_context()
        page = context.new_page()
        # A fresh server's first run imports and caches everything: on a busy 2-core machine it can
        # take longer than the 20 s the other waits allow, so this one waits as long as the start-up.
        page.goto(base_url + "/", wait_until="domcontentloaded")
        wait_idle(page, timeout=STARTUP_TIMEOUT * 1000)
        page.locator('[data-testid="stSidebarNav"], [data-testid="stNavSectionHeader"], h1').first.wait_for(
            timeout=STARTUP_TIMEOUT * 1000)
        context.close()
        yield base_url


@pytest.fixture(scope="session")
def cold_app_url(live_database_url, tmp_path_factory) -> Iterator[str]:
    """A second app on the same database that stays as after a restart: nobody ever opens its root,
    so it keeps serving deep links from the legacy pages/ folder.  Only deep links may be opened here."""
    with _running_app(live_database_url, tmp_path_factory.mktemp("streamlit-cold")) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _page_in(context, request):
    """A page of the context; on a failed test its last screen is saved under tests/artifacts/."""
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"FAILED_{request.node.name}.png"), full_page=True)
        except Exception:  # a screenshot must never hide the real failure
            pass
    context.close()


@pytest.fixture
def phone(browser, request):
    """A page in a fresh phone-sized context (an iPhone-12-like screen, Chinese locale)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="zh-CN",
    )
    yield from _page_in(context, request)


@pytest.fixture
def desktop(browser, request):
    """A page in a fresh desktop context (the staff pages are used on office PCs)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield from _page_in(context, request)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# ------------------------------------------------------------------------------------ helpers


def wait_idle(page, timeout: float = 20_000) -> None:
    """Wait until the app has finished its current script run (Streamlit marks it on stApp).

    A run that ends in st.rerun() may look idle for a moment, so callers still wait for the text
    they expect next; this only saves them from acting on a page that is being redrawn."""
    page.locator('[data-testid="stApp"]').wait_for(state="attached", timeout=timeout)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            const state = app.getAttribute('data-test-script-state');
            return !['initial', 'running', 'rerunRequested'].includes(state);
        }""",
        timeout=timeout,
    )


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_idle(page)
