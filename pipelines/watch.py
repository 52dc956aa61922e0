"""The watcher's code location: the alert sensors (pipelines/alerts.py), apart from the pipeline.

It imports no asset, SQL or model of the pipeline, so it loads when the pipeline's code location
does not, and can say that the pipeline's sensors and schedule stopped."""

import dagster as dg

from pipelines.alerts import ALERT_SENSORS

defs = dg.Definitions(sensors=ALERT_SENSORS)
