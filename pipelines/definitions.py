"""The one Definitions of the code location: assets, checks, jobs, sensors, schedule."""

import os
from zoneinfo import ZoneInfo

import dagster as dg

from assets.dashboards_asset import dashboards
from assets.ingest.assets import INGEST_ASSETS
from assets.publish import build_publish_asset
from assets.resources import WarehouseResource, parameter_tags
from assets.settings import ENV_PREFIX, load_settings
from assets.warehouse.assets import (
    CHECK_DEFINITIONS,
    participant_keys,
    table_key,
    warehouse_tables,
)
from assets.warehouse.dbt_project import models
from assets.warehouse.outcome_assets import OUTCOME_KEYS, outcome_marts
from assets.warehouse.risk_assets import RISK_KEYS, early_warning
from pipelines.jobs import refresh_all
from pipelines.sensors import LANDING_SENSORS, daemon_run_config, dead_runs_sensor

published_warehouse = build_publish_asset(
    [table_key(name) for name in models() if not name.startswith("restricted.")]
    + RISK_KEYS
    + OUTCOME_KEYS
)


@dg.schedule(
    name="nightly_refresh",
    job=refresh_all,
    cron_schedule="0 2 * * *",
    execution_timezone=load_settings().timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 in the program time zone: recompute for the new as-of date even when "
    "nothing landed (lapses and overdue goals move with the calendar).",
)
def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """The as-of date is the tick's own local date (unless MENTORPULSE_AS_OF pins one)."""
    settings = load_settings()
    tick = context.scheduled_execution_time
    if tick is not None and not os.environ.get(ENV_PREFIX + "AS_OF"):
        settings = settings.with_as_of(tick.astimezone(ZoneInfo(settings.timezone)).date())
    return dg.RunRequest(run_config=daemon_run_config(settings), tags=parameter_tags(settings))


defs = dg.Definitions(
    assets=[
        *INGEST_ASSETS,
        participant_keys,
        warehouse_tables,
        early_warning,
        outcome_marts,
        published_warehouse,
        dashboards,
    ],
    asset_checks=CHECK_DEFINITIONS,
    jobs=[refresh_all],
    schedules=[nightly_refresh],
    sensors=[*LANDING_SENSORS, dead_runs_sensor],
    resources={"warehouse": WarehouseResource()},
    executor=dg.in_process_executor,
)
