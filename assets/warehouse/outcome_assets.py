"""The outcome marts' asset: one step builds marts.match_retention, marts.match_closures,
marts.match_design and marts.survey_reliability (assets/warehouse/outcomes.py does the work;
METRICS.md "Outcomes" defines them).

It needs only a connection to the working database, the run's settings, and the tables it
reads (outcomes.OUTCOME_READS) built before it. Like a SQL table's build, it is one
transaction with the marts' blocking checks: a failure, or a failing blocking check, keeps the
four marts' previous content and lets the run publish the rest (ingest.table_builds says why).
"""

import time

import dagster as dg

from assets.resources import WarehouseResource
from assets.warehouse.assets import check_spec, python_mart_specs, table_key
from assets.warehouse.checks import CHECKS, run_check
from assets.warehouse.outcomes import (
    OUTCOME_READS,
    OUTCOME_TABLES,
    build_outcome_marts,
    create_tables,
)
from assets.warehouse.table_builds import record_built_elsewhere, tables_not_current

OUTCOME_KEYS = [table_key(name) for name in OUTCOME_TABLES]
UPSTREAM = [table_key(name) for name in OUTCOME_READS]
OUTCOME_CHECKS = [check for check in CHECKS if check.table in OUTCOME_TABLES]


@dg.multi_asset(
    name="outcome_marts",
    specs=python_mart_specs(OUTCOME_KEYS, create_tables, UPSTREAM),
    check_specs=[check_spec(check) for check in OUTCOME_CHECKS],
)
def outcome_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings()
    kept = "the outcome marts kept their previous content"
    results: dict[str, tuple[int, str | None]] = {}
    started = time.perf_counter()
    with warehouse.connect() as con:
        stale = [t for t, _, _ in tables_not_current(con, OUTCOME_READS)]
        if stale:
            status = "upstream_failed"
            detail = f"{kept}: they read {', '.join(stale)}, which is not current in this run"
        else:
            con.execute("BEGIN TRANSACTION")
            try:
                marts = build_outcome_marts(con, settings)
                results = {check.name: run_check(con, check) for check in OUTCOME_CHECKS}
                failing = [
                    f"{c.name} ({results[c.name][0]} rows: {results[c.name][1]})"
                    for c in OUTCOME_CHECKS
                    if c.blocking and results[c.name][0]
                ]
                if failing:
                    con.execute("ROLLBACK")
                    status = "held_back"
                    detail = f"{kept}: blocking check {'; '.join(failing)} failed"
                else:
                    con.execute("COMMIT")
                    status, detail = "built", None
            except Exception as error:  # noqa: BLE001 - recorded, logged and reported
                con.execute("ROLLBACK")
                context.log.error(f"the outcome marts failed: {error!r}")
                status = "failed"
                detail = f"{kept}: their computation failed ({type(error).__name__})"
        seconds = time.perf_counter() - started
        record_built_elsewhere(
            con, list(OUTCOME_TABLES), status, settings, context.run.run_id, seconds, detail
        )
    if detail:
        context.log.error(detail)
    for key, name in zip(OUTCOME_KEYS, OUTCOME_TABLES, strict=True):
        metadata: dict = {"status": status, "as_of": settings.as_of.isoformat()}
        if status == "built":
            rows = marts.tables()[name].height
            metadata |= {"rows": rows, "dagster/row_count": rows}
        if detail:
            metadata["detail"] = detail
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    selected = context.selected_asset_check_keys
    for check in OUTCOME_CHECKS:
        key = table_key(check.table)
        if dg.AssetCheckKey(key, check.name) not in selected:
            continue
        # not run (the marts could not be computed): reported as not passed, as the SQL
        # tables' step does
        failures, sample = results.get(check.name, (None, None))
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=check.name,
            passed=failures == 0,
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "failing_rows": failures if failures is not None else -1,
                "sample": sample or "",
                "table_status": status,
            },
        )
