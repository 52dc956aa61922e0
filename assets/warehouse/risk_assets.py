"""The early-warning asset: one step builds marts.match_risk and marts.risk_backtest
(assets/warehouse/early_warning.py does the work; docs/model_card.md explains it)."""

import dagster as dg

from assets.resources import WarehouseResource
from assets.warehouse.assets import _warehouse_schema, table_key
from assets.warehouse.early_warning import SNAPSHOT_SQL, build_risk_marts
from assets.warehouse.sql_runner import tables_referenced

RISK_KEYS = [table_key("marts.match_risk"), table_key("marts.risk_backtest")]
# The snapshots read staging events and core; marts.match_cadence keeps the rule's status of
# the same run beside the forecast.
UPSTREAM = [table_key(name) for name in tables_referenced(SNAPSHOT_SQL.read_text())] + [
    table_key("marts.match_cadence")
]


def _spec(key: dg.AssetKey) -> dg.AssetSpec:
    comment, columns = _warehouse_schema()[".".join(key.path)]
    return dg.AssetSpec(
        key=key,
        group_name="marts",
        description=comment,
        metadata={"dagster/column_schema": dg.TableSchema(columns=columns)},
        kinds={"duckdb", "python"},
        deps=UPSTREAM,
    )


@dg.multi_asset(
    name="early_warning",
    specs=[_spec(key) for key in RISK_KEYS],
)
def early_warning(warehouse: WarehouseResource):
    settings = warehouse.settings()
    with warehouse.connect() as con:
        result = build_risk_marts(con, settings.as_of)
    fitted = result.backtest.filter(result.backtest["auc"].is_not_null())
    yield dg.MaterializeResult(
        asset_key=RISK_KEYS[0],
        metadata={
            "dagster/row_count": result.match_risk.height,
            "as_of": settings.as_of.isoformat(),
            "model": result.match_risk["model_note"][0] if result.match_risk.height else "",
        },
    )
    yield dg.MaterializeResult(
        asset_key=RISK_KEYS[1],
        metadata={
            "dagster/row_count": result.backtest.height,
            "mean_auc": float(fitted["auc"].mean()) if fitted.height else None,
        },
    )
