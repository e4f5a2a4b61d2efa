"""A citizen behind nginx: two app instances on one PostgreSQL database, Debian's nginx in front.

nginx runs unprivileged with the repo's own site rules (deploy/nginx/survey-http.conf and
survey-locations.conf, through deploy/local_proxy.py) on its own ports, pid file, logs and temp
paths.  The test checks what the proxy is for: the scripts arrive compressed, Streamlit's hashed
assets may be kept for a year, a browser keeps reaching one instance (sticky cookie), a citizen's
visit fetches no text font (the page's text is in the system's fonts), and a citizen who answers
through it is stored exactly once in the shared database.

Without nginx the test is skipped with a reason; in CI (CI set) it fails instead, like Chromium.
"""

from __future__ import annotations

import re
import urllib.request
from collections import defaultdict

import pytest
from sqlalchemy import text

from data.db import make_engine, upgrade_database
from data.demo import load_demo
from deploy.local_proxy import nginx_binary, running_nginx
from tests.browser.conftest import _require_or_skip, _running_app, open_page
from tests.browser.test_citizen_flow import answer_all_steps

pytestmark = pytest.mark.browser

COMMUNITY = "CD0101"
ONE_YEAR = 31536000


@pytest.fixture(scope="module")
def proxied_app(browser, postgres_server_url, tmp_path_factory, monkeypatch_module):
    if nginx_binary() is None:
        _require_or_skip("nginx not found (Debian: apt-get install nginx)")
    engine = make_engine(postgres_server_url)
    upgrade_database(engine)
    load_demo(engine, per_community=(3, 3))
    work = tmp_path_factory.mktemp("proxy")
    for name in ("a", "b"):
        (work / name).mkdir()
    # Both instances need the same key (docs/deployment.md), as on a real deployment.
    monkeypatch_module.setenv("SURVEY_SECRET_KEY", "proxy-test-" + "0" * 40)
    with _running_app(postgres_server_url, work / "a") as first, _running_app(postgres_server_url, work / "b") as second:
        ports = [int(first.rsplit(":", 1)[1]), int(second.rsplit(":", 1)[1])]
        # Each instance's first visit imports and caches what the pages need (and runs the entry's
        # navigation, see app_url in conftest): done here, so the test's own waits measure the proxy.
        context = browser.new_context()
        page = context.new_page()
        for url in (first, second):
            page.goto(url + "/")
            page.locator("h1").first.wait_for(timeout=120_000)
        context.close()
        with running_nginx(ports, work / "nginx") as base_url:
            yield base_url, engine, work / "nginx", ports
    engine.dispose()


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def self_filled(engine, community_code: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(
            "select count(*) from response r join area a on a.id = r.community_id "
            "where r.channel = 'self' and a.code = :code"), {"code": community_code}).scalar_one()


def test_scripts_come_compressed_and_hashed_assets_are_kept_for_a_year(proxied_app):
    base_url, _, _, _ = proxied_app
    with urllib.request.urlopen(urllib.request.Request(base_url + "/", headers={"Accept-Encoding": "gzip"})) as page:
        assert page.headers.get("Cache-Control") == "no-cache"  # a new release is seen at once
        import gzip

        body = page.read()
        html = gzip.decompress(body).decode() if page.headers.get("Content-Encoding") == "gzip" else body.decode()
    scripts = re.findall(r'src="\./(static/js/[^"]+\.js)"', html)
    styles = re.findall(r'href="\./(static/css/[^"]+\.css)"', html)
    assert scripts and styles, html[:500]
    for asset in scripts[:1] + styles[:1]:
        request = urllib.request.Request(f"{base_url}/{asset}", headers={"Accept-Encoding": "gzip, deflate, br"})
        with urllib.request.urlopen(request) as answer:
            compressed = answer.read()
            assert answer.headers.get("Content-Encoding") == "gzip", (asset, dict(answer.headers))
            cache = answer.headers.get("Cache-Control", "")
            assert "immutable" in cache and f"max-age={ONE_YEAR}" in cache, (asset, cache)
        with urllib.request.urlopen(f"{base_url}/{asset}") as plain:  # a client that cannot unzip
            assert plain.headers.get("Content-Encoding") is None
            assert len(compressed) < 0.5 * len(plain.read())


def test_a_citizen_answers_through_the_proxy_and_is_stored_once(proxied_app, phone, artifacts):
    base_url, engine, nginx_dir, ports = proxied_app
    page = phone
    encodings = []
    page.on("response", lambda response: encodings.append(
        (response.url, response.headers.get("content-encoding"))) if "/static/js/" in response.url else None)
    fonts = []  # web fonts the browser asked for: no text font (survey-http.conf), only the icon font
    page.on("request", lambda request: fonts.append(request.url.rsplit("/", 1)[-1]) if ".woff" in request.url else None)
    before = self_filled(engine, COMMUNITY)

    open_page(page, f"{base_url}/?community={COMMUNITY}")
    page.get_by_text("幸福社区").wait_for()
    answer_all_steps(page)
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功！").wait_for()
    page.screenshot(path=str(artifacts / "phone_through_nginx.png"))

    assert self_filled(engine, COMMUNITY) == before + 1  # exactly one, in the shared database
    assert [name.split(".")[0] for name in fonts] in ([], ["MaterialSymbols-Rounded"]), fonts
    # Streamlit's text fonts are not used (renamed by the proxy); the page's text is in system fonts.
    families = page.evaluate("""() => [...document.fonts].filter(f => f.status !== 'unloaded')
        .map(f => f.family.replaceAll('"', ''))""")
    assert not [f for f in families if f.startswith(("Source Sans", "Source Code"))], families
    assert page.evaluate("() => getComputedStyle(document.body).fontFamily").startswith("system-ui")

    assert len(encodings) > 20, encodings
    for url, encoding in encodings:
        if encoding != "gzip":  # only scripts too small to be worth it (gzip_min_length) stay plain
            with urllib.request.urlopen(url) as plain:
                assert len(plain.read()) < 512, url
    assert sum(encoding == "gzip" for _, encoding in encodings) > 0.7 * len(encodings), encodings
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "survey_route")
    assert cookie and cookie != "-"
    # Every request of this browser went to one instance (its session lives in that one's memory).
    served_by = defaultdict(set)
    for line in (nginx_dir / "access.log").read_text().splitlines():
        route, upstream, *_ = line.split(" ")
        if route != "-" and upstream != "-":
            served_by[route].add(upstream)
    assert len(served_by[cookie]) == 1, served_by[cookie]
    assert served_by[cookie] <= {f"127.0.0.1:{port}" for port in ports}


def test_a_citizen_fills_the_light_page_through_nginx_on_a_phone(proxied_app, phone, artifacts):
    """The light page (/q) through the same proxy: a few kB of compressed HTML, nothing else fetched,
    every step a plain form, the response stored exactly once in the shared database."""
    from tests.citizen_web.walk import Page, planned

    base_url, engine, _, _ = proxied_app
    page = phone
    documents, others = [], []
    page.on("response", lambda r: (documents if "/q" in r.url else others).append(
        (r.url, r.status, r.headers.get("content-encoding"), r.headers.get("content-security-policy"))))
    before = self_filled(engine, COMMUNITY)

    page.goto(f"{base_url}/q?community={COMMUNITY}")
    page.get_by_text("幸福社区").wait_for()
    page.screenshot(path=str(artifacts / "light_first_step.png"), full_page=True)
    assert others == [], others  # no script, style sheet, font or image: the HTML is all
    url, status, encoding, csp = documents[0]
    assert status == 200 and encoding == "gzip" and "default-src 'none'" in csp
    assert page.viewport_size["width"] == 390
    # Big tap targets: every option is at least 44 px tall and the page does not scroll sideways.
    heights = page.eval_on_selector_all("label.opt", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44, heights
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="下一步").click()  # nothing answered
    page.get_by_text("请回答此题").wait_for()
    page.screenshot(path=str(artifacts / "light_error.png"), full_page=True)

    while True:
        step = Page.__new__(Page)
        step.html = page.content()
        k, n = step.progress
        for code in step.codes:
            value = planned(code)
            if page.locator(f'input[type="radio"][name="{code}"]').count():
                page.locator(f'input[name="{code}"][value="{value}"]').check()
            elif page.locator(f'input[type="checkbox"][name="{code}"]').count():
                for one in value:
                    page.locator(f'input[name="{code}"][value="{one}"]').check()
            else:
                page.locator(f'[name="{code}"]').fill(value)
        if k == n:
            break
        page.get_by_role("button", name="下一步").click()
        page.get_by_text(f"第 {k + 1} / ").wait_for()
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功！").wait_for()
    page.screenshot(path=str(artifacts / "light_thanks.png"), full_page=True)
    assert self_filled(engine, COMMUNITY) == before + 1  # exactly one, in the shared database
    assert others == [], others
    assert all(encoding == "gzip" for _, _, encoding, _ in documents), documents
