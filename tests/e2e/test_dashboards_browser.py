"""The dashboards in a real headless browser (Debian chromium via Playwright).

Every page loads without console or page errors and without outside requests, draws its
charts, states the as-of date, and is saved as a screenshot for review in
test-artifacts/screenshots/. Then: suppression text, injection stays inert, sorting, filtering.
"""

from __future__ import annotations

import pytest

from tests.dashboard_fixture import AS_OF, INJECTION, MIN_GROUP_SIZE, SCRIPT_NAME, TINY_COHORT
from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

# Page -> charts it must draw on the fixture.
PAGES = {
    "index": 0,
    "overview": 6,
    "cadence": 5,
    "goals": 6,
    "feedback": 4,
    "at_risk": 0,
    "data_quality": 1,
}
SUPPRESSED = f"fewer than {MIN_GROUP_SIZE} responses"


def _svg_texts(page) -> list[str]:
    return page.eval_on_selector_all(".js-plotly-plot text", "els => els.map((e) => e.textContent)")


def _assert_clean(loaded) -> None:
    assert loaded.page_errors == []
    assert loaded.console_errors == []
    assert loaded.dialogs == []
    assert loaded.external_requests == []
    assert loaded.page.evaluate("window.__alerted") is False


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_and_draws_its_charts(open_page, name):
    loaded = open_page(name)
    page = loaded.page

    _assert_clean(loaded)
    plots = page.locator(".js-plotly-plot")
    assert plots.count() >= PAGES[name]
    assert page.locator(".js-plotly-plot .main-svg").count() >= 2 * PAGES[name]
    # Every chart shows points at the default selection (the filter script counts them).
    shown = page.eval_on_selector_all(".chart", "els => els.map((e) => Number(e.dataset.shown))")
    assert all(count > 0 for count in shown), shown

    stamp = page.locator(".stamp").inner_text()
    assert f"data as of {AS_OF.isoformat()}" in stamp
    assert "built at 2026-03-15 06:30" in stamp
    # Each section explains itself in a line.
    explains = page.eval_on_selector_all(
        "section .explain", "els => els.map((e) => e.textContent.trim())"
    )
    assert explains and all(explains)
    nav = page.eval_on_selector_all("nav.top a", "els => els.map((e) => e.getAttribute('href'))")
    assert nav == [f"{page_name}.html" for page_name in PAGES]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_feedback_shows_suppression_text_not_blanks(open_page):
    loaded = open_page("feedback")
    page = loaded.page

    page.select_option('select[data-dim="program"]', label="Liderança & Growth")
    page.select_option('select[data-dim="cohort"]', label=TINY_COHORT)

    item_cells = page.locator("#items tbody tr:not([hidden]) td")
    assert item_cells.filter(has_text=SUPPRESSED).count() >= 1
    assert page.locator("#satisfaction .chart").get_by_text(SUPPRESSED).count() >= 1
    assert any(SUPPRESSED in text for text in _svg_texts(page))
    body = page.locator("main").inner_text()
    assert "None" not in body and "nan" not in body.split()
    _assert_clean(loaded)
    page.screenshot(path=str(SCREENSHOTS / "feedback_tiny_cohort.png"), full_page=True)


@pytest.mark.parametrize(
    "name", ["overview", "cadence", "goals", "feedback", "at_risk", "data_quality"]
)
def test_injected_strings_show_as_text_and_run_nothing(open_page, name):
    loaded = open_page(name)
    page = loaded.page
    page.wait_for_timeout(300)  # give a stray onerror handler time to fire

    _assert_clean(loaded)
    assert page.locator("img").count() == 0
    # Only our scripts: plotly.js, the page script, one per chart.
    assert page.locator("script").count() == 2 + page.locator(".chart").count()
    texts = [page.locator("body").inner_text(), *_svg_texts(page)]
    assert any(INJECTION in text for text in texts)


def test_at_risk_names_are_text_and_the_table_sorts(open_page):
    loaded = open_page("at_risk")
    page = loaded.page
    assert page.get_by_text(SCRIPT_NAME).count() >= 1
    assert page.locator("#pairs td").filter(has_text=INJECTION).count() >= 1

    header = page.locator("#pairs th", has_text="Days without meeting")
    column = page.eval_on_selector_all(
        "#pairs th", "els => els.findIndex((e) => e.textContent.includes('Days without meeting'))"
    )

    def days() -> list[float]:
        return page.eval_on_selector_all(
            f"#pairs tbody tr td:nth-child({column + 1})",
            "els => els.map((e) => Number(e.dataset.sort))",
        )

    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert days() == sorted(days())
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert days() == sorted(days(), reverse=True)
    _assert_clean(loaded)


def test_filter_narrows_tiles_charts_and_tables(open_page):
    loaded = open_page("cadence")
    page = loaded.page
    page.select_option('select[data-dim="program"]', label="Engineering Mentoring")
    page.select_option('select[data-dim="cohort"]', label=INJECTION)

    visible_tiles = page.locator(".tile-group:not([hidden]) h3").all_inner_texts()
    assert visible_tiles == [f"Engineering Mentoring · {INJECTION}"]
    ticks = page.eval_on_selector_all(
        "#status-chart .yaxislayer-above text", "els => els.map((e) => e.textContent)"
    )
    assert ticks == [f"Engineering Mentoring · {INJECTION}"]

    # Another program hides this program's cohorts from the cohort list.
    page.select_option('select[data-dim="program"]', label="Liderança & Growth")
    assert page.locator('select[data-dim="cohort"]').input_value() == "*"
    ticks = page.eval_on_selector_all(
        "#status-chart .yaxislayer-above text", "els => els.map((e) => e.textContent)"
    )
    assert ticks and all(tick.startswith("Liderança & Growth") for tick in ticks)
    _assert_clean(loaded)
