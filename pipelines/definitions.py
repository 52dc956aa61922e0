"""The one Definitions of the code location: assets, checks, jobs, sensors, schedule."""

import dagster as dg

from assets.dashboards_asset import dashboards
from assets.ingest.assets import INGEST_ASSETS
from assets.publish import build_publish_asset
from assets.resources import WarehouseResource
from assets.settings import load_settings
from assets.warehouse.assets import (
    CHECK_DEFINITIONS,
    TABLE_ASSETS,
    participant_keys,
    table_key,
)
from assets.warehouse.sql_runner import all_sql_tables
from pipelines.jobs import refresh_all
from pipelines.sensors import LANDING_SENSORS

published_warehouse = build_publish_asset(
    [table_key(t.qualified_name) for t in all_sql_tables() if t.layer != "restricted"]
)

nightly_refresh = dg.ScheduleDefinition(
    name="nightly_refresh",
    job=refresh_all,
    cron_schedule="0 2 * * *",
    execution_timezone=load_settings().timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 in the program time zone: recompute for the new as-of date even when "
    "nothing landed (lapses and overdue goals move with the calendar).",
)

defs = dg.Definitions(
    assets=[*INGEST_ASSETS, participant_keys, *TABLE_ASSETS, published_warehouse, dashboards],
    asset_checks=CHECK_DEFINITIONS,
    jobs=[refresh_all],
    schedules=[nightly_refresh],
    sensors=LANDING_SENSORS,
    resources={"warehouse": WarehouseResource()},
    executor=dg.in_process_executor,
)
