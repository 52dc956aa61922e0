"""The restricted pages and the digest in real headless Chromium: comments hidden for a group
under k, the at-risk count follows the filter, the CSV export holds what the filter shows,
nothing scrolls sideways on a 390 px phone; screenshots at 1440 and 390 px."""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

import pytest

from tests.dashboard_fixture import MIN_GROUP_SIZE, TINY_WAVE
from tests.e2e.conftest import SCREENSHOTS, LoadedPage

pytestmark = pytest.mark.e2e

LIDERANCA = "Liderança & Growth"
ENGINEERING = "Engineering Mentoring"
ENG_AT_RISK = "restricted/engineering-mentoring/at_risk"
PAGES = [
    ENG_AT_RISK,
    "restricted/lideranca-growth/comments",
    "digest/engineering-mentoring/latest",
    "operator/latest",
]


@pytest.fixture
def open_at(visit, dashboard_site: str):
    """`open_at(name, width=1440)`: a page of the site, downloads allowed (the CSV export)."""
    return functools.partial(visit, dashboard_site, accept_downloads=True)


def _assert_clean(loaded: LoadedPage) -> None:
    assert loaded.page_errors == []
    assert loaded.console_errors == []
    assert loaded.external_requests == []


def _visible_rows(page, section: str) -> int:
    return page.locator(f"#{section} tbody tr:not([hidden])").count()


def test_comments_are_hidden_for_a_group_under_k(open_at):
    loaded = open_at("restricted/lideranca-growth/comments")
    page = loaded.page
    page.select_option('select[data-dim="program"]', label=LIDERANCA)
    page.select_option('select[data-dim="survey_id"]', label=TINY_WAVE)

    groups = page.locator(".comment-group:not([hidden])")
    assert groups.count() == 2
    assert groups.filter(has_text=f"fewer than {MIN_GROUP_SIZE} respondents").count() == 2
    assert groups.locator("li").count() == 0

    page.select_option('select[data-dim="survey_id"]', label="pulse-2026-03")
    page.select_option('select[data-dim="role"]', label="mentees")
    assert page.locator(".comment-group:not([hidden])").count() == 1
    comments = page.locator(".comment-group:not([hidden]) li")
    assert comments.count() > 0
    assert "[name]" in " ".join(comments.all_inner_texts())
    _assert_clean(loaded)
    page.screenshot(path=str(SCREENSHOTS / "restricted_comments_filtered.png"), full_page=True)


def test_at_risk_count_follows_the_filter_and_the_export_holds_what_it_shows(open_at):
    loaded = open_at(ENG_AT_RISK)
    page = loaded.page
    count = page.locator('[data-count-of="pairs"]')
    total = _visible_rows(page, "pairs")
    assert count.inner_text() == f"All {total} pairs"

    page.select_option('select[data-dim="cohort"]', label="2025-Autumn")
    shown = _visible_rows(page, "pairs")
    assert 0 < shown < total
    assert count.inner_text() == f"{shown} of {total} pairs"

    with page.expect_download() as download_info:
        page.locator('button[data-export="pairs"]').click()
    download = download_info.value
    assert download.suggested_filename == "at-risk-pairs.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == shown
    assert {row["Program"] for row in rows} == {ENGINEERING}
    assert {row["Cohort"] for row in rows} == {"2025-Autumn"}
    assert all(row["Mentor"] and row["Mentee"] for row in rows)
    # In the order shown; a missing e-mail is an empty cell where the page shows the flag.
    cells = page.locator("#pairs tbody tr:not([hidden]) td:first-child").all_inner_texts()
    assert all(row["Mentor"] in cell for row, cell in zip(rows, cells, strict=True))
    flagged = page.locator("#pairs tbody tr:not([hidden]) .no-email").count()
    empty = sum((row["Mentor e-mail"] == "") + (row["Mentee e-mail"] == "") for row in rows)
    assert empty == flagged

    page.select_option('select[data-dim="cohort"]', label="All cohorts")
    assert count.inner_text() == f"All {total} pairs"
    _assert_clean(loaded)


@pytest.mark.parametrize("name", PAGES)
def test_no_sideways_scroll_on_a_phone_and_screenshots_at_both_widths(open_at, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = name.replace("/", "_")
    for width in (1440, 390):
        loaded = open_at(name, width)
        page = loaded.page
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        _assert_clean(loaded)
        page.screenshot(path=str(SCREENSHOTS / f"{stem}_{width}.png"), full_page=True)


def test_the_at_risk_table_keeps_its_first_column_when_it_scrolls_on_a_phone(open_at):
    page = open_at(ENG_AT_RISK, 390).page
    wrap = page.locator("#pairs .table-wrap")
    assert wrap.evaluate("(el) => el.scrollWidth > el.clientWidth")  # the table scrolls...
    wrap.evaluate("(el) => { el.scrollLeft = 400; }")
    first = page.locator("#pairs tbody tr td:first-child").first.bounding_box()
    box = wrap.bounding_box()
    assert abs(first["x"] - box["x"]) <= 2  # ...and the names stay in view


def test_the_queue_reads_on_a_phone_filters_groups_by_mentor_and_exports(open_at):
    for width in (1440, 390):
        loaded = open_at(ENG_AT_RISK, width)
        page = loaded.page
        cards = page.locator("#queue .qcard")
        total = cards.count()
        assert total > 0
        # The page opens on the queue: its first card is in the first screen.
        assert page.locator("#queue .qcard").first.bounding_box()["y"] < 900
        # Cards, not a wide table: each card fits the viewport.
        for box in [cards.nth(i).bounding_box() for i in range(min(total, 10))]:
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
        count = page.locator('[data-count-of="queue"]')
        assert count.inner_text() == f"All {total} pairs"
        page.select_option('select[data-dim="cohort"]', label="2025-Autumn")
        shown = page.locator("#queue .qcard:not([hidden])").count()
        assert 0 < shown < total and count.inner_text() == f"{shown} of {total} pairs"
        with page.expect_download() as download_info:
            page.locator('button[data-export="queue"]').click()
        text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == shown and {row["Cohort"] for row in rows} == {"2025-Autumn"}
        ranks = [int(row["Rank"]) for row in rows]
        assert ranks == sorted(ranks)
        page.select_option('select[data-dim="cohort"]', label="All cohorts")
        # Grouped by mentor: a heading per mentor, each mentor's pairs together.
        page.locator("#group-by-mentor").check()
        heads = page.locator("#queue .mentor-head")
        assert 0 < heads.count() <= total
        mentors = page.locator("#queue .qcard").evaluate_all(
            "(cards) => cards.map((c) => c.dataset.mentor)"
        )
        seen = []
        for mentor in mentors:
            if not seen or seen[-1] != mentor:
                assert mentor not in seen, "a mentor's pairs are split"
                seen.append(mentor)
        page.locator("#group-by-mentor").uncheck()
        assert page.locator("#queue .mentor-head").count() == 0
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        _assert_clean(loaded)
        page.screenshot(path=str(SCREENSHOTS / f"queue_{width}.png"))


PHONE_SCREEN = 844  # a 390 x 844 phone


@pytest.mark.parametrize("program", ["engineering-mentoring", "lideranca-growth"])
def test_each_programs_digest_fits_two_phone_screens(open_at, program):
    loaded = open_at(f"digest/{program}/latest", 390)
    page = loaded.page
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= 2 * PHONE_SCREEN, f"{program}'s digest is {height}px tall"
    text = page.locator("body").inner_text()
    assert "Contact first" in text and "Going well" in text and "Data problems" not in text
    assert page.locator("ol.urgent li").count() <= 5
    # Links to the program's pages, resolving inside the site.
    assert page.locator(f'a[href="../../restricted/{program}/at_risk.html"]').count() == 1
    _assert_clean(loaded)
    page.screenshot(path=str(SCREENSHOTS / f"digest_{program}_390.png"), full_page=True)
