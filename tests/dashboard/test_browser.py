"""The dashboard in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``,
installed by ``.ci/run`` with apt; never ``playwright install``).

One server (``basislab serve`` in a subprocess) and one browser for the module. Every request
not to 127.0.0.1 is blocked and counted (must be zero: the dashboard works offline); each page
loads with no console error; a small scenario run completes and its charts appear; a stored-run
comparison renders; a screenshot of every page is written to ``$BASISLAB_SCREENSHOTS`` (default:
a temporary folder, printed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "/": "#overview-tiles",
    "/basis": "#dlv-table",
    "/trade": "#stress-table",
    "/positioning": "#pos-by-trader-graph .js-plotly-plot",
    "/lab": "#lab-run",
    "/episodes": "#episodes-table",
    "/policy": ".msg",
    "/runs": "#runs-compare .js-plotly-plot",
    "/methodology": "#provenance-table",
}

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(stores, tmp_path_factory):
    db, runs, _ = stores
    port = _free_port()
    env = {**os.environ, "BASISLAB_JAX_CACHE": "0"}  # no compile cache written by a test
    log = open(
        tmp_path_factory.mktemp("serve") / "serve.log", "w+"
    )  # a file: a full pipe would block the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "basislab", "serve", "--port", str(port), "--db", db, "--runs", runs],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/_dash-layout", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"basislab serve exited: {log.read()[-2000:]}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("BASISLAB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def external():
    """URLs of requests that left 127.0.0.1 (blocked)."""
    return []


@pytest.fixture
def page(browser, external):
    ctx = browser.new_context(viewport={"width": 1300, "height": 1000})

    def route(r):
        if urlparse(r.request.url).hostname != "127.0.0.1":
            external.append(r.request.url)
            return r.abort()
        return r.continue_()

    ctx.route("**/*", route)
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    ctx.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_without_errors(server, page, path, shots, external):
    page.goto(server + path)
    page.wait_for_selector(PAGES[path], timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator(".msg-error").count() == 0, page.inner_text("#page")[:500]
    name = path.strip("/") or "overview"
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    if name == "overview" and os.environ.get("BASISLAB_UPDATE_README_SCREENSHOT"):
        page.screenshot(path=str(Path(__file__).parents[2] / "docs" / "img" / "dashboard.png"))
    assert page.console_errors == []
    assert external == []


def test_charts_render_with_units(server, page):
    page.goto(server + "/positioning")
    page.wait_for_selector("#pos-by-trader-graph .js-plotly-plot")
    assert page.locator(".js-plotly-plot").count() >= 6
    assert "USD bn" in page.inner_text("#pos-by-trader-graph")
    assert page.console_errors == []


def test_scenario_run_completes_and_charts_appear(server, page, shots, external):
    page.goto(server + "/lab")
    page.wait_for_selector("#lab-run")
    page.wait_for_load_state("networkidle")
    for field, value in (("paths", "2"), ("funds", "5"), ("horizon", "20")):
        page.fill(f"#lab-{field}", value)
    page.uncheck("#lab-compare input[type=checkbox]")
    page.click("#lab-run")
    page.wait_for_selector("#lab-progress, #lab-result", timeout=30_000)
    page.wait_for_selector("#lab-result, #lab-status .msg-error", timeout=600_000)
    assert page.locator("#lab-status .msg-error").count() == 0, page.inner_text("#lab-status")
    page.wait_for_selector("#lab-result .js-plotly-plot", timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator("#lab-result .js-plotly-plot").count() >= 6
    assert "done: stored as seed-thesis" in page.inner_text("#lab-status")
    page.screenshot(path=str(shots / "lab-result.png"), full_page=True)
    assert page.console_errors == [] and external == []


def test_request_over_the_cap_says_so(server, page):
    page.goto(server + "/lab")
    page.wait_for_selector("#lab-run")
    page.wait_for_load_state("networkidle")  # the session id is set before the click
    page.fill("#lab-paths", "256")
    page.fill("#lab-funds", "500")
    page.fill("#lab-horizon", "250")
    page.click("#lab-run")
    page.wait_for_selector("#lab-submit .msg-error", timeout=120_000)
    assert "exceeds the dashboard's cap" in page.inner_text("#lab-submit .msg-error")


def test_stored_runs_side_by_side(server, page, stores):
    page.goto(server + "/runs")
    page.wait_for_selector("#runs-compare .js-plotly-plot", timeout=60_000)
    text = page.inner_text("#runs-compare")
    assert "synthetic-a" in text or "synthetic-b" in text
    assert page.locator("#runs-compare .col").count() == 2
    assert page.locator("#runs-compare .js-plotly-plot").count() == 8


def test_bad_basis_input_shows_one_line(server, page):
    page.goto(server + "/basis")
    page.wait_for_selector("#dlv-table")
    page.fill("#basis-code", "XXU4")
    page.click("#basis-go")
    page.wait_for_selector(".msg-error")
    assert "unknown contract" in page.inner_text(".msg-error").lower()
    assert page.console_errors == []


def test_no_request_left_localhost(external):
    assert external == []
