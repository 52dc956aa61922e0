"""build_dashboards on the synthetic fixture: the public pages' files, offline resources,
escaping, privacy, size, and that every figure and threshold comes from the warehouse.

(The restricted pages and the digest are tested in tests/unit/test_restricted_pages.py.)
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest

from dashboards import build_dashboards
from dashboards.headline import HEADLINE_SQL
from tests.dashboard_fixture import (
    AS_OF,
    BUILT_AT,
    FINISHED_COHORT,
    GOAL_TITLES,
    INJECTION,
    MIN_GROUP_SIZE,
    RAW_TEXT_MARKER,
    SCRIPT_NAME,
    UNICODE_NAME,
    create_fixture,
)

PAGES = ["index", "overview", "cadence", "goals", "feedback", "data_quality"]
CHARTLESS = {"index"}
MAX_PAGE_BYTES = 3 * 1024 * 1024


def _build(out_dir: Path, before=None, **scale: int) -> list[Path]:
    """Build the fixture site; `before(con)` may change the warehouse first."""
    with duckdb.connect() as con:
        create_fixture(con, **scale)
        if before:
            before(con)
        return build_dashboards(
            con, out_dir, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )


def _read(out_dir: Path) -> dict[str, str]:
    return {name: (out_dir / f"{name}.html").read_text(encoding="utf-8") for name in PAGES}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out_dir = tmp_path_factory.mktemp("site")
    return out_dir, _build(out_dir)


@pytest.fixture(scope="module")
def pages(site) -> dict[str, str]:
    return _read(site[0])


@pytest.fixture(scope="module")
def headline() -> dict[tuple[str, str], dict]:
    with duckdb.connect() as con:
        create_fixture(con)
        result = con.execute(HEADLINE_SQL, {"as_of": AS_OF})
        columns = [c[0] for c in result.description]
        return {(r[0], r[1]): dict(zip(columns, r, strict=True)) for r in result.fetchall()}


def _tile_values(text: str, figure: str) -> list[str]:
    """The value of every tile of one catalogue figure on a page, in page order."""
    return re.findall(
        rf'<div class="tile" data-figure="{figure}">.*?<div class="value[^"]*">(.*?)</div>', text
    )


def _program_figures(text: str) -> dict[str, dict[str, str]]:
    """Per program rollup (first tile group of each on the page): figure -> value and change."""
    groups: dict[str, dict[str, str]] = {}
    for chunk in text.split('<div class="tile-group"')[1:]:
        program, cohort = re.search(r'data-program="([^"]*)" data-cohort="([^"]*)"', chunk).groups()
        if cohort != "(all)" or program in groups:
            continue
        tiles = re.findall(r'<div class="tile" data-figure="([a-z_]+)">(.*?)<div class="n">', chunk)
        groups[program] = dict(tiles)
    return groups


def test_writes_every_public_page_and_one_local_plotly(site):
    out_dir, written = site
    top_level = {p.name for p in written if p.parent == out_dir}
    assert {f"{name}.html" for name in PAGES} <= top_level
    assert [p.name for p in out_dir.glob("*.js")] == ["plotly.min.js"]
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in written if p.parent == out_dir)


def test_pages_load_nothing_from_the_network(pages):
    for name, text in pages.items():
        assert not re.search(r"https?://", text), name
        sources = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"([^\"]*)\"", text)
        assert set(sources) <= {"plotly.min.js", "data:,"}, (name, sources)
        assert "@import" not in text and "url(" not in text, name


def test_plotly_js_is_loaded_only_by_pages_with_charts(pages):
    for name, text in pages.items():
        has_chart = "MP.chart(" in text
        assert has_chart == (name not in CHARTLESS), name
        assert ('<script src="plotly.min.js">' in text) == has_chart, name


def test_no_chart_may_offer_to_send_its_data_anywhere(pages):
    text = pages["overview"]
    assert "showSendToCloud: false" in text and "displaylogo: false" in text
    assert '"sendChartToCloud"' in text and 'plotlyServerURL: ""' in text


def test_every_page_states_the_as_of_date_build_time_and_lag(tmp_path, pages):
    for name, text in pages.items():
        assert "data as of <strong>2026-03-15</strong> · built at 2026-03-15 06:30 UTC" in text, (
            name
        )
        assert "before the build" not in text  # built on D itself
    # Built 11 days after D: every page says so.
    with duckdb.connect() as con:
        create_fixture(con)
        build_dashboards(
            con, tmp_path, as_of=AS_OF, built_at=BUILT_AT.replace(day=26), min_group_size=5
        )
    for name, text in _read(tmp_path).items():
        assert "the as-of date is 11 days before the build" in text, name


def test_data_strings_are_escaped_everywhere(pages):
    raw = [INJECTION, SCRIPT_NAME, "<b>Ship</b>"]
    for name, text in pages.items():
        for value in raw:
            assert value not in text, (name, value)
        # No data string closes a script early: every <script> has its own </script>.
        assert text.count("<script") == text.count("</script>"), name
    assert html.escape(INJECTION) in pages["cadence"]


def test_public_pages_hold_no_names_emails_goal_titles_or_match_ids(pages):
    for name, text in pages.items():
        assert html.escape(UNICODE_NAME) not in text, name
        assert html.escape(SCRIPT_NAME) not in text, name
        assert "@example.org" not in text, name
        assert not re.search(r"\bM\d{5}\b", text), name
    for title in GOAL_TITLES:
        assert html.escape(title) not in pages["goals"], title


def test_suppressed_survey_figures_say_so(pages):
    assert f"fewer than {MIN_GROUP_SIZE} responses" in pages["feedback"]
    for name, text in pages.items():
        assert not re.search(r">\s*(None|nan|NaN)\s*<", text), name


def test_quarantined_raw_text_is_never_shown(pages):
    for name, text in pages.items():
        assert RAW_TEXT_MARKER not in text, name


def test_one_figure_reads_the_same_on_every_page_and_equals_the_mart(pages, headline):
    figures = {name: _program_figures(pages[name]) for name in ("index", "overview", "cadence")}
    assert set(figures["index"]) == {"Engineering Mentoring", html.escape("Liderança & Growth")}
    for program, tiles in figures["index"].items():
        for figure, shown in tiles.items():
            for name in ("overview", "cadence"):
                if figure in figures[name][program]:
                    assert figures[name][program][figure] == shown, (program, figure, name)
    on_track = [
        _tile_values(pages[name], "on_track")[0] for name in ("index", "overview", "cadence")
    ]
    share = headline[("Engineering Mentoring", "(all)")]["on_track_share"]
    assert on_track == [f"{100 * share:.0f}%"] * 3


def test_headline_figures_show_their_change_since_the_last_month_end(pages, headline):
    row = headline[("Engineering Mentoring", "(all)")]
    assert row["prev_month_end"].isoformat() == "2026-02-28"
    tile = re.search(r'data-figure="active">(.*?)<div class="about">', pages["overview"]).group(1)
    delta = row["active_matches"] - row["prev_active_matches"]
    assert f"{delta:+,.0f} " in tile and "since 28 Feb 2026" in tile
    assert 'class="change' in tile
    # Survey figures compare with the group's previous wave with enough respondents.
    assert f"since {row['prev_survey_id']}" in pages["overview"]
    assert row["survey_id"] != row["prev_survey_id"]


def test_survey_figures_come_from_the_newest_wave_with_enough_respondents(headline):
    for (program, cohort), row in headline.items():
        if row["survey_id"] is None:
            continue
        assert row["satisfaction_n"] >= MIN_GROUP_SIZE, (program, cohort)
    # The fixture's newest wave is pulse-2026-03; the one before it checkin-2026-02.
    row = headline[("Engineering Mentoring", "(all)")]
    assert (row["survey_id"], row["prev_survey_id"]) == ("pulse-2026-03", "checkin-2026-02")


def test_finished_cohorts_have_their_own_section_and_no_score(pages, headline):
    row = headline[("Engineering Mentoring", FINISHED_COHORT)]
    assert row["is_finished"] and row["health_score"] is not None  # the mart scores one part
    overview = pages["overview"]
    kpis, rest = overview.split('id="health"', 1)
    assert f"Engineering Mentoring · {FINISHED_COHORT}" not in kpis
    assert f"<td>{FINISHED_COHORT}</td>" in rest.split('id="finished"', 1)[1].split("</section>")[0]
    # No health score is given from fewer than two parts.
    for match in re.finditer(r'data-figure="health">(.*?)<div class="about">', overview):
        if re.search(r"rests on [01] of 4", match.group(1)):
            assert "not scored" in match.group(1)


def test_cohorts_are_in_time_order(pages):
    headings = re.findall(
        r"<h3>Engineering Mentoring · (.*?)</h3>", pages["goals"].split('id="details"')[0]
    )
    assert headings[:4] == ["All cohorts", "2025-Autumn", html.escape(INJECTION), "2026-Winter"]


def test_thresholds_come_from_the_run_settings(tmp_path):
    def settings(con):
        con.execute("UPDATE core.run_info SET lapse_days = 45, freshness_days = 1")

    _build(tmp_path, settings)
    pages = _read(tmp_path)
    assert "no meeting for over 45 days" in pages["cadence"]
    assert "over 60 days" not in pages["cadence"]
    # The newest invitation was sent 2026-03-10 (5 days before D): stale with a 1-day setting.
    for name, text in pages.items():
        assert 'class="banner stale"' in text and "older than 1 day</strong>" in text, name
        assert "invitations: newest record 2026-03-10, 5 days before the as-of date" in text, name
        assert "meetings:" not in text, name  # meetings are fresh


def test_fresh_sources_put_no_banner_and_freshness_counts_records_not_loads(pages):
    for name, text in pages.items():
        assert 'class="banner stale"' not in text, name
    freshness = pages["data_quality"].split('id="freshness"')[1].split("</section>")[0]
    assert "2026-03-10" in freshness and "5 days" in freshness  # the newest invitation
    assert "no record date" in freshness  # participants


def test_goals_page_lists_no_goals_only_counts(pages):
    goals = pages["goals"]
    assert "<table" not in goals.split('id="overdue"')[1].split("</section>")[0]
    assert "How late overdue goals are" in goals


def test_rebuild_replaces_pages_and_leaves_no_temporary_files(tmp_path):
    first = _build(tmp_path)
    second = _build(tmp_path)
    assert [p.name for p in first] == [p.name for p in second]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_empty_warehouse_builds_pages_that_say_so(tmp_path):
    def empty(con):
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_name <> 'run_info'"
        ).fetchall()
        for schema, table in tables:
            con.execute(f'DELETE FROM "{schema}"."{table}"')

    _build(tmp_path, empty)
    overview = (tmp_path / "overview.html").read_text(encoding="utf-8")
    assert "No data yet." in overview
    assert "MP.chart" not in overview and "plotly.min.js" not in overview
    assert "meetings: no records" in overview  # the banner says why nothing shows


def test_pages_stay_under_3_mb_at_50000_matches(tmp_path):
    # Three years of a large company: many cohorts, three survey waves a month.
    written = _build(tmp_path, n_matches=50_000, extra_cohorts=36, wave_months=36)
    sizes = {p.name: p.stat().st_size for p in written if p.suffix == ".html"}
    assert all(size < MAX_PAGE_BYTES for size in sizes.values()), sizes
