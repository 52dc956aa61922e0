"""Small SQL helpers shared by the pages: fetching rows and rolling match-level rows up by group."""

from __future__ import annotations

from typing import Any

import duckdb

Row = dict[str, Any]

ALL = "(all)"

# Groups sort by program, the program's "(all)" rollup first, then its cohorts.
GROUP_ORDER = "program, cohort <> '(all)', cohort"

# Survey waves carry their month in the id (e.g. "checkin-2026-03"); newest first, then by id.
WAVE_ORDER = r"regexp_extract(survey_id, '\d{4}-\d{2}(-\d{2})?') DESC, survey_id DESC"

# Waves pile up month after month; pages show the newest few so they stay small and current.
MAX_WAVES = 6
SURVEY_GROUPS = """
    SELECT program, cohort, survey_id FROM marts.feedback_scores
    UNION SELECT program, cohort, survey_id FROM marts.nps
    UNION SELECT program, cohort, survey_id FROM marts.survey_response_rates"""
RECENT_WAVE = f"""survey_id IN (
    SELECT survey_id FROM ({SURVEY_GROUPS})
    GROUP BY survey_id ORDER BY {WAVE_ORDER} LIMIT {MAX_WAVES})"""


def fetch(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[Row]:
    """Run a query and return its rows as dicts keyed by column name."""
    result = con.execute(sql, params) if params else con.execute(sql)
    columns = [column[0] for column in result.description]
    return [dict(zip(columns, values, strict=True)) for values in result.fetchall()]


def per_group(measures: str, source: str, where: str = "TRUE") -> str:
    """SQL computing `measures` per (program, cohort) and per program (cohort '(all)').

    The rollup is computed from the rows themselves, as the marts do, not averaged from cohorts.
    """
    return f"""
        SELECT * FROM (
            SELECT program, coalesce(cohort, '{ALL}') AS cohort, {measures}
            FROM {source}
            WHERE {where}
            GROUP BY GROUPING SETS ((program, cohort), (program))
        ) ORDER BY {GROUP_ORDER}"""


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
