"""The marts as a whole: names, columns and types of METRICS.md, the data dictionary comments,
what they read, and rules that hold for every table (booleans never NULL, reruns stable)."""

from __future__ import annotations

import pytest

from assets.warehouse.outcomes import OUTCOME_TABLES
from tests.unit.marts_harness import (
    CORE_TABLES,
    DERIVED_CORE_TABLES,
    MartsHarness,
    mart_tables,
)

TEXT, DAY, FLAG, COUNT, FIG = "VARCHAR", "DATE", "BOOLEAN", "BIGINT", "DOUBLE"

MATCH_CADENCE = {
    "match_id": TEXT,
    "program": TEXT,
    "cohort": TEXT,
    "mentor_key": TEXT,
    "mentee_key": TEXT,
    "matched_on": DAY,
    "ended_on": DAY,
    "is_active": FLAG,
    "active_days": COUNT,
    "target_per_month": FIG,
    "meetings_held": COUNT,
    "meetings_cancelled": COUNT,
    "meetings_no_show": COUNT,
    "meetings_per_month": FIG,
    "cadence_attainment": FIG,
    "first_meeting_on": DAY,
    "days_to_first_meeting": COUNT,
    "last_meeting_on": DAY,
    "days_since_last_meeting": COUNT,
    "median_gap_days": FIG,
    "gap_cv": FIG,
    "cancellation_rate": FIG,
    "no_show_rate": FIG,
    "status": TEXT,
}

# METRICS.md (plus the project's monthly_trends), column -> type; extra columns are allowed.
EXPECTED: dict[str, dict[str, str]] = {
    "match_cadence": MATCH_CADENCE,
    "at_risk_matches": MATCH_CADENCE | {"reason": TEXT},
    "goal_status": {
        "goal_id": TEXT,
        "match_id": TEXT,
        "program": TEXT,
        "cohort": TEXT,
        "horizon": TEXT,
        "category": TEXT,
        "target_date": DAY,
        "has_measure": FLAG,
        "set_on": DAY,
        "status": TEXT,
        "progress_pct": FIG,
        "achieved_on": DAY,
        "days_to_achieve": COUNT,
        "is_overdue": FLAG,
        "is_smart": FLAG,
    },
    "goal_attainment": {
        "program": TEXT,
        "cohort": TEXT,
        "horizon": TEXT,
        "goals_set": COUNT,
        "goals_achieved": COUNT,
        "goals_abandoned": COUNT,
        "goals_open": COUNT,
        "goals_overdue": COUNT,
        "attainment_rate": FIG,
        "attainment_ci_low": FIG,
        "attainment_ci_high": FIG,
        "median_days_to_achieve": FIG,
        "smart_share": FIG,
        "goals_open_undated": COUNT,
    },
    "feedback_scores": {
        "program": TEXT,
        "cohort": TEXT,
        "survey_id": TEXT,
        "role": TEXT,
        "item": TEXT,
        "n": COUNT,
        "n_respondents": COUNT,
        "mean": FIG,
        "ci_low": FIG,
        "ci_high": FIG,
        "top2_share": FIG,
        "suppressed": FLAG,
    },
    "nps": {
        "program": TEXT,
        "cohort": TEXT,
        "survey_id": TEXT,
        "role": TEXT,
        "n": COUNT,
        "n_respondents": COUNT,
        "promoters": COUNT,
        "passives": COUNT,
        "detractors": COUNT,
        "nps": FIG,
        "nps_ci_low": FIG,
        "nps_ci_high": FIG,
        "suppressed": FLAG,
    },
    "survey_response_rates": {
        "program": TEXT,
        "cohort": TEXT,
        "survey_id": TEXT,
        "role": TEXT,
        "invitations": COUNT,
        "responses": COUNT,
        "response_rate": FIG,
    },
    "program_health": {
        "program": TEXT,
        "cohort": TEXT,
        "active_matches": COUNT,
        "on_track_share": FIG,
        "goal_attainment_rate": FIG,
        "goal_coverage": FIG,
        "satisfaction_respondents": COUNT,
        "satisfaction_mean": FIG,
        "response_rate_90d": FIG,
        "health_score": FIG,
        "health_band": TEXT,
    },
    "monthly_trends": {
        "program": TEXT,
        "cohort": TEXT,
        "month_end": DAY,
        "active_matches": COUNT,
        "meetings_held": COUNT,
        "on_track_share": FIG,
        "goals_set": COUNT,
        "goals_achieved": COUNT,
        "responses": COUNT,
        "satisfaction_respondents": COUNT,
        "satisfaction_mean": FIG,
    },
    # The project's health by month end (docs/metrics.md), for the dashboards' change arrows.
    "program_health_by_month": {
        "program": TEXT,
        "cohort": TEXT,
        "month_end": DAY,
        "evaluated_on": DAY,
        "is_partial": FLAG,
        "active_matches": COUNT,
        "on_track_share": FIG,
        "pairs_needing_attention": COUNT,
        "meetings_per_month": FIG,
        "target_per_month": FIG,
        "meetings_held": COUNT,
        "goals_set": COUNT,
        "goals_achieved": COUNT,
        "responses": COUNT,
        "goals_overdue": COUNT,
        "goal_attainment_rate": FIG,
        "goal_coverage": FIG,
        "satisfaction_respondents": COUNT,
        "satisfaction_mean": FIG,
        "response_rate_90d": FIG,
        "health_parts": "INTEGER",
        "health_score": FIG,
        "health_band": TEXT,
    },
    # Outcomes
    "survey_change": {
        "program": TEXT,
        "cohort": TEXT,
        "role": TEXT,
        "item": TEXT,
        "n_pairs": COUNT,
        "n_respondents": COUNT,
        **dict.fromkeys(
            (
                "intake_mean",
                "closing_mean",
                "mean_change",
                "ci_low",
                "ci_high",
                "improved_share",
                "declined_share",
            ),
            FIG,
        ),
        "suppressed": FLAG,
    },
    # Outcomes: retention, closures, pairings, reliability
    "match_retention": {
        "program": TEXT,
        "cohort": TEXT,
        "day": COUNT,
        "matches": COUNT,
        "at_risk": COUNT,
        "closed_early": COUNT,
        "completed": COUNT,
        "early_closure": FIG,
        "early_closure_ci_low": FIG,
        "early_closure_ci_high": FIG,
        "survival": FIG,
        "ci_low": FIG,
        "ci_high": FIG,
    },
    "match_closures": {
        "program": TEXT,
        "cohort": TEXT,
        "matches": COUNT,
        "ended": COUNT,
        "completed": COUNT,
        "closed_early": COUNT,
        "early_closure_rate": FIG,
        "early_closure_ci_low": FIG,
        "early_closure_ci_high": FIG,
        "early_share_of_ended": FIG,
        "early_share_ci_low": FIG,
        "early_share_ci_high": FIG,
        **dict.fromkeys(
            (
                "mentor_withdrew",
                "mentee_withdrew",
                "no_engagement",
                "rematched",
                "other",
                "unknown_reason",
            ),
            COUNT,
        ),
        "median_days_to_early_closure": FIG,
    },
    "match_design": {
        "program": TEXT,
        "attribute": TEXT,
        "level": TEXT,
        "matches": COUNT,
        "ended": COUNT,
        "closed_early": COUNT,
        "early_closure_rate": FIG,
        "early_closure_ci_low": FIG,
        "early_closure_ci_high": FIG,
        "logrank_p": FIG,
        "logrank_p_holm": FIG,
        "cadence_attainment_mean": FIG,
        "goals_decided": COUNT,
        "goal_attainment_rate": FIG,
        "goal_attainment_ci_low": FIG,
        "goal_attainment_ci_high": FIG,
    },
    "survey_reliability": {
        "program": TEXT,
        "survey_id": TEXT,
        "role": TEXT,
        "n_complete": COUNT,
        "n_respondents": COUNT,
        "alpha": FIG,
        "alpha_ci_low": FIG,
        "alpha_ci_high": FIG,
    },  # The analyst's dimensions (issue 23): people without personal detail, and the cohorts.
    "participants": {
        "participant_key": TEXT,
        "role": TEXT,
        "program": TEXT,
        "department": TEXT,
        "location": TEXT,
        "tenure_band": TEXT,
        "group_size": COUNT,
    },
    "cohorts": {
        "program": TEXT,
        "cohort": TEXT,
        "starts_on": DAY,
        "ends_on": DAY,
        "status": TEXT,
        "matches": COUNT,
        "cohort_order": "INTEGER",
    },
    "followup_outcomes": {
        "program": TEXT,
        "contacted_pairs": COUNT,
        "contacted_met_again": COUNT,
        "contacted_rate": FIG,
        "comparison_pairs": COUNT,
        "comparison_met_again": COUNT,
        "comparison_rate": FIG,
        "rate_difference": FIG,
    },
}


@pytest.fixture(scope="module")
def empty() -> MartsHarness:
    return MartsHarness().run()


@pytest.fixture(scope="module")
def busy() -> MartsHarness:
    """A bit of everything, to look for NULL flags and rerun differences."""
    wh = MartsHarness(as_of="2024-06-30", min_group_size=2)
    wh.add_match("a", "2024-01-10", cohort="C1", target=3)
    wh.add_match("b", "2024-03-01", cohort="C2", ended_on="2024-05-01")
    wh.add_match("c", "2024-06-25", cohort="C2")
    for day in ("2024-01-20", "2024-02-20", "2024-02-20", "2024-05-30"):
        wh.add_meeting("a", day)
    wh.add_meeting("b", "2024-03-10", "no_show")
    wh.add_goal("a", "2024-01-15", target_date=None, measure=None)
    wh.add_goal("a", "2024-01-16", target_date="2024-03-01", measure="m")
    wh.add_goal("b", "2024-03-05", "achieved", achieved_on="2024-04-01", horizon="long_term")
    for i, (match, role) in enumerate([("a", "mentee"), ("a", "mentor"), ("b", "mentee")]):
        wh.add_response(match, f"p{i}", role=role, satisfaction=4, guidance=i + 2, nps=8 + i)
        wh.add_invitation(match, f"p{i}", role=role)
    for instrument, day, answer in [("intake", "2024-02-01", 2), ("closing", "2024-06-01", 4)]:
        wh.add_response(
            "a", "p0", survey_id=instrument, instrument=instrument, submitted_on=day, skills=answer
        )
    wh.insert(
        "followups",
        [
            {
                "followup_id": "f1",
                "match_id": "a",
                "contacted_on": "2024-04-01",
                "channel": "email",
                "outcome": "reached",
            }
        ],
    )
    return wh.run()


def test_the_mart_files_are_the_contract_tables() -> None:
    # the SQL files, and the outcome marts computed in Python (assets/warehouse/outcomes.py)
    python_marts = {name.removeprefix("marts.") for name in OUTCOME_TABLES}
    assert {t.name for t in mart_tables()} | python_marts == set(EXPECTED)
    assert not {t.name for t in mart_tables()} & python_marts


def test_marts_read_only_core_and_marts() -> None:
    core = {f"core.{name}" for name in CORE_TABLES} | set(DERIVED_CORE_TABLES)
    marts = {f"marts.{name}" for name in EXPECTED}
    for table in mart_tables():
        assert set(table.upstream()) <= core | marts, table.name


def test_dependency_order() -> None:
    order = [t.name for t in mart_tables()]
    for table in mart_tables():
        for dep in table.upstream():
            if dep.startswith("marts."):
                assert order.index(dep.removeprefix("marts.")) < order.index(table.name)


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_columns_and_types(empty: MartsHarness, table: str) -> None:
    actual = empty.column_types(table)
    for column, sql_type in EXPECTED[table].items():
        assert actual.get(column) == sql_type, f"{table}.{column}"


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_every_table_and_column_is_commented(empty: MartsHarness, table: str) -> None:
    (table_comment,) = empty.con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?",
        [table],
    ).fetchone()
    assert table_comment and table_comment.strip()
    missing = empty.con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND table_name = ? AND coalesce(trim(comment), '') = ''",
        [table],
    ).fetchall()
    assert missing == []


def test_empty_core_gives_empty_marts_and_no_leftovers(empty: MartsHarness) -> None:
    tables = empty.con.execute(
        "SELECT schema_name, table_name, temporary FROM duckdb_tables() "
        "WHERE schema_name <> 'core' ORDER BY table_name"
    ).fetchall()
    assert tables == [("marts", name, False) for name in sorted(EXPECTED)]
    for name in EXPECTED:
        assert empty.rows(name) == [], name


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_flags_are_never_null(busy: MartsHarness, table: str) -> None:
    flags = [c for c, t in busy.column_types(table).items() if t == "BOOLEAN"]
    for row in busy.rows(table):
        for flag in flags:
            assert row[flag] is not None, (table, flag, row)


def test_busy_warehouse_fills_every_mart(busy: MartsHarness) -> None:
    for name in EXPECTED:
        assert busy.rows(name), name


def test_rerun_gives_the_same_tables(busy: MartsHarness) -> None:
    before = {name: busy.frame(name) for name in EXPECTED}
    busy.run()
    for name, frame in before.items():
        assert busy.frame(name).equals(frame), name
