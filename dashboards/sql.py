"""Small SQL helpers shared by the pages: fetching rows and rolling match-level rows up by group."""

from __future__ import annotations

from typing import Any

import duckdb

Row = dict[str, Any]

ALL = "(all)"

# Groups sort by program, the program's "(all)" rollup first, then its cohorts in time order
# (by their first matched_on; a name breaks ties). `cohort_start` comes from COHORT_STARTS,
# which `in_time_order` joins in.
GROUP_ORDER = "program, cohort <> '(all)', cohort_start NULLS LAST, cohort"
COHORT_STARTS = """(
    SELECT program, cohort, min(matched_on) AS cohort_start
    FROM marts.match_cadence GROUP BY program, cohort)"""

# Survey waves carry their month in the id (e.g. "checkin-2026-03"); newest first, then by id.
WAVE_ORDER = r"regexp_extract(survey_id, '\d{4}-\d{2}(-\d{2})?') DESC, survey_id DESC"
# A wave's date: its first invitation (several waves share a month, so the id is not enough).
WAVE_DATES = """(
    SELECT survey_id, min(sent_on) AS wave_on FROM core.invitations GROUP BY survey_id)"""

# Waves pile up month after month; pages show the newest few so they stay small and current.
MAX_WAVES = 6
SURVEY_GROUPS = """
    SELECT program, cohort, survey_id FROM marts.feedback_scores
    UNION SELECT program, cohort, survey_id FROM marts.nps
    UNION SELECT program, cohort, survey_id FROM marts.survey_response_rates"""
RECENT_WAVE = f"""survey_id IN (
    SELECT survey_id FROM ({SURVEY_GROUPS}) LEFT JOIN {WAVE_DATES} USING (survey_id)
    GROUP BY survey_id ORDER BY max(wave_on) DESC NULLS LAST, {WAVE_ORDER} LIMIT {MAX_WAVES})"""

# Per source, the date of its newest record seen by D (not when its file was loaded). Roster
# rows of participants carry no date of their own (joined_on is when a person joined), so that
# source has none.
NEWEST_RECORDS = """
    SELECT 'matches' AS source, max(day) FILTER (WHERE day <= $as_of) AS newest_on
    FROM (SELECT matched_on AS day FROM core.matches UNION ALL SELECT ended_on FROM core.matches)
    UNION ALL
    SELECT 'meetings', max(CAST(timezone($timezone, last_event_at) AS DATE)) FILTER (
        WHERE CAST(timezone($timezone, last_event_at) AS DATE) <= $as_of) FROM core.meetings
    UNION ALL
    SELECT 'goals', max(CAST(timezone($timezone, last_event_at) AS DATE)) FILTER (
        WHERE CAST(timezone($timezone, last_event_at) AS DATE) <= $as_of) FROM core.goals
    UNION ALL
    SELECT 'responses', max(submitted_on) FILTER (WHERE submitted_on <= $as_of)
    FROM core.survey_responses
    UNION ALL
    SELECT 'invitations', max(sent_on) FILTER (WHERE sent_on <= $as_of) FROM core.invitations"""


def table_exists(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    schema, name = qualified_name.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def fetch(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[Row]:
    """Run a query and return its rows as dicts keyed by column name."""
    result = con.execute(sql, params) if params else con.execute(sql)
    columns = [column[0] for column in result.description]
    return [dict(zip(columns, values, strict=True)) for values in result.fetchall()]


def in_time_order(query: str, then: str = "") -> str:
    """`query` (with program and cohort columns) sorted as GROUP_ORDER says, then by `then`."""
    return f"""
        SELECT q.* FROM ({query}) AS q LEFT JOIN {COHORT_STARTS} AS starts USING (program, cohort)
        ORDER BY {GROUP_ORDER}{", " + then if then else ""}"""


def per_group(measures: str, source: str, where: str = "TRUE") -> str:
    """SQL computing `measures` per (program, cohort) and per program (cohort '(all)').

    The rollup is computed from the rows themselves, as the marts do, not averaged from cohorts.
    """
    return in_time_order(f"""
        SELECT program, coalesce(cohort, '{ALL}') AS cohort, {measures}
        FROM {source}
        WHERE {where}
        GROUP BY GROUPING SETS ((program, cohort), (program))""")


def within(column: str, low: float, high: float) -> str:
    """SQL for an interval bound kept inside the figure's range (a t interval of a mean of
    1-5 answers can reach past 1 or 5; the page never shows a bound outside the scale).
    NULL stays NULL (greatest and least would skip it)."""
    return f"CASE WHEN {column} IS NOT NULL THEN least(greatest({column}, {low}), {high}) END"


def pivot(columns: dict[str, str], by: str, values: dict[str, str]) -> str:
    """Select-list turning one row per `by` value into columns: `<prefix>_<column alias>`.

    `columns` maps an output alias to a source expression; `values` maps each `by` value to the
    prefix its columns get. Names here are constants of the code, never data.
    """
    return ",\n".join(
        f"any_value({expression}) FILTER (WHERE {by} = '{value}') AS {prefix}_{alias}"
        for value, prefix in values.items()
        for alias, expression in columns.items()
    )
