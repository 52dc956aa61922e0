"""The checks of what ingest loaded (staging), as data: each a query returning (failures,
sample). The warehouse tables' data tests are dbt tests (assets/warehouse/dbt/macros/tests/).
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


CHECKS: list[DataCheck] = [_reconciliation(table) for table in SOURCES]


def run_check(con, check: DataCheck) -> tuple[int, str | None]:
    failures, sample = con.execute(check.sql).fetchall()[0]
    return int(failures), (sample[:500] if sample else None)
