"""Browser fixtures: Debian's chromium driven by Playwright, and the fixture dashboards served
over HTTP on 127.0.0.1 (a random free port)."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def open_site_page(
    browser, site: str, name: str, width: int = 1400, **context_options: object
) -> tuple[object, LoadedPage]:
    """Open `<site>/<name>.html` in a new context (the caller closes it), recording console and
    page errors, dialogs and requests outside the site (aborted; data: and blob: are the page's
    own), with ALERT_TRAP installed; waits until every `.chart` has drawn its SVG."""
    context = browser.new_context(viewport={"width": width, "height": 900}, **context_options)
    page = context.new_page()
    loaded = LoadedPage(page)
    page.on(
        "console", lambda m: loaded.console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda error: loaded.page_errors.append(str(error)))
    page.on("dialog", lambda dialog: (loaded.dialogs.append(dialog.message), dialog.dismiss()))

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith((site, "data:", "blob:")):
            route.continue_()
        else:
            loaded.external_requests.append(url)
            route.abort()

    context.route("**/*", only_local)
    page.add_init_script(ALERT_TRAP)
    page.goto(f"{site}/{name}.html", wait_until="load")
    # Charts are drawn on DOMContentLoaded; wait until each has its SVG (none: at once).
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.chart'))"
        ".every((c) => c.querySelector('.main-svg'))"
    )
    return context, loaded


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


@pytest.fixture
def visit(browser) -> Iterator[Callable[..., LoadedPage]]:
    """`visit(site, name, width=1440, **context_options)`: `open_site_page`, its context closed
    when the test ends."""
    contexts = []

    def open_(site: str, name: str, width: int = 1440, **context_options: object) -> LoadedPage:
        context, loaded = open_site_page(browser, site, name, width, **context_options)
        contexts.append(context)
        return loaded

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def dashboard_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the fixture dashboards and serve them; yields the base URL."""
    out_dir = tmp_path_factory.mktemp("dashboards")
    with duckdb.connect() as con:
        create_fixture(con)
        build_dashboards(
            con, out_dir, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )
    with serve(out_dir) as url:
        yield url
