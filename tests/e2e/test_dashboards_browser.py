"""The public dashboards in a real headless browser (Debian chromium via Playwright).

Every public page loads without console or page errors and without outside requests, draws its
charts, fits a 390 px phone without sideways scrolling, offers no button that sends a chart
anywhere, and is saved as a screenshot at 1440 and 390 px in test-artifacts/screenshots/.
Then: one figure is the same on every page that shows it, headline figures carry their change,
a stale source puts a banner on every page, suppression text, injection stays inert, filtering.
(The restricted pages are tested in tests/e2e/test_restricted_pages_browser.py by their owner.)
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from dashboards import build_dashboards
from tests.dashboard_fixture import (
    AS_OF,
    BUILT_AT,
    FINISHED_COHORT,
    INJECTION,
    MIN_GROUP_SIZE,
    TINY_COHORT,
    create_fixture,
)
from tests.e2e.conftest import SCREENSHOTS, LoadedPage, serve

pytestmark = pytest.mark.e2e

# Public page -> charts it must draw on the fixture.
PAGES = {"index": 0, "overview": 6, "cadence": 5, "goals": 8, "feedback": 4, "data_quality": 1}
WIDTHS = {"desktop": 1440, "phone": 390}
SUPPRESSED = f"fewer than {MIN_GROUP_SIZE} responses"
PROGRAMS = ["Engineering Mentoring", "Liderança & Growth"]


@pytest.fixture(scope="module")
def stale_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixture with its meeting records 30 days older: the meetings source is stale."""
    out_dir = tmp_path_factory.mktemp("stale_dashboards")
    with duckdb.connect() as con:
        create_fixture(con)
        con.execute("UPDATE core.meetings SET last_event_at = last_event_at - INTERVAL 30 DAY")
        build_dashboards(
            con, out_dir, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )
    with serve(out_dir) as url:
        yield url


def _assert_clean(loaded: LoadedPage) -> None:
    assert loaded.page_errors == []
    assert loaded.console_errors == []
    assert loaded.dialogs == []
    assert loaded.external_requests == []
    assert loaded.page.evaluate("window.__alerted") is False


def _svg_texts(page) -> list[str]:
    return page.eval_on_selector_all(".js-plotly-plot text", "els => els.map((e) => e.textContent)")


def _overflowing(page) -> list[str]:
    """Elements reaching past the right edge of the window, outside a scroll box of their own."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const inScrollBox = (el) => {
          for (let p = el.parentElement; p; p = p.parentElement) {
            const style = getComputedStyle(p);
            if (["auto", "scroll", "hidden"].includes(style.overflowX)) return true;
          }
          return false;
        };
        return Array.from(document.body.querySelectorAll("*"))
          .filter((el) => el.getBoundingClientRect().right > width + 1 && !inScrollBox(el))
          .map((el) => el.tagName + "." + el.className + "#" + el.id);
      }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_loads_draws_fits_the_screen_and_offers_no_upload(visit, dashboard_site, name, width):
    loaded = visit(dashboard_site, name, WIDTHS[width])
    page = loaded.page

    _assert_clean(loaded)
    assert page.locator(".js-plotly-plot").count() >= PAGES[name]
    shown = page.eval_on_selector_all(".chart", "els => els.map((e) => Number(e.dataset.shown))")
    assert all(count > 0 for count in shown), shown
    assert f"data as of {AS_OF.isoformat()}" in page.locator(".stamp").inner_text()
    explains = page.eval_on_selector_all(
        "section .explain", "els => els.map((e) => e.textContent.trim())"
    )
    assert explains and all(explains)

    # No sideways scrolling, and nothing sticking out of the window.
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), page.evaluate("document.documentElement.scrollWidth")
    assert _overflowing(page) == []

    # Every chart's modebar (shown on hover) has no cloud/share button and no Plotly logo.
    if PAGES[name]:
        page.locator(".js-plotly-plot").first.hover()
        assert page.locator(".modebar").count() == page.locator(".js-plotly-plot").count()
        titles = page.eval_on_selector_all(
            ".modebar-btn", "els => els.map((e) => e.getAttribute('data-title') || '')"
        )
        assert titles and not [t for t in titles if "share" in t.lower() or "cloud" in t.lower()]
        assert (
            page.locator(".modebar-btn--logo, a[href*='plot.ly'], a[href*='plotly.com']").count()
            == 0
        )

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{WIDTHS[width]}.png"), full_page=True)


def test_index_loads_no_plotly(visit, dashboard_site):
    loaded = visit(dashboard_site, "index")
    assert loaded.page.locator("script[src]").count() == 0
    assert loaded.page.evaluate("typeof window.Plotly") == "undefined"
    assert loaded.page.locator(".tile-group").count() == len(PROGRAMS)


def _figures(page, program: str) -> dict[str, str]:
    """The values of the catalogue's tiles in a program's rollup group, by figure name."""
    return page.evaluate(
        """(program) => {
        const group = Array.from(document.querySelectorAll('.tile-group'))
          .find((g) => g.dataset.program === program && g.dataset.cohort === '(all)');
        const out = {};
        group.querySelectorAll('.tile[data-figure]').forEach((t) => {
          out[t.dataset.figure] = t.querySelector('.value').textContent.trim()
            + ' | ' + (t.querySelector('.change') || {textContent: ''}).textContent.trim();
        });
        return out;
      }""",
        program,
    )


def test_a_figure_is_the_same_on_every_page_that_shows_it(visit, dashboard_site):
    pages = {
        name: visit(dashboard_site, name).page
        for name in ("index", "overview", "cadence", "goals", "feedback")
    }
    for program in PROGRAMS:
        figures = {name: _figures(page, program) for name, page in pages.items()}
        shared = 0
        for figure in ("health", "active", "on_track", "attention", "attainment", "satisfaction"):
            values = {name: f[figure] for name, f in figures.items() if figure in f}
            shared += len(values) >= 2
            assert len(set(values.values())) == 1, (program, figure, values)
        assert shared >= 5
        assert figures["index"]["on_track"] == figures["cadence"]["on_track"]


def test_headline_figures_carry_their_change(visit, dashboard_site):
    page = visit(dashboard_site, "overview").page
    tiles = page.locator("#kpis .tile-group:not([hidden]) .tile[data-figure]")
    assert tiles.count() >= 8
    without = page.eval_on_selector_all(
        "#kpis .tile[data-figure]:not(:has(.change)) .value:not(.muted)",
        "els => els.map((e) => e.closest('.tile').dataset.figure)",
    )
    assert without == []
    verdicts = page.eval_on_selector_all(
        "#kpis .change", "els => els.map((e) => e.className.replace('change ', ''))"
    )
    assert {"better", "worse"} & set(verdicts), verdicts
    arrows = page.eval_on_selector_all(
        "#kpis .change.better, #kpis .change.worse", "els => els.map((e) => e.textContent)"
    )
    assert all(text.strip()[0] in "▲▼" and "since" in text for text in arrows)
    # Survey figures compare with the previous wave, monthly ones with the last month end.
    since = page.eval_on_selector_all(
        "#kpis .tile[data-figure=satisfaction] .change .since, #kpis .tile[data-figure=on_track] .change .since",
        "els => els.map((e) => e.textContent)",
    )
    assert any("checkin" in text or "pulse" in text for text in since)
    assert any("Feb 2026" in text for text in since)
    # The trends include the current month, marked partial.
    assert "partial month" in " ".join(_svg_texts(page))


def test_finished_cohorts_are_apart_and_one_part_gives_no_score(visit, dashboard_site):
    page = visit(dashboard_site, "overview").page
    headings = page.locator("#kpis .tile-group h3").all_inner_texts()
    assert not [h for h in headings if FINISHED_COHORT in h]
    assert page.locator("#finished td", has_text=FINISHED_COHORT).count() == 1
    for tile in page.locator("#kpis .tile[data-figure=health]").all():
        if "rests on 1 of 4" in tile.inner_text() or "rests on 0 of 4" in tile.inner_text():
            assert "not scored" in tile.inner_text()


def test_cohorts_are_listed_in_time_order(visit, dashboard_site):
    page = visit(dashboard_site, "overview").page
    cohorts = page.eval_on_selector_all(
        'select[data-dim="cohort"] option', "els => els.map((e) => e.textContent)"
    )
    # By first matched_on (fixture): 2025-Spring, 2025-Autumn, Pilot, Injection, Tiny, Winter.
    assert cohorts.index("2025-Autumn") < cohorts.index(INJECTION) < cohorts.index("2026-Winter")
    assert cohorts.index(FINISHED_COHORT) < cohorts.index("2025-Autumn")


def test_a_stale_source_puts_a_banner_on_every_page(visit, dashboard_site, stale_site):
    for name in PAGES:
        banner = visit(stale_site, name).page.locator(".banner.stale")
        assert banner.count() == 1, name
        text = banner.inner_text()
        assert "meetings" in text and "older than 7 days" in text, text
        assert "goals" not in text
    assert visit(dashboard_site, "overview").page.locator(".banner.stale").count() == 0
    freshness = visit(stale_site, "data_quality").page.locator("#freshness tr", has_text="meetings")
    assert "stale" in freshness.inner_text()


def test_feedback_shows_suppression_text_not_blanks(visit, dashboard_site):
    loaded = visit(dashboard_site, "feedback")
    page = loaded.page
    page.select_option('select[data-dim="program"]', label="Liderança & Growth")
    page.select_option('select[data-dim="cohort"]', label=TINY_COHORT)

    item_cells = page.locator("#items tbody tr:not([hidden]) td")
    assert item_cells.filter(has_text=SUPPRESSED).count() >= 1
    assert any(SUPPRESSED in text for text in _svg_texts(page))
    body = page.locator("main").inner_text()
    assert "None" not in body and "nan" not in body.split()
    # Response-rate bars say how many invitations they rest on.
    assert any(" of " in text and "%" in text for text in page.eval_on_selector_all(
        "#response-chart text", "els => els.map((e) => e.textContent)"))  # fmt: skip
    _assert_clean(loaded)
    page.screenshot(path=str(SCREENSHOTS / "feedback_tiny_cohort.png"), full_page=True)


@pytest.mark.parametrize("name", ["overview", "cadence", "goals", "feedback", "data_quality"])
def test_injected_strings_show_as_text_and_run_nothing(visit, dashboard_site, name):
    loaded = visit(dashboard_site, name)
    page = loaded.page
    page.wait_for_timeout(300)  # give a stray onerror handler time to fire

    _assert_clean(loaded)
    assert page.locator("img").count() == 0
    # Only our scripts: plotly.js, the page script, one per chart.
    assert page.locator("script").count() == 2 + page.locator(".chart").count()
    texts = [page.locator("body").inner_text(), *_svg_texts(page)]
    assert any(INJECTION in text for text in texts)


def test_filter_narrows_tiles_charts_and_tables(visit, dashboard_site):
    loaded = visit(dashboard_site, "cadence")
    page = loaded.page
    page.select_option('select[data-dim="program"]', label="Engineering Mentoring")
    page.select_option('select[data-dim="cohort"]', label=INJECTION)

    visible_tiles = page.locator("#kpis .tile-group:not([hidden]) h3").all_inner_texts()
    assert visible_tiles == [f"Engineering Mentoring · {INJECTION}"]
    ticks = page.eval_on_selector_all(
        "#status-chart .yaxislayer-above text", "els => els.map((e) => e.textContent)"
    )
    assert ticks == [f"Engineering Mentoring{INJECTION}"]  # program over cohort, two lines

    page.select_option('select[data-dim="program"]', label="Liderança & Growth")
    assert page.locator('select[data-dim="cohort"]').input_value() == "*"
    ticks = page.eval_on_selector_all(
        "#status-chart .yaxislayer-above text", "els => els.map((e) => e.textContent)"
    )
    assert ticks and all(tick.startswith("Liderança & Growth") for tick in ticks)
    _assert_clean(loaded)
