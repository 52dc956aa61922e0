"""What adapters look up in the working database: the run's settings and the roster so far.

An export names people by e-mail, not by participant_id, and rarely names the match; both
are found in the roster as loaded when the export is ingested (the roster's sources come first
in a run). The latest roster row per id wins, by file name then line, as in core.
"""

from __future__ import annotations

import datetime as dt

import duckdb

ROSTER_CTES = """
roster_people AS (
    SELECT participant_id, lower(trim(email)) AS email
    FROM staging.participants
    QUALIFY row_number() OVER (
        PARTITION BY participant_id ORDER BY _file_name DESC, _source_path DESC, _line DESC) = 1
),
roster_matches AS (
    SELECT match_id, mentor_id, mentee_id, matched_on, ended_on
    FROM staging.matches
    QUALIFY row_number() OVER (
        PARTITION BY match_id ORDER BY _file_name DESC, _source_path DESC, _line DESC) = 1
),
people_by_email AS (
    SELECT email, min(participant_id) AS participant_id, count(*) AS people
    FROM roster_people
    WHERE email IS NOT NULL
    GROUP BY email
)"""


def active_on(day: str) -> str:
    """SQL: the roster match `m` is active on the date `day` (matched, not yet ended)."""
    return f"(m.matched_on <= {day} AND (m.ended_on IS NULL OR m.ended_on >= {day}))"


def chosen_match(candidates: str) -> str:
    """SQL choosing, per `_record`, one match among `candidates` (_record, match_id, role,
    active): the only candidate, else the only active one; several left -> none."""
    return f"""
        SELECT _record,
            CASE WHEN count(*) = 1 THEN any_value(match_id)
                 WHEN count(*) FILTER (WHERE active) = 1
                     THEN any_value(match_id) FILTER (WHERE active) END AS match_id,
            CASE WHEN count(*) = 1 THEN any_value(role)
                 WHEN count(*) FILTER (WHERE active) = 1
                     THEN any_value(role) FILTER (WHERE active) END AS role,
            count(*) FILTER (WHERE active) AS active_matches,
            string_agg(match_id, ', ' ORDER BY match_id) AS candidate_matches
        FROM ({candidates})
        GROUP BY _record"""


def run_settings(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, str]:
    """The as-of date and program time zone bound on the connection (today and UTC if not)."""
    as_of, timezone = con.execute(
        "SELECT getvariable('as_of'), getvariable('timezone')"
    ).fetchall()[0]
    return as_of or dt.date.today(), timezone or "UTC"
