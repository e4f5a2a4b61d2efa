"""What a citizen's phone downloads before the first question appears, and how long that takes.

    python -m bench.citizen_page                    # the app directly and behind nginx, fast 3G and 4G
    python -m bench.citizen_page --runs 3           # median of three loads per row
    python -m bench.citizen_page --page light       # only the light page (/q); default: both pages
    python -m bench.citizen_page --url https://survey.example.gov.cn   # a deployed site, as it stands

Without ``--url`` it starts the app as deployed (``streamlit run serve.py``) on a throw-away SQLite demo
database and, when nginx is installed, Debian's nginx in front of it with the repo's own site rules
(deploy/nginx, through deploy/local_proxy.py), so the two are compared in the same run.

Each row opens a citizen page as a QR code does, the Streamlit page (``/?community=CD0101``) or the
light page that links now open (``/q?community=CD0101``, citizen_web), in headless Chromium at
phone size (390×844), with the network slowed by Chrome DevTools' own presets through CDP
``Network.emulateNetworkConditions``:

* fast 3G: 1.6 Mbit/s down × 0.9, 750 kbit/s up × 0.9, 562.5 ms round trip (DevTools "Fast 3G");
* 4G:      9 Mbit/s down × 0.9, 1.5 Mbit/s up × 0.9, 165 ms round trip (DevTools "Fast 4G").

"cold" is a new browser profile (empty cache); "warm" is a second visit in the same profile.  It
records the HTTP requests and their bytes on the wire (CDP ``encodedDataLength``: compressed
bodies plus headers), the bytes the websocket brought (Streamlit's page content), and the time
from the start of navigation until the first question's options are visible.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SURVEY_PATH = "/?community=CD0101"
FIRST_QUESTION = '[data-testid="stForm"] [role="radiogroup"] label'
# The two citizen pages: (path a QR code opens, what shows the first question's options).
PAGES = {
    "Streamlit": (SURVEY_PATH, FIRST_QUESTION),
    "light": ("/q?community=CD0101", "label.opt"),  # citizen_web: plain HTML, where links now go
}
PROFILES = {
    # Chrome DevTools' presets (front_end/core/sdk/NetworkManager.ts): bytes per second, ms.
    "fast 3G": dict(latency=562.5, downloadThroughput=1.6e6 / 8 * 0.9, uploadThroughput=750e3 / 8 * 0.9),
    "4G": dict(latency=165.0, downloadThroughput=9e6 / 8 * 0.9, uploadThroughput=1.5e6 / 8 * 0.9),
}
TIMEOUT = 180  # seconds a row may take before it is shown as a timeout
GOALS = {"fast 3G": 6.0, "4G": 2.0}  # seconds to the first question (issue 15); ≤ 1 MB transferred


@dataclass
class Load:
    requests: int
    http_bytes: int
    websocket_bytes: int
    seconds: float
    compressed: int  # responses that came with a Content-Encoding
    files: list[tuple[str, int]]  # (path, bytes on the wire) of each request that went over the network

    @property
    def total_bytes(self) -> int:
        return self.http_bytes + self.websocket_bytes


def _wait_healthy(url: str, process: subprocess.Popen | None, log: Path | None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the app exited: {log.read_text(errors='replace') if log else ''}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy in {timeout} s")
        time.sleep(0.2)


@contextmanager
def running_app(work_dir: Path, port: int) -> Iterator[str]:
    """The app on a small demo city in a fresh SQLite file."""
    from data.db import make_engine, upgrade_database
    from data.demo import load_demo

    url = f"sqlite:///{work_dir / 'survey.sqlite3'}"
    engine = make_engine(url)
    upgrade_database(engine)
    load_demo(engine, per_community=(3, 3))
    engine.dispose()
    log = work_dir / "streamlit.log"
    env = dict(os.environ, DATABASE_URL=url, SURVEY_DEMO="0", PYTHONUNBUFFERED="1")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, log)
        yield base
    finally:
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def measure(context, url: str, profile: dict, page_name: str = "Streamlit") -> Load:
    """One visit of the survey page (``PAGES[page_name]``) in the context; the network slowed as the
    profile says."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", dict(offline=False, **profile))
    seen = {"requests": 0, "http": 0, "ws": 0, "compressed": 0}
    urls: dict[str, str] = {}
    files: list[tuple[str, int]] = []

    def on_response(event):
        response = event["response"]
        # Requests over the network only: a warm visit's cached files are not fetched again.
        if event["type"] != "WebSocket" and not (response.get("fromDiskCache") or response.get("fromMemoryCache")
                                                 or response.get("fromPrefetchCache")):
            seen["requests"] += 1
            urls[event["requestId"]] = response.get("url", "")
            headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
            if headers.get("content-encoding"):
                seen["compressed"] += 1

    def on_finished(event):
        seen["http"] += int(event.get("encodedDataLength", 0))
        if event["requestId"] in urls:
            path = urls[event["requestId"]].split("//", 1)[-1].partition("/")[2]
            files.append(("/" + path, int(event.get("encodedDataLength", 0))))

    def on_frame(event):
        payload = event["response"].get("payloadData", "")
        # Binary frames (Streamlit's protobuf messages) come base64-encoded: 4 characters per 3 bytes.
        seen["ws"] += len(payload) * 3 // 4 if event["response"].get("opcode") == 2 else len(payload.encode())

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.webSocketFrameReceived", on_frame)
    started = time.monotonic()
    try:
        path, first_question = PAGES[page_name]
        page.goto(url + path, wait_until="commit", timeout=TIMEOUT * 1000)
        page.locator(first_question).first.wait_for(state="visible", timeout=TIMEOUT * 1000)
        seconds = time.monotonic() - started
    except PlaywrightTimeout:  # shown as "> TIMEOUT s"; the bytes so far still count
        seconds = float("inf")
    page.wait_for_timeout(1500)  # the late requests (fonts, icons) still count as this visit's bytes
    page.close()
    return Load(seen["requests"], seen["http"], seen["ws"], seconds, seen["compressed"], files)


def measure_target(browser, url: str, profile: dict, runs: int, page_name: str = "Streamlit") -> tuple[Load, Load]:
    """Median cold and warm loads over `runs` fresh profiles."""
    colds, warms = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale="zh-CN")
        colds.append(measure(context, url, profile, page_name))
        warms.append(measure(context, url, profile, page_name))
        context.close()
    return _median(colds), _median(warms)


def _seconds(seconds: float) -> str:
    return f"> {TIMEOUT} s" if seconds == float("inf") else f"{seconds:.1f} s"


def _median(loads: list[Load]) -> Load:
    middle = sorted(loads, key=lambda load: load.seconds)[len(loads) // 2]
    return Load(middle.requests, int(statistics.median(l.http_bytes for l in loads)),
                int(statistics.median(l.websocket_bytes for l in loads)), middle.seconds, middle.compressed,
                middle.files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="measure this running site instead of starting the app")
    parser.add_argument("--runs", type=int, default=1, help="loads per row; the median is shown")
    parser.add_argument("--no-nginx", action="store_true", help="measure the app alone")
    parser.add_argument("--page", choices=["both", *PAGES], default="both",
                        help="which citizen page: the Streamlit page (/), the light page (/q) or both (default)")
    parser.add_argument("--files", type=int, default=0, metavar="N",
                        help="also list the N largest requests of each cold visit (what the bytes are)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with ExitStack() as stack:
        targets: dict[str, str] = {}
        if args.url:
            targets["site"] = args.url.rstrip("/")
        else:
            from deploy.local_proxy import free_port, nginx_binary, running_nginx

            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="citizen_page_")))
            app_port = free_port()
            targets["app alone"] = stack.enter_context(running_app(work, app_port))
            if not args.no_nginx:
                if nginx_binary() is None:
                    print("nginx not installed: measuring the app alone", file=sys.stderr)
                else:
                    targets["behind nginx"] = stack.enter_context(running_nginx([app_port], work / "nginx"))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        stack.callback(browser.close)
        # One unthrottled visit first, so the server's own first-run work (imports, caches) is not
        # charged to the first row.
        warmup = browser.new_context()
        pages = list(PAGES) if args.page == "both" else [args.page]
        for url in targets.values():
            for page_name in pages:
                path, first_question = PAGES[page_name]
                page = warmup.new_page()
                page.goto(url + path)
                page.locator(first_question).first.wait_for(timeout=120_000)
                page.close()
        warmup.close()

        rows = []
        for profile_name, profile in PROFILES.items():
            for target, url in targets.items():
                for page_name in pages:
                    cold, warm = measure_target(browser, url, profile, args.runs, page_name)
                    rows.append((page_name, profile_name, target, "cold", cold))
                    rows.append((page_name, profile_name, target, "warm", warm))

    print(f"\nCitizen pages {', '.join(PAGES[p][0] for p in pages)}, phone 390×844, median of {args.runs} "
          f"load(s) per row, {time.strftime('%Y-%m-%d %H:%M %Z')}\n")
    print("| page | network | served by | cache | requests | compressed | HTTP bytes | websocket bytes | total | "
          "first question | goal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    # The Streamlit page's rows are set against the first target (the app alone), the light page's
    # against the Streamlit page of the same network, target and cache.
    first_target = next(iter(targets))
    loads = {(p, n, t, c): load for p, n, t, c, load in rows}
    for page_name, profile_name, target, cache, load in rows:
        if page_name == "light" and ("Streamlit", profile_name, target, cache) in loads:
            base = loads[("Streamlit", profile_name, target, cache)]
        else:
            base = loads[(page_name, profile_name, first_target, cache)]
        time_ratio = f", {load.seconds / base.seconds:.2f}×" if max(load.seconds, base.seconds) < float("inf") else ""
        ratio = "" if base is load else f" ({load.total_bytes / base.total_bytes:.3f}×{time_ratio})"
        goal = GOALS[profile_name]
        met = "met" if load.seconds <= goal and load.total_bytes <= 1_000_000 else "missed"
        print(f"| {page_name} | {profile_name} | {target} | {cache} | {load.requests} | {load.compressed} | "
              f"{load.http_bytes / 1e3:,.1f} kB | {load.websocket_bytes / 1e3:,.0f} kB | "
              f"{load.total_bytes / 1e3:,.1f} kB | {_seconds(load.seconds)}{ratio} | ≤ 1 MB, ≤ {goal:g} s: {met} |")
    print("\n(×: total bytes and time, the light page against the Streamlit page of the same network, server and "
          "cache; the Streamlit page behind nginx against the app alone; same run)")
    if args.files:
        for page_name, profile_name, target, cache, load in rows:
            if cache != "cold" or profile_name != next(iter(PROFILES)):
                continue
            print(f"\nThe {args.files} largest of {len(load.files)} requests, {page_name} page, {target}, cold "
                  f"({sum(b for _, b in load.files) / 1e3:,.0f} kB over HTTP):\n")
            print("| bytes on the wire | request |")
            print("|---|---|")
            for path, size in sorted(load.files, key=lambda f: -f[1])[: args.files]:
                print(f"| {size / 1e3:,.1f} kB | `{path[:90]}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
