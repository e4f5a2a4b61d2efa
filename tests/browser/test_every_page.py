"""Every page of every role's menu, opened in a real browser on a freshly started server: once on
the demo city (SQLite), once on an empty database, once on the demo city in PostgreSQL.

Each role logs in once (one browser context per role) and clicks through its own navigation.
After each click the walk waits until the script run has finished, then fails the page on:

- an exception or traceback in the page, or one in the server's log;
- a text key missing from ui/i18n.py (the server logs it: see ``ui.i18n.t``);
- codes where words belong (tests/browser/page_checks.py: ``18_29``, ``wilson``, ``None`` …);
- an area label or tick label repeated within one table, chart axis or chart trace.

Every page's screenshot is kept under tests/artifacts/every_page/<database>/<role>/ and each
page's time from the click to the end of its run goes to tests/artifacts/page_timings.csv
(measured, never asserted: see docs/performance.md).
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from data import accounts
from data.db import make_engine, read_session, upgrade_database, write_session
from data.demo import load_demo
from data.models import Area
from questionnaires import load_default
from tests.browser.conftest import ARTIFACTS, CHROMIUM_ARGS, _running_app
from tests.browser.page_checks import raw_codes, repeated, repeated_rows

pytestmark = pytest.mark.browser

PASSWORD = "walk password 1"
# role name in this walk → (account role, area scope code, language)
ROLES = {
    "citizen": (None, None, "zh"),
    "interviewer": ("interviewer", None, "zh"),
    "analyst": ("analyst", None, "zh"),
    "district_analyst": ("analyst", "CD", "zh"),
    "organiser": ("organiser", None, "zh"),
    "admin": ("admin", None, "zh"),
    "admin_en": ("admin", None, "en"),
}
DATABASES = ("sqlite-demo", "sqlite-empty", "postgresql-demo")
# Every role on the demo SQLite city.  On the other two databases the roles whose menus together hold
# every page (the organiser's and the admin's), plus what only they can show: the empty database's
# citizen and interviewer (nothing to answer yet), PostgreSQL's district scope.  A full walk of all three
# takes some 20 minutes on the 2-core machine; this one walks every page on every database in about half.
ROLES_ON = {
    "sqlite-demo": None,
    "sqlite-empty": {"citizen", "interviewer", "organiser", "admin"},
    "postgresql-demo": {"district_analyst", "organiser", "admin"},
}
# Interviews per community and round: small, so the walk is quick; WALK_DEMO_SIZE=34,40 gives the
# app's own demo city (data/demo.py) for the page times in docs/performance.md.
DEMO_SIZE = tuple(int(n) for n in os.environ.get("WALK_DEMO_SIZE", "4,4").split(","))
RUN_TIMEOUT = 120_000  # ms; the shared 2-core machine can be very slow, the check is not about speed
TIMINGS = ARTIFACTS / "page_timings.csv"
QUESTIONNAIRE_CODES = {code for q in load_default().questions
                       for code in [q.code, *(o.code for o in q.options)] if len(code) >= 3}
# Values people type that the walk's own accounts put on screen.
# "trio": the end of Demétrio (a cited author) once the non-ASCII é cuts the name.
OWN_WORDS = {f"walk_{role}" for role in ROLES} | {"walk", "admin", "trio", load_default().code}


def _prepare(kind: str, tmp_path_factory, request) -> str:
    if kind.startswith("postgresql"):
        from tests.conftest import _reset_postgres

        url = request.getfixturevalue("postgres_server_url")
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp(kind) / 'survey.sqlite3'}"
    engine = make_engine(url)
    upgrade_database(engine)
    if kind.endswith("demo"):
        load_demo(engine, per_community=DEMO_SIZE)
    with write_session(engine) as session:
        for role, (account_role, scope, _) in ROLES.items():
            if account_role is None:
                continue
            area_id = session.scalar(select(Area.id).where(Area.code == scope)) if scope else None
            if scope and area_id is None:
                continue  # the empty database has no district to scope to
            accounts.create_user(session, None, f"walk_{role}", PASSWORD, account_role, area_id=area_id)
    engine.dispose()
    return url


@pytest.fixture(scope="module", params=DATABASES)
def walk_server(request, chromium_path, tmp_path_factory):
    """A fresh server per database, opened once at its root (see conftest.app_url why)."""
    kind = request.param
    url = _prepare(kind, tmp_path_factory, request)
    log_dir = tmp_path_factory.mktemp(f"walk-{kind}")
    with _running_app(url, log_dir) as base_url:
        yield {"kind": kind, "base": base_url, "log": log_dir / "streamlit.log", "url": url}


@pytest.fixture(scope="module")
def walk_browser(browser):
    # The session's one Playwright (tests/browser/conftest.py): a second sync_playwright() in the same
    # process fails once the first is running ("Sync API inside the asyncio loop").
    return browser


# Words Streamlit itself writes in English whatever the page's language: an empty select box, an
# address outside the menu. (The file uploader's words are checked by their drawn size below.)
STREAMLIT_ENGLISH = ("No options to select", "Page not found", "Choose an option", "Choose options", "No results")
# The file uploader's words ("Upload", "30MB per file • XLSX") that are drawn at a visible size.
_UPLOADER_WORDS_SHOWN = """() => [...document.querySelectorAll(
    '[data-testid="stFileUploaderDropzoneInstructions"] span, [data-testid="stFileUploaderDropzone"] button p')]
    .filter(e => parseFloat(getComputedStyle(e).fontSize) > 0).map(e => e.textContent)"""

# ------------------------------------------------------------------------------------ waiting

RETRY_AFTER_MS = 20_000
_WATCH_RUNS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__walkRuns = 0;
    window.__walkClick = performance.now();
    // Streamlit loads a page's widgets (tables, charts) as script chunks after the run: the browser's
    // resource list must hold them all, and its long tasks (compiling them) are when the page is busy.
    performance.setResourceTimingBufferSize(100000);
    if (!window.__walkBusy) {
        window.__walkBusy = {end: 0};
        new PerformanceObserver(list => { for (const e of list.getEntries())
            window.__walkBusy.end = Math.max(window.__walkBusy.end, e.startTime + e.duration); })
            .observe({type: 'longtask', buffered: true});
    }
    if (window.__walkObserver) window.__walkObserver.disconnect();
    window.__walkObserver = new MutationObserver(records => {
        for (const r of records) {
            if (r.oldValue === 'running' || app.getAttribute('data-test-script-state') === 'running') window.__walkRuns++;
        }
    });
    window.__walkObserver.observe(app, {attributes: true, attributeOldValue: true,
                                        attributeFilter: ['data-test-script-state']});
}"""
_RUN_FINISHED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    return window.__walkRuns > 0 && !['initial', 'running', 'rerunRequested'].includes(state);
}"""


# Resolves once the page has been still for QUIET_MS (no new script or style fetched, no long task,
# every chart drawn) with the moment it last changed: the page as its user sees it, finished.
QUIET_MS = 400
_DRAWN_AT = """(quiet) => new Promise(resolve => {
    let count = -1, changed = performance.now();
    const check = () => {
        const fetched = performance.getEntriesByType('resource').length;
        const undrawn = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
            .filter(chart => !chart.querySelector('.main-svg')).length;
        const now = performance.now();
        if (fetched !== count || undrawn) { count = fetched; changed = now; }
        changed = Math.max(changed, Math.min(window.__walkBusy ? window.__walkBusy.end : 0, now));
        if (now - changed >= quiet) resolve(changed); else setTimeout(check, 25);
    };
    check();
})"""


def _seconds_until_drawn(page) -> float:
    """Seconds from the click (``_WATCH_RUNS``) until the page was finished drawing, in the page's clock."""
    drawn_at = page.evaluate(_DRAWN_AT, QUIET_MS)
    return (drawn_at - page.evaluate("() => window.__walkClick")) / 1000


def _seconds_until_drawn_since_navigation(page) -> float:
    """The same for a page opened by its address: the page's clock starts with the navigation."""
    page.evaluate(_WATCH_RUNS)
    page.evaluate("() => { window.__walkClick = 0; }")
    return _seconds_until_drawn(page)


def _wait_until_idle(page) -> None:
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && !['initial', 'running', 'rerunRequested'].includes(
                       app.getAttribute('data-test-script-state')); }""", timeout=RUN_TIMEOUT)


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator('[data-testid="stApp"]').wait_for(state="attached")
    _wait_until_idle(page)


def _click_and_time(page, link) -> float:
    """Seconds from the click until the run it started has finished and the page is drawn (its tables'
    and charts' scripts loaded and run, its charts drawn): a click timed only to the end of the run left
    the drawing to the next page's time (the first page after login measured 1.6–1.8 s that way, and
    0.4 s once the landing page had been given time to finish; 2026-12-03).

    On a loaded machine a click now and then starts no run at all (the empty database's walks timed
    out waiting for a page's run, and passed when run on their own); a person would click again, and
    so does the walk, once, saying so, with the time counted from the first click.  A link that
    never works still fails."""
    page.evaluate(_WATCH_RUNS)
    started = time.perf_counter()
    link.click()
    try:
        page.wait_for_function("() => window.__walkRuns > 0", timeout=RETRY_AFTER_MS, polling=50)
    except PlaywrightTimeout:
        print(f"walk: the click on {link} started no run in {RETRY_AFTER_MS / 1000:.0f} s; clicking again")
        link.click()
    try:
        page.wait_for_function(_RUN_FINISHED, timeout=RUN_TIMEOUT, polling=50)
    except PlaywrightTimeout:
        state = page.evaluate("""() => ({runs: window.__walkRuns, url: location.pathname, state:
            document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state')})""")
        raise AssertionError(f"no finished run {RUN_TIMEOUT / 1000:.0f} s after the click on {link}: {state}") from None
    return max(time.perf_counter() - started, _seconds_until_drawn(page))


def _wait_for_charts(page) -> None:
    charts = page.locator('[data-testid="stPlotlyChart"]')
    for index in range(charts.count()):
        try:
            charts.nth(index).locator(".main-svg").first.wait_for(timeout=30_000)
        except Exception:  # a chart that never draws shows up in the screenshot and the checks
            pass


# ------------------------------------------------------------------------------------ reading

_CHART_FACTS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
    xticks: [...gd.querySelectorAll('.xtick text')].map(e => e.textContent),
    yticks: [...gd.querySelectorAll('.ytick text')].map(e => e.textContent),
    texts: [...gd.querySelectorAll('text')].map(e => e.textContent),
    traces: (gd.data || []).map(t => ({
        name: t.name || '',
        x: Array.isArray(t.x) && typeof t.x[0] === 'string' ? t.x : [],
        y: Array.isArray(t.y) && typeof t.y[0] === 'string' ? t.y : [],
    })),
}))"""
_TABLES = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] table, [data-testid="stTable"] table')].map(t => ({
    header: [...t.querySelectorAll('thead th')].map(e => e.innerText.trim()),
    rows: [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td, th')].map(e => e.innerText.trim())),
}))"""


def _problems_of_page(page, language: str, log_text: str) -> list[str]:
    problems = []
    if page.locator('[data-testid="stException"]').count():
        problems.append("exception shown: " + page.locator('[data-testid="stException"]').first.inner_text()[:300])
    main = page.locator('[data-testid="stMain"]').inner_text()
    # The whole window: dialogs ("Page not found") and the sidebar live outside the main block.
    everything = page.locator("body").inner_text()
    # What the codes check reads: the same text without code spans and blocks, which show commands,
    # file names and formulas literally on purpose (the methods page quotes `python -m analysis.calibration`).
    readable = page.evaluate("""() => { const literal = [...document.querySelectorAll('code, pre')];
        const shown = literal.map(e => e.style.display); literal.forEach(e => { e.style.display = 'none'; });
        const text = document.body.innerText; literal.forEach((e, i) => { e.style.display = shown[i]; });
        return text; }""")
    if "Traceback" in main or 'File "/' in main:
        problems.append("traceback in the page")
    if "Traceback (most recent call last)" in log_text:
        problems.append("traceback in the server log: " + log_text.split("Traceback (most recent call last)")[1][:400])
    for line in log_text.splitlines():
        if "is missing from ui/i18n.py TEXTS" in line or "does not take the values" in line:
            problems.append("text key: " + line.strip()[-160:])
    charts = page.evaluate(_CHART_FACTS)
    tables = page.evaluate(_TABLES)
    texts = [readable] + [" ".join(c["texts"]) for c in charts] + [
        " ".join(table["header"]) + " " + " ".join(" ".join(row) for row in table["rows"]) for table in tables]
    # Material icons are ligatures: their names (edit_note, account_tree) are text nobody sees.
    icons = set(page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stIconMaterial"], [data-testid="stSidebarCollapseButton"] span, span.material-symbols-rounded')]
        .map(e => e.textContent.trim())"""))
    codes = raw_codes("\n".join(texts), chinese=language == "zh", codes=QUESTIONNAIRE_CODES,
                      allowed=OWN_WORDS | icons)
    if codes:
        problems.append(f"codes where words belong: {sorted(set(codes))[:20]}")
    for number, chart in enumerate(charts, 1):
        for axis in ("xticks", "yticks"):
            if repeated(chart[axis]):
                problems.append(f"chart {number}: repeated {axis[0]} ticks {repeated(chart[axis])} of {chart[axis]}")
        for trace in chart["traces"]:
            for axis in ("x", "y"):
                if repeated(trace[axis]):
                    problems.append(f"chart {number}, trace {trace['name']!r}: repeated {axis} labels "
                                    f"{repeated(trace[axis])[:5]}")
    if language == "zh":
        for english in STREAMLIT_ENGLISH:
            if english in everything:
                problems.append(f"Streamlit's own English in the Chinese page: {english!r}")
        shown = page.evaluate(_UPLOADER_WORDS_SHOWN)
        if shown:
            problems.append(f"the file uploader's own English is shown: {shown}")
    for number, table in enumerate(tables, 1):
        if not table["rows"]:
            problems.append(f"table {number} has no rows (Streamlit writes 'empty' over its headers {table['header']})")
        twice = repeated_rows(table["header"], table["rows"])
        if twice:
            problems.append(f"table {number}: rows for the same area twice {twice[:5]}")
    return problems


# ------------------------------------------------------------------------------------ the walk


def _log_since(log: Path, offset: int) -> tuple[str, int]:
    data = log.read_bytes()
    return data[offset:].decode("utf-8", errors="replace"), len(data)


def _record_timings(rows: list[dict]) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    new = not TIMINGS.exists()
    with open(TIMINGS, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["measured_at", "database", "role", "page", "seconds"])
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _log_in(page, base: str, username: str) -> float:
    """Log in on the account page; the seconds from the click on 登录 until the role's first page is drawn."""
    _open(page, f"{base}/account")
    _seconds_until_drawn_since_navigation(page)  # as a person would: the page is there before they type
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.evaluate(_WATCH_RUNS)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("已登录").wait_for(timeout=RUN_TIMEOUT)
    _wait_until_idle(page)
    return _seconds_until_drawn(page)


def _switch_to_english(page) -> None:
    page.evaluate(_WATCH_RUNS)
    page.locator('[data-testid="stRadio"] label', has_text="English").first.click()
    page.wait_for_function(_RUN_FINISHED, timeout=RUN_TIMEOUT, polling=50)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_the_role_works_and_reads_well(walk_server, walk_browser, role):
    account_role, scope, language = ROLES[role]
    if scope and walk_server["kind"].endswith("empty"):
        pytest.skip("the empty database has no district to scope an analyst to")
    if ROLES_ON[walk_server["kind"]] is not None and role not in ROLES_ON[walk_server["kind"]]:
        pytest.skip(f"{walk_server['kind']}: its pages are all walked by {sorted(ROLES_ON[walk_server['kind']])}")
    kind, base = walk_server["kind"], walk_server["base"]
    shots = ARTIFACTS / "every_page" / kind / role
    shots.mkdir(parents=True, exist_ok=True)
    phone = role == "citizen"
    context = walk_browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1366, "height": 900},
        locale="zh-CN", is_mobile=phone, has_touch=phone)
    context.set_default_timeout(RUN_TIMEOUT)
    page = context.new_page()
    try:
        _open(page, base + "/")  # the root once, so the server uses the entry's navigation
        page.locator("h1").first.wait_for()
        _wait_until_idle(page)
        database = kind if DEMO_SIZE == (4, 4) or not kind.endswith("demo") else f"{kind} {DEMO_SIZE[0]}-{DEMO_SIZE[1]}"
        timings = []
        if account_role:
            seconds = _log_in(page, base, f"walk_{role}")
            timings.append({"measured_at": time.strftime("%Y-%m-%d %H:%M"), "database": database, "role": role,
                            "page": "login", "seconds": f"{seconds:.2f}"})
        if language == "en":
            _switch_to_english(page)
        _, offset = _log_since(walk_server["log"], 0)
        if phone:
            # The sidebar is folded away on a phone: a citizen follows the links instead.
            targets = [("survey", "/"), ("methods", "/methods"), ("account", "/account")]
        else:
            links = page.locator('[data-testid="stSidebarNav"] a')
            paths = links.evaluate_all("els => els.map(e => new URL(e.href).pathname)")
            targets = [(path.strip("/").rsplit("/", 1)[-1] or "landing", index) for index, path in enumerate(paths)]
        assert targets, "the role has no pages in its menu"
        problems = {}
        for number, (name, index) in enumerate(targets, 1):
            if isinstance(index, str):
                started = time.perf_counter()
                _open(page, base + index)
                seconds = max(time.perf_counter() - started, _seconds_until_drawn_since_navigation(page))
            else:
                seconds = _click_and_time(page, page.locator('[data-testid="stSidebarNav"] a').nth(index))
            _wait_for_charts(page)
            log_text, offset = _log_since(walk_server["log"], offset)
            found = _problems_of_page(page, language, log_text)
            # Streamlit scrolls inside its own container, so a "full page" shot is one screen: a tall
            # window for the picture shows the whole page (no rerun: only the layout changes).
            size = page.viewport_size
            page.set_viewport_size({"width": size["width"], "height": 2400})
            page.wait_for_timeout(400)
            page.screenshot(path=str(shots / f"{number:02d}_{name}.png"))
            page.set_viewport_size(size)
            timings.append({"measured_at": time.strftime("%Y-%m-%d %H:%M"), "database": database, "role": role,
                            "page": name, "seconds": f"{seconds:.2f}"})
            if found:
                problems[name] = found
        _record_timings(timings)
        assert not problems, "\n".join(f"{name}: {p}" for name, found in problems.items() for p in found)
    finally:
        context.close()
