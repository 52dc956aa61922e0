"""The checks of the tables Python writes, as data: each a query returning (failures, sample).
What ingest loaded (staging) adds up; the outcome marts (outcome_assets.py) hold together. The
dbt models' data tests are dbt tests (assets/warehouse/dbt/macros/tests/); a published
table's key is declared on the published copy (table_keys.py), so a duplicate fails publish.
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.ingest.contract import SOURCES, sources_staging_into


@dataclass(frozen=True)
class DataCheck:
    table: str  # the asset it checks, "schema.table"
    name: str
    description: str
    sql: str  # one row: failures BIGINT, sample VARCHAR
    blocking: bool


def _reconciliation(table: str) -> DataCheck:
    # Every source staging into the table (its own files and tools' exports), load by load.
    sources = ", ".join(f"'{s.name}'" for s in sources_staging_into(table))
    return DataCheck(
        f"staging.{table}",
        "nothing_lost",
        "Per file: rows_read = loaded + duplicate + quarantined, and staging and quarantine "
        "hold exactly the rows ingest.files counts.",
        f"""WITH staged AS (
                SELECT _load_id AS load_id, count(*) AS n FROM staging.{table} GROUP BY ALL),
            quarantined AS (
                SELECT load_id, count(*) AS n FROM ingest.quarantine
                WHERE source IN ({sources}) AND reason NOT LIKE 'file:%' GROUP BY ALL)
            SELECT count(*), string_agg(f.path, ', ') FROM ingest.files AS f
            LEFT JOIN staged AS s USING (load_id) LEFT JOIN quarantined AS q USING (load_id)
            WHERE f.source IN ({sources}) AND f.status <> 'duplicate_file' AND (
                f.rows_read <> f.rows_loaded + f.rows_duplicate + f.rows_quarantined
                OR coalesce(s.n, 0) <> f.rows_loaded OR coalesce(q.n, 0) <> f.rows_quarantined)""",
        blocking=True,
    )


_INCIDENCE_IS_A_CURVE = """
    WITH curve AS (
        SELECT *, lag(early_closure) OVER (PARTITION BY program, cohort ORDER BY day) AS earlier
        FROM marts.match_retention)
    SELECT count(*), string_agg(program || '/' || cohort || '/' || day, ', ') FROM curve
    WHERE early_closure < 0 OR early_closure > 1 OR early_closure < earlier
       OR early_closure_ci_low > early_closure OR early_closure_ci_high < early_closure
       OR early_closure_ci_low < 0 OR early_closure_ci_high > 1
       OR survival IS DISTINCT FROM 1 - early_closure"""

CHECKS: list[DataCheck] = [
    *(_reconciliation(table) for table in SOURCES),
    # Outcomes: a cumulative incidence outside [0, 1] or falling with time would mislead.
    DataCheck(
        "marts.match_retention",
        "early_closure_is_a_curve",
        "early_closure lies in [0, 1], never falls from one day to a later one within a "
        "(program, cohort), its interval lies in [0, 1] and holds it, and survival is its "
        "complement.",
        _INCIDENCE_IS_A_CURVE,
        blocking=True,
    ),
    DataCheck(
        "marts.match_closures",
        "closures_add_up",
        "ended = completed + closed_early, and the early closures by reason add up to "
        "closed_early.",
        """SELECT count(*), string_agg(program || '/' || cohort, ', ') FROM marts.match_closures
           WHERE ended <> completed + closed_early
              OR closed_early <> mentor_withdrew + mentee_withdrew + no_engagement + rematched
                                 + other + unknown_reason""",
        blocking=True,
    ),
]


def run_check(con, check: DataCheck) -> tuple[int, str | None]:
    failures, sample = con.execute(check.sql).fetchall()[0]
    return int(failures), (sample[:500] if sample else None)
