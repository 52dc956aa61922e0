"""The one job: the whole graph, for the parameters fixed in its run config (as-of date,
thresholds; see assets/resources.py) and the rest of the settings from the environment."""

import dagster as dg

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Ingest new files, rebuild core and marts for the as-of date, check, publish "
    "and rebuild the dashboards.",
)
