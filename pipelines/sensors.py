"""File sensors, one per landing source.

The cursor remembers each ready file's size and mtime. A tick that finds new or changed files
asks for one run of the whole graph (ingest of every source, then core, marts, checks,
publish, dashboards), keyed by those signatures so the same files never trigger twice.

Bursts coalesce: while a refresh run is still queued, the sensor asks for nothing more — that
run ingests everything in landing/ when it starts. So however many files land at once, at most
one run is in progress and one waits. In-flight names (.part, .tmp, dot-files) are not ready.

Each request fixes the run's parameters (as-of date, time zone, thresholds) in its run config
and tags, read when the tick asks for the run.

One more sensor finds runs whose process died (kill -9, power loss) while they were in
progress and marks them failed, so the daemon's queue of one run at a time moves on.
"""

import hashlib
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from assets.ingest.contract import LANDING_SOURCES, Source
from assets.ingest.files import discover
from assets.resources import parameter_tags, run_config_for
from assets.run_lock import HOST_TAG, PID_TAG
from assets.settings import load_settings
from pipelines.jobs import refresh_all

# The daemon evaluates sensors in a loop of at least 5 s (fixed in Dagster); an interval below
# it lets every loop evaluate the sensor. At 5 s, a tick that came a moment early was skipped
# and the sensor waited a second loop (10 s).
SENSOR_INTERVAL_SECONDS = 1
DEAD_RUN_INTERVAL_SECONDS = 30
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


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
        settings = load_settings()
        return dg.RunRequest(
            run_key=f"{source.name}:{run_key}",
            run_config=run_config_for(settings),
            tags={
                **parameter_tags(settings),
                "mentorpulse/source": source.name,
                "mentorpulse/new_files": str(len(fresh)),
            },
        )

    return landing_sensor


# One per landing source, tools' exports included (survey_exports_landing, calendar_landing).
LANDING_SENSORS = [build_landing_sensor(source) for source in LANDING_SOURCES.values()]


# --- runs whose process is gone -----------------------------------------------------------


def process_gone(tags: dict[str, str]) -> bool:
    """The run's process (its pid and host tags) no longer exists on this host.

    A run without those tags, or of another host, is not judged here.
    """
    pid, host = tags.get(PID_TAG), tags.get(HOST_TAG)
    if not pid or host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a killed process its parent has not reaped yet is a zombie: gone all the same
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def fail_dead_runs(instance: dg.DagsterInstance, log: Callable[[str], None]) -> list[str]:
    """Mark failed every in-progress run whose process is gone and free its concurrency slots;
    returns their run ids."""
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        if not process_gone(run.tags):
            continue
        current = instance.get_run_by_id(run.run_id)  # another process may have done it
        if current is None or current.status not in IN_PROGRESS:
            continue
        message = (
            f"Run {run.run_id} was {run.status.value} but its process (pid {run.tags[PID_TAG]} "
            f"on {run.tags[HOST_TAG]}) is gone: marked failed and its slots freed."
        )
        instance.report_run_failed(current, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log(message)
        failed.append(run.run_id)
    return failed


@dg.sensor(
    name="dead_runs",
    minimum_interval_seconds=DEAD_RUN_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs whose process died while they were in progress (their "
    "pid is gone), so the queue of one run at a time moves on.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext):
    failed = fail_dead_runs(context.instance, context.log.warning)
    return dg.SkipReason(f"{len(failed)} dead run(s) marked failed" if failed else "no dead runs")
