"""Browser fixtures: Debian's chromium driven by Playwright, and the fixture dashboards served
over HTTP on 127.0.0.1 (a random free port)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from dashboards import build_dashboards
from tests.dashboard_fixture import AS_OF, BUILT_AT, MIN_GROUP_SIZE, create_fixture

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Wrap alert() so a fired injection is seen even if a dialog handler were missing.
ALERT_TRAP = """
window.__alerted = false;
const originalAlert = window.alert;
window.alert = function (...args) { window.__alerted = true; return originalAlert.apply(window, args); };
"""


@dataclass
class LoadedPage:
    page: object  # playwright.sync_api.Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium). "
            "The browser tests use it and never download a browser."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dashboard_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the fixture dashboards and serve them; yields the base URL."""
    out_dir = tmp_path_factory.mktemp("dashboards")
    with duckdb.connect() as con:
        create_fixture(con)
        build_dashboards(
            con, out_dir, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )
    handler = functools.partial(_QuietHandler, directory=str(out_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def open_page(browser, dashboard_site: str) -> Iterator[Callable[[str], LoadedPage]]:
    """Open `<name>.html` in a fresh context, recording errors, dialogs and outside requests."""
    contexts = []

    def open_(name: str) -> LoadedPage:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        loaded = LoadedPage(page)
        page.on(
            "console", lambda m: loaded.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda error: loaded.page_errors.append(str(error)))
        page.on("dialog", lambda dialog: (loaded.dialogs.append(dialog.message), dialog.dismiss()))

        def only_local(route) -> None:
            url = route.request.url
            if url.startswith((dashboard_site, "data:")):
                route.continue_()
            else:
                loaded.external_requests.append(url)
                route.abort()

        context.route("**/*", only_local)
        page.add_init_script(ALERT_TRAP)
        page.goto(f"{dashboard_site}/{name}.html", wait_until="load")
        # Charts are drawn on DOMContentLoaded; wait until each has its SVG.
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.chart'))"
            ".every((c) => c.querySelector('.main-svg'))"
        )
        return loaded

    yield open_
    for context in contexts:
        context.close()
