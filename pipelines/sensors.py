"""File sensors, one per landing source.

The cursor remembers each ready file's size and mtime. A tick that finds new or changed files
asks for one run of the whole graph (ingest of every source, then core, marts, checks,
publish, dashboards), keyed by those signatures so the same files never trigger twice.

Bursts coalesce: while a refresh run is still queued, the sensor asks for nothing more — that
run ingests everything in landing/ when it starts. So however many files land at once, at most
one run is in progress and one waits. In-flight names (.part, .tmp, dot-files) are not ready.
"""

import hashlib
import json

import dagster as dg

from assets.ingest.contract import LANDING_SOURCES, Source
from assets.ingest.files import discover
from assets.settings import load_settings
from pipelines.jobs import refresh_all

SENSOR_INTERVAL_SECONDS = 5
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]


def new_files(source: Source, cursor: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(signatures of every ready file, those that are new or changed since the cursor)."""
    landing_dir = load_settings().landing_dir
    signatures = {
        f.relative_path: "{}:{}".format(*f.stat_signature()) for f in discover(landing_dir, source)
    }
    seen = json.loads(cursor) if cursor else {}
    return signatures, {p: s for p, s in signatures.items() if seen.get(p) != s}


def refresh_waiting(instance: dg.DagsterInstance) -> bool:
    """A refresh run is queued and has not started: it will see every file now in landing/."""
    waiting = instance.get_run_records(
        filters=dg.RunsFilter(job_name=refresh_all.name, statuses=WAITING), limit=1
    )
    return bool(waiting)


def build_landing_sensor(source: Source) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{source.name}_landing",
        job=refresh_all,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Watches landing/{source.folder}/ ({', '.join(source.patterns)}) and "
        "refreshes everything when new files are ready.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext):
        signatures, fresh = new_files(source, context.cursor)
        if not fresh:
            return dg.SkipReason(f"no new {source.name} files")
        context.update_cursor(json.dumps(signatures))
        if refresh_waiting(context.instance):
            return dg.SkipReason(
                f"{len(fresh)} new {source.name} file(s) left to the refresh run already queued"
            )
        run_key = hashlib.sha256(json.dumps(sorted(fresh.items())).encode()).hexdigest()
        return dg.RunRequest(
            run_key=f"{source.name}:{run_key}",
            tags={"mentorpulse/source": source.name, "mentorpulse/new_files": str(len(fresh))},
        )

    return landing_sensor


# One per landing source, tools' exports included (survey_exports_landing, calendar_landing).
LANDING_SENSORS = [build_landing_sensor(source) for source in LANDING_SOURCES.values()]
