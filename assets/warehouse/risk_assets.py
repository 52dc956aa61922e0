"""The early-warning asset: one step builds marts.match_risk and marts.risk_backtest
(assets/warehouse/early_warning.py does the work; docs/model_card.md explains it)."""

import time

import dagster as dg

from assets.resources import WarehouseResource
from assets.warehouse.assets import python_mart_specs, table_key
from assets.warehouse.early_warning import build_risk_marts, create_tables
from assets.warehouse.table_builds import record_built_elsewhere, tables_not_current

RISK_KEYS = [table_key("marts.match_risk"), table_key("marts.risk_backtest")]
# The snapshots (a dbt model over the day-by-day folds); marts.match_cadence keeps the rule's status of
# the same run beside the forecast.
UPSTREAM = [table_key("core.risk_snapshots"), table_key("marts.match_cadence")]


@dg.multi_asset(
    name="early_warning",
    specs=python_mart_specs(RISK_KEYS, create_tables, UPSTREAM),
)
def early_warning(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """A failure here keeps the two marts' previous content and lets the run publish the rest
    (as a failing dbt model does; assets/warehouse/table_builds.py)."""
    settings = warehouse.settings()
    names = [".".join(key.path) for key in RISK_KEYS]
    started = time.perf_counter()
    with warehouse.connect() as con:
        stale = [t for t, _, _ in tables_not_current(con, [".".join(k.path) for k in UPSTREAM])]
        kept = f"{' and '.join(names)} kept their previous content"
        if stale:
            detail = f"{kept}: they read {', '.join(stale)}, which is not current in this run"
            status = "upstream_failed"
        else:
            try:
                result = build_risk_marts(con, settings.as_of)
                status = "built"
                detail = None
            except Exception as error:  # noqa: BLE001 - recorded, logged and reported
                context.log.error(f"the early warning failed: {error!r}")
                status = "failed"
                detail = f"{kept}: the early warning failed ({type(error).__name__})"
        seconds = time.perf_counter() - started
        record_built_elsewhere(con, names, status, settings, context.run.run_id, seconds, detail)
    if status != "built":
        for key in RISK_KEYS:  # the content is the previous one (ingest.table_builds says so)
            yield dg.MaterializeResult(asset_key=key, metadata={"status": status, "detail": detail})
        return
    fitted = result.backtest.filter(result.backtest["auc"].is_not_null())
    yield dg.MaterializeResult(
        asset_key=RISK_KEYS[0],
        metadata={
            "dagster/row_count": result.match_risk.height,
            "as_of": settings.as_of.isoformat(),
            "model": result.match_risk["model_note"][0] if result.match_risk.height else "",
            # reused: the labelled snapshots are unchanged since the last run (early_warning.py)
            "model_reused": result.model_reused,
        },
    )
    yield dg.MaterializeResult(
        asset_key=RISK_KEYS[1],
        metadata={
            "dagster/row_count": result.backtest.height,
            "mean_auc": float(fitted["auc"].mean()) if fitted.height else None,
            "months_refitted": result.backtest_refitted,  # the others were reused
        },
    )
