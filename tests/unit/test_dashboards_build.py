"""build_dashboards on the synthetic fixture: files, offline resources, escaping, privacy, size."""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest

from dashboards import build_dashboards
from tests.dashboard_fixture import (
    AS_OF,
    BUILT_AT,
    INJECTION,
    MIN_GROUP_SIZE,
    RAW_TEXT_MARKER,
    SCRIPT_NAME,
    UNICODE_NAME,
    create_fixture,
)

PAGES = ["index", "overview", "cadence", "goals", "feedback", "at_risk", "data_quality"]
MAX_PAGE_BYTES = 3 * 1024 * 1024


def _build(out_dir: Path, **scale: int) -> list[Path]:
    with duckdb.connect() as con:
        create_fixture(con, **scale)
        return build_dashboards(
            con, out_dir, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out_dir = tmp_path_factory.mktemp("site")
    return out_dir, _build(out_dir)


@pytest.fixture(scope="module")
def pages(site) -> dict[str, str]:
    out_dir, _ = site
    return {name: (out_dir / f"{name}.html").read_text(encoding="utf-8") for name in PAGES}


def test_writes_every_page_and_one_local_plotly(site):
    out_dir, written = site
    assert sorted(p.name for p in written) == sorted(
        [*(f"{n}.html" for n in PAGES), "plotly.min.js"]
    )
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(p.name for p in written)
    assert [p.name for p in out_dir.glob("*.js")] == ["plotly.min.js"]


def test_pages_load_nothing_from_the_network(pages):
    for name, text in pages.items():
        assert not re.search(r"https?://", text), name
        sources = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"([^\"]*)\"", text)
        assert set(sources) <= {"plotly.min.js", "data:,"}, (name, sources)
        assert "@import" not in text and "url(" not in text, name


def test_every_page_states_the_as_of_date_and_build_time(pages):
    for name, text in pages.items():
        assert "data as of <strong>2026-03-15</strong> · built at 2026-03-15 06:30 UTC" in text, (
            name
        )


def test_data_strings_are_escaped_everywhere(pages):
    raw = [INJECTION, SCRIPT_NAME, "<b>Ship</b>"]
    for name, text in pages.items():
        for value in raw:
            assert value not in text, (name, value)
        # No data string closes a script early: every <script> has its own </script>.
        assert text.count("<script") == text.count("</script>"), name
    assert html.escape(INJECTION) in pages["at_risk"]


def test_names_appear_only_on_the_at_risk_page(pages):
    assert html.escape(UNICODE_NAME) in pages["at_risk"]
    assert html.escape(SCRIPT_NAME) in pages["at_risk"]
    for name in PAGES:
        if name != "at_risk":
            assert html.escape(UNICODE_NAME) not in pages[name], name
            assert "@example.org" not in pages[name], name


def test_suppressed_survey_figures_say_so(pages):
    assert f"fewer than {MIN_GROUP_SIZE} responses" in pages["feedback"]
    for name, text in pages.items():
        assert not re.search(r">\s*(None|nan|NaN)\s*<", text), name


def test_quarantined_raw_text_is_never_shown(pages):
    for name, text in pages.items():
        assert RAW_TEXT_MARKER not in text, name


def test_rebuild_replaces_pages_and_leaves_no_temporary_files(tmp_path):
    first = _build(tmp_path)
    second = _build(tmp_path)
    assert [p.name for p in first] == [p.name for p in second]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in second)


def test_empty_warehouse_builds_pages_that_say_so(tmp_path):
    with duckdb.connect() as con:
        create_fixture(con)
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        for schema, table in tables:
            con.execute(f'DELETE FROM "{schema}"."{table}"')
        build_dashboards(
            con, tmp_path, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )
    overview = (tmp_path / "overview.html").read_text(encoding="utf-8")
    assert "No data yet." in overview
    assert "MP.chart" not in overview


def test_pages_stay_under_3_mb_at_50000_matches(tmp_path):
    # Three years of a large company: many cohorts, three survey waves a month.
    written = _build(tmp_path, n_matches=50_000, extra_cohorts=36, wave_months=36)
    sizes = {p.name: p.stat().st_size for p in written if p.suffix == ".html"}
    assert all(size < MAX_PAGE_BYTES for size in sizes.values()), sizes
    # The at-risk list is capped and says so.
    assert (
        "Showing the 500 pairs longest without a meeting" in (tmp_path / "at_risk.html").read_text()
    )
