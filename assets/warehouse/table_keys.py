"""The declared key of every published table: its grain, as a constraint analysts can trust.

Each published table has a primary key (its columns are also NOT NULL), or — where a key
column may be NULL — a unique key. The publish step declares them as DuckDB constraints on the
published copy (so a duplicate fails the publish and the previous warehouse stays) and lists
them in `ingest.table_keys`. A table added to the published set must be added here too
(tests/unit/test_publish.py fails otherwise).
"""

from __future__ import annotations

PRIMARY = "PRIMARY KEY"
UNIQUE = "UNIQUE"

# table -> (kind, key columns)
TABLE_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ingest.files": (PRIMARY, ("load_id",)),
    "ingest.publication": (PRIMARY, ("version",)),
    # line is NULL for a whole file that could not be read
    "ingest.quarantine": (UNIQUE, ("load_id", "line", "reason")),
    "ingest.table_builds": (PRIMARY, ("table_name",)),
    "ingest.table_keys": (PRIMARY, ("table_name",)),
    "core.goals": (PRIMARY, ("goal_id",)),
    "core.matches": (PRIMARY, ("match_id",)),
    "core.meetings": (PRIMARY, ("meeting_id",)),
    "core.run_info": (PRIMARY, ("as_of",)),
    "marts.at_risk_matches": (PRIMARY, ("match_id",)),
    "marts.cohorts": (PRIMARY, ("program", "cohort")),
    "marts.feedback_scores": (PRIMARY, ("program", "cohort", "survey_id", "role", "item")),
    "marts.followup_outcomes": (PRIMARY, ("program",)),
    "marts.goal_attainment": (PRIMARY, ("program", "cohort", "horizon")),
    "marts.goal_status": (PRIMARY, ("goal_id",)),
    "marts.match_cadence": (PRIMARY, ("match_id",)),
    "marts.match_closures": (PRIMARY, ("program", "cohort")),
    "marts.match_design": (PRIMARY, ("program", "attribute", "level")),
    "marts.match_retention": (PRIMARY, ("program", "cohort", "day")),
    "marts.match_risk": (PRIMARY, ("match_id",)),
    "marts.monthly_trends": (PRIMARY, ("program", "cohort", "month_end")),
    "marts.nps": (PRIMARY, ("program", "cohort", "survey_id", "role")),
    "marts.participants": (PRIMARY, ("participant_key",)),
    "marts.program_health": (PRIMARY, ("program", "cohort")),
    "marts.program_health_by_month": (PRIMARY, ("program", "cohort", "month_end")),
    # a single row with test_month NULL says there is no month to test
    "marts.risk_backtest": (UNIQUE, ("test_month",)),
    "marts.survey_change": (PRIMARY, ("program", "cohort", "role", "item")),
    "marts.survey_reliability": (PRIMARY, ("program", "survey_id", "role")),
    "marts.survey_response_rates": (PRIMARY, ("program", "cohort", "survey_id", "role")),
}

TABLE_KEYS_DDL = """
CREATE TABLE IF NOT EXISTS ingest.table_keys (
    table_name VARCHAR NOT NULL,
    key_kind VARCHAR NOT NULL,
    key_columns VARCHAR[] NOT NULL
);
COMMENT ON TABLE ingest.table_keys IS 'One row per published table: its declared key (its grain), also declared as a constraint on the published table (duckdb_constraints()). PRIMARY KEY columns are NOT NULL; a UNIQUE key may hold NULLs.';
COMMENT ON COLUMN ingest.table_keys.table_name IS 'schema.table of a published table.';
COMMENT ON COLUMN ingest.table_keys.key_kind IS 'PRIMARY KEY (unique, key columns NOT NULL) or UNIQUE (unique; a key column may be NULL).';
COMMENT ON COLUMN ingest.table_keys.key_columns IS 'The key columns: one row of the table per combination of their values.';
"""


def record_table_keys(con, tables: list[str]) -> None:
    """(Re)fill ingest.table_keys in the working database with the keys of `tables`."""
    con.execute(TABLE_KEYS_DDL)
    con.execute("DELETE FROM ingest.table_keys")
    con.executemany(
        "INSERT INTO ingest.table_keys VALUES (?, ?, ?)",
        [[t, TABLE_KEYS[t][0], list(TABLE_KEYS[t][1])] for t in tables if t in TABLE_KEYS],
    )
