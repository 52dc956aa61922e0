"""The Outcomes page in real Chromium, on the dashboard fixture with its outcome marts built by
their real code (assets/warehouse/outcomes.py; survey_change by its SQL file): the fixture's
core tables get roster endings, departments, locations and intake/closing answers first."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from assets.settings import load_settings
from assets.warehouse.outcomes import build_outcome_marts
from dashboards import build_dashboards
from tests import dbt_compiled
from tests.dashboard_fixture import AS_OF, BUILT_AT, MIN_GROUP_SIZE, create_fixture
from tests.e2e.conftest import LoadedPage, serve

PROGRAM = "Engineering Mentoring"
OTHER_PROGRAM = "Liderança & Growth"
CHARTS = [
    "retention-chart",
    "closure-reasons-chart",
    "closure-rate-chart",
    "change-chart",
    "design-department-chart",
    "design-location-chart",
    "design-mentor_load-chart",
]

# Endings, attributes and intake/closing answers drawn from a hash of the ids (seeded, stable).
OUTCOME_CORE = """
CREATE OR REPLACE TEMP MACRO pick(s, n) AS CAST(hash(s) % n AS BIGINT);
ALTER TABLE core.matches ADD COLUMN end_reason VARCHAR;
UPDATE core.matches SET end_reason = CASE WHEN ended_on IS NOT NULL THEN
    ['completed', 'completed', 'no_engagement', 'mentee_withdrew', 'mentor_withdrew',
     'rematched', 'other', ''][1 + pick(match_id || 'reason', 8)] END;
-- Some cohorts' pairs end early, at different durations, so the curves fall.
UPDATE core.matches SET ended_on = matched_on + 20 + CAST(pick(match_id, 120) AS INTEGER),
    end_reason = ['no_engagement', 'mentee_withdrew', 'mentor_withdrew'][1 + pick(match_id, 3)]
WHERE ended_on IS NULL AND pick(match_id || 'early', 5) = 0
  AND matched_on + 150 <= getvariable('as_of');
UPDATE marts.match_cadence AS c SET ended_on = m.ended_on, is_active = false,
    active_days = m.ended_on - m.matched_on
FROM core.matches AS m WHERE m.match_id = c.match_id AND m.ended_on IS NOT NULL;
ALTER TABLE core.participants ADD COLUMN department VARCHAR;
ALTER TABLE core.participants ADD COLUMN location VARCHAR;
UPDATE core.participants SET
    department = ['Engineering', 'Engineering', 'Data', ''][1 + pick(participant_key || 'd', 4)],
    location = ['Lisbon', 'Berlin', 'Lagos'][1 + pick(participant_key || 'l', 3)];
CREATE OR REPLACE TABLE core.survey_responses AS
SELECT
    wave.instrument || '-' || m.match_id || '-' || role.name AS response_id,
    wave.instrument || '-' || strftime(wave.day, '%Y-%m') AS survey_id,
    wave.instrument,
    CASE role.name WHEN 'mentor' THEN m.mentor_key ELSE m.mentee_key END AS respondent_key,
    m.match_id,
    role.name AS role,
    CAST(wave.day AS TIMESTAMPTZ) + INTERVAL 10 HOUR AS submitted_at,
    wave.day AS submitted_on,
    1 + CAST((pick(m.match_id || role.name || wave.instrument || 'g', 4)) + wave.lift AS INTEGER)
        AS guidance,
    1 + CAST((pick(m.match_id || role.name || wave.instrument || 'n', 4)) AS INTEGER) AS networking,
    1 + CAST((pick(m.match_id || role.name || wave.instrument || 'g', 3)) + wave.lift AS INTEGER)
        AS skills,
    1 + CAST((pick(m.match_id || role.name || wave.instrument || 'f', 4)) AS INTEGER) AS feedback,
    1 + CAST((pick(m.match_id || role.name || wave.instrument || 'g', 4)) AS INTEGER)
        AS communication,
    1 + CAST((pick(m.match_id || role.name || wave.instrument || 's', 4)) AS INTEGER)
        AS satisfaction,
    CAST(NULL AS INTEGER) AS nps,
    false AS has_comment
FROM core.matches AS m
CROSS JOIN (VALUES ('mentor'), ('mentee')) AS role(name)
CROSS JOIN LATERAL (
    SELECT 'intake' AS instrument, m.matched_on + 7 AS day, 0 AS lift
    UNION ALL
    SELECT 'closing', m.ended_on + 2, 1 WHERE m.ended_on IS NOT NULL
) AS wave
WHERE wave.day <= getvariable('as_of');
-- Few mentors of the other program answer networking at closing: a group under k.
UPDATE core.survey_responses SET networking = NULL
WHERE instrument = 'closing' AND role = 'mentor' AND match_id IN (
    SELECT match_id FROM core.matches WHERE program = 'Liderança & Growth'
    ORDER BY match_id OFFSET 2);
"""


def _outcome_fixture(con: duckdb.DuckDBPyConnection) -> None:
    create_fixture(con)
    con.execute(OUTCOME_CORE)
    dbt_compiled.build(con, ["marts.survey_change"])
    settings = load_settings({"MENTORPULSE_MIN_GROUP_SIZE": str(MIN_GROUP_SIZE)})
    build_outcome_marts(con, settings.with_as_of(AS_OF))


@pytest.fixture(scope="module")
def outcomes_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out_dir = tmp_path_factory.mktemp("outcomes")
    with duckdb.connect() as con:
        _outcome_fixture(con)
        # The fixture really has falling curves and an early closure of every reason.
        (falling,) = con.execute(
            "SELECT count(*) FROM marts.match_retention WHERE survival < 1"
        ).fetchone()
        assert falling > 0
        (suppressed,) = con.execute(
            "SELECT count(*) FROM marts.survey_change WHERE cohort = '(all)' AND suppressed "
            "AND program = ? AND item = 'networking'",
            [OTHER_PROGRAM],
        ).fetchone()
        assert suppressed >= 2  # mentors by size, mentees by the complementary rule
        build_dashboards(
            con, out_dir, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )
    with serve(out_dir) as url:
        yield url


@pytest.fixture
def outcomes_page(visit, outcomes_site: str) -> LoadedPage:
    return visit(outcomes_site, "outcomes", 1400)


def _traces(page, chart_id: str) -> list[dict]:
    """Name, visibility and point count of each drawn trace of a chart."""
    return page.evaluate(
        """(id) => document.getElementById(id).data.map((t) => ({
            name: t.name || "", visible: t.visible !== false,
            points: (t.y || []).filter((v) => v !== null).length }))""",
        chart_id,
    )


def test_outcomes_page_draws_every_chart_cleanly(outcomes_page: LoadedPage) -> None:
    page = outcomes_page.page
    assert outcomes_page.page_errors == [] and outcomes_page.console_errors == []
    assert outcomes_page.dialogs == [] and outcomes_page.external_requests == []
    for chart_id in CHARTS:
        assert page.locator(f"#{chart_id} .main-svg").count() >= 1, chart_id
        assert int(page.get_attribute(f"#{chart_id}", "data-shown")) > 0, chart_id
    text = page.inner_text("main")
    assert "associations in your program's data, not effects" in text
    assert "the items do not measure one thing consistently" in text


def test_the_page_says_what_the_numbers_are(outcomes_page: LoadedPage) -> None:
    """Issue 20: an estimate of closing early within a year, never a share of ended matches
    as a rate; "too early to tell" where no match was followed a year; "no detectable
    difference" where the Holm-adjusted log-rank p is 0.05 or more; survey change as change
    among those who answered both waves; no alpha from fewer than 10 responses; each term
    explained where it appears."""
    page = outcomes_page.page
    text = page.inner_text("main")
    assert "Estimated share of matches that close early within a year" in text
    assert "Early-closure rate, of ended matches" not in text
    assert "answered both the intake and the closing survey" in text
    assert "not an effect of the program" in text
    for term in ("Kaplan–Meier", "cumulative incidence", "Cronbach's alpha", "log-rank test"):
        assert term in text, term
    # The fixture's cohorts are younger than a year: every one-year estimate is missing, and
    # says why (the note is written under the category's label).
    labels = page.evaluate(
        """() => document.getElementById("closure-rate-chart").data.flatMap((t) => t.y || [])"""
    )
    assert labels and all("too early to tell" in label for label in labels)
    values = page.evaluate(
        """() => document.getElementById("closure-rate-chart").data.flatMap((t) => t.x || [])"""
    )
    assert all(value is None for value in values)
    # Each attribute's verdict; the fixture's differences are all within chance.
    verdicts = page.locator("#design table tbody tr:visible td:nth-child(2)").all_inner_texts()
    assert "no detectable difference" in verdicts
    assert all(
        v in ("no detectable difference", "one level only: nothing to compare") for v in verdicts
    )
    # No alpha from fewer than 10 complete responses.
    for row in page.locator("#reliability table tbody tr:visible").all():
        cells = row.locator("td").all_inner_texts()
        if int(cells[2].replace(",", "")) < 10:
            assert cells[3] == "—" and cells[4] == "—", cells
    # The curve estimates early closure, and points resting on fewer than 10 matches still
    # followed are grey and say so.
    hovers = page.evaluate(
        """() => document.getElementById("retention-chart").data
            .flatMap((t) => t.hovertext || [])"""
    )
    assert any("closed early" in h and "95% interval" in h for h in hovers)
    assert all("not closed early" not in h for h in hovers)
    greyed = page.evaluate(
        """() => document.getElementById("retention-chart").data
            .flatMap((t) => (t.marker && Array.isArray(t.marker.color)) ? t.marker.color : [])"""
    )
    few = [h for h in hovers if "too few to read" in h]
    assert few and greyed.count("#cbd5e1") == len(few)  # the tiny cohorts


def test_retention_curves_follow_the_program_filter(outcomes_page: LoadedPage) -> None:
    page = outcomes_page.page
    assert page.input_value('select[data-dim="program"]') == PROGRAM
    shown = [t for t in _traces(page, "retention-chart") if t["visible"] and t["name"]]
    assert shown and all(t["name"].startswith(PROGRAM) for t in shown)
    assert any("All cohorts (n = " in t["name"] for t in shown)  # every curve has its n
    assert all(t["points"] >= 2 for t in shown)  # day 0 and at least day 30
    page.select_option('select[data-dim="program"]', OTHER_PROGRAM)
    shown = [t for t in _traces(page, "retention-chart") if t["visible"] and t["name"]]
    assert shown and all(t["name"].startswith("Liderança &amp; Growth") for t in shown)


def test_hover_texts_carry_n_and_small_survey_groups_show_as_suppressed(
    outcomes_page: LoadedPage,
) -> None:
    page = outcomes_page.page
    hovers = page.evaluate(
        """() => document.getElementById("retention-chart").data
            .flatMap((t) => t.hovertext || [])"""
    )
    assert any("n = " in h and "95% interval" in h for h in hovers)
    custom = page.evaluate(
        """() => document.getElementById("design-department-chart").data
            .flatMap((t) => t.customdata || [])"""
    )
    assert any("n = " in c for c in custom)
    page.select_option('select[data-dim="program"]', OTHER_PROGRAM)
    labels = page.evaluate(
        """() => document.getElementById("change-chart").data.flatMap((t) => t.y || [])"""
    )
    networking = [label for label in labels if label.startswith("Networking")]
    assert networking and all(f"fewer than {MIN_GROUP_SIZE} responses" in x for x in networking)
    assert not any("fewer than" in label for label in labels if label.startswith("Guidance"))


def test_index_and_overview_link_to_outcomes(browser, outcomes_site: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        for name in ("index", "overview"):
            page.goto(f"{outcomes_site}/{name}.html", wait_until="load")
            links = page.locator('main a[href="outcomes.html"]')
            assert links.count() >= 1, name
        links.first.click()
        page.wait_for_url("**/outcomes.html")
        assert page.locator("h1").inner_text() == "Outcomes"
    finally:
        context.close()
