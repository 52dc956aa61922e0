"""The landing sensor, and the sweep of runs whose process died.

One sensor watches every landing source. A tick that finds files that are new or changed
asks for one run of the whole graph (ingest of every source, then core, marts, checks,
publish, dashboards). In-flight names (.part, .tmp, dot-files) are not ready.

What the cursor keeps is bounded, whatever the number of files ever landed: a high-water mark
of the files' ctime (set by the kernel when a file is written or renamed in, so a copy that
keeps an old mtime is still new), the few files within EDGE_SECONDS of that mark (timestamps
are coarse: files renamed in the same instant share one), and the run it is waiting for.

No file is left behind: the files stay pending until a refresh that started after they were
seen has succeeded. When the run asked for them ends failed or killed (the dead_runs sensor
fails a run whose process is gone), the next tick asks again, MAX_RETRIES times at most; so a
killed run's files are published without another file having to land.

Bursts coalesce: while a refresh run is still queued, the sensor asks for nothing more — that
run ingests everything in landing/ when it starts. So however many files land at once, at most
one run is in progress and one waits.

Each request fixes the run's parameters (as-of date, time zone, thresholds) in its run config
and tags, read when the tick asks for the run.

One more sensor finds runs whose process died (kill -9, power loss) while they were in
progress and marks them failed, so the daemon's queue of one run at a time moves on.
"""

import datetime as dt
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.ingest.contract import LANDING_SOURCES
from assets.ingest.files import discover
from assets.resources import parameter_tags, run_config_for
from assets.run_lock import HOST_TAG, PID_TAG
from assets.settings import load_settings
from pipelines.jobs import refresh_all

# Every tick is a row of about 1.4 KB in the instance (with its indexes), kept a day
# (dagster.yaml): at one tick every 20 s the landing sensor writes 6 MB a day, where one every
# daemon loop (~5 s) wrote 24 MB. A file waits up to ~25 s for the tick that sees it
# (docs/operations.md has the soak).
SENSOR_INTERVAL_SECONDS = 20
# Run monitoring (dagster.yaml) fails a dead run of the daemon's within 30 s; this sweep also
# finds dead CLI runs.
DEAD_RUN_INTERVAL_SECONDS = 120
LANDING_SENSOR_NAME = "landing_files"
# Files whose ctime is within this of the high-water mark are remembered one by one: a file
# renamed in at the same (coarse) instant as one already seen is still told apart.
EDGE_SECONDS = 2
# A refresh asked for and ended failed (or killed) is asked for again this many times.
MAX_RETRIES = 2
CURSOR_VERSION = 2
WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass
class LandingCursor:
    """What the landing sensor keeps between ticks (bounded: see the module's docstring)."""

    high_water_ns: int | None = None  # newest ctime of a ready file seen
    # near the mark: path -> signature as scanned, a digest of them as stored (or, from an
    # earlier version's cursor, every file's "size:mtime")
    edge: dict[str, str] | str | None = field(default_factory=dict)
    pending_since: float | None = None  # files seen then wait for a refresh started after
    retries: int = 0

    @classmethod
    def parse(cls, raw: str | None) -> "LandingCursor":
        data = json.loads(raw) if raw else None
        if data is None:
            return cls()
        if data.get("v") != CURSOR_VERSION:
            # An earlier version's cursor (every file's "size:mtime"): what it lists is not new.
            return cls(high_water_ns=0, edge={p: s for p, s in data.items() if isinstance(s, str)})
        return cls(data.get("hw"), data.get("edge"), data.get("pending"), data.get("retries", 0))

    def dump(self) -> str:
        return json.dumps(
            {
                "v": CURSOR_VERSION,
                "hw": self.high_water_ns,
                "edge": edge_digest(self.edge),
                "pending": self.pending_since,
                "retries": self.retries,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def edge_digest(edge: dict[str, str] | str | None) -> str | None:
    """The files near the mark as 16 hex digits: what a tick must tell is only whether they
    changed."""
    if not isinstance(edge, dict):
        return edge
    if not edge:
        return None
    return hashlib.sha256(json.dumps(sorted(edge.items())).encode()).hexdigest()[:16]


def _ready_files(landing_dir: Path) -> dict[str, tuple[int, str]]:
    """Every ready file of every source: path -> (ctime ns, signature)."""
    found = {}
    for source in LANDING_SOURCES.values():
        for landed in discover(landing_dir, source):
            try:
                stat = landed.path.lstat()
            except FileNotFoundError:
                continue
            found[landed.relative_path] = (
                stat.st_ctime_ns,
                f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}",
            )
    return found


def scan(landing_dir: Path, cursor: LandingCursor) -> tuple[LandingCursor, list[str]]:
    """(the cursor after this scan, the ready files new or changed since the cursor)."""
    files = _ready_files(landing_dir)
    mark = cursor.high_water_ns
    if mark == 0 and isinstance(cursor.edge, dict):  # an earlier version's: "size:mtime"
        fresh = [p for p, (_, sig) in files.items() if not sig.startswith(f"{cursor.edge.get(p)}:")]
    else:
        near = None if mark is None else mark - EDGE_SECONDS * 10**9
        edge_now = {
            p: sig for p, (ctime, sig) in files.items() if near is not None and ctime > near
        }
        changed_near = edge_digest(edge_now) != edge_digest(cursor.edge)
        fresh = [
            path
            for path, (ctime, _) in files.items()
            if mark is None or ctime > mark or (changed_near and path in edge_now)
        ]
    high_water = max([ctime for ctime, _ in files.values()] + [mark or 0])
    edge = {
        path: sig
        for path, (ctime, sig) in files.items()
        if ctime > high_water - EDGE_SECONDS * 10**9
    }
    after = LandingCursor(high_water, edge, cursor.pending_since, cursor.retries)
    return after, sorted(fresh)


def _refresh_runs(instance: dg.DagsterInstance, statuses, limit: int = 1):
    return instance.get_run_records(
        filters=dg.RunsFilter(job_name=refresh_all.name, statuses=statuses), limit=limit
    )


def refresh_waiting(instance: dg.DagsterInstance) -> bool:
    """A refresh run is queued and has not started: it will see every file now in landing/."""
    return bool(_refresh_runs(instance, WAITING))


def _refresh_active(instance: dg.DagsterInstance) -> bool:
    return bool(_refresh_runs(instance, WAITING + IN_PROGRESS))


def _succeeded_since(instance: dg.DagsterInstance, since: float) -> bool:
    """A refresh that started at or after `since` has succeeded: it ingested what was there."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=refresh_all.name,
            statuses=[dg.DagsterRunStatus.SUCCESS],
            updated_after=dt.datetime.fromtimestamp(since, dt.UTC),
        ),
        limit=20,
    )
    return any((r.start_time or 0) >= since for r in records)


def _failed_since(instance: dg.DagsterInstance, since: float) -> bool:
    """A refresh ended failed or canceled (killed runs are failed) since `since`."""
    return bool(
        instance.get_run_records(
            filters=dg.RunsFilter(
                job_name=refresh_all.name,
                statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
                updated_after=dt.datetime.fromtimestamp(since, dt.UTC),
            ),
            limit=1,
        )
    )


def daemon_run_config(settings) -> dict:
    """The run config of a run the daemon launches: the run's parameters, and its console log
    (the output of `make dev`) at WARNING: every event is still in the run's page in the UI."""
    return {
        **run_config_for(settings),
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


def _request(settings, run_key: str, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=run_key,
        run_config=daemon_run_config(settings),
        tags={**parameter_tags(settings), "mentorpulse/trigger": trigger},
    )


def evaluate_landing(
    instance: dg.DagsterInstance, raw_cursor: str | None, now: float | None = None
) -> tuple[dg.RunRequest | dg.SkipReason, str]:
    """One tick of the landing sensor: (its request or skip reason, its new cursor)."""
    now = time.time() if now is None else now
    settings = load_settings()
    cursor, fresh = scan(settings.landing_dir, LandingCursor.parse(raw_cursor))
    if fresh:
        if cursor.pending_since is None:
            cursor.pending_since, cursor.retries = now, 0
        if refresh_waiting(instance):
            return dg.SkipReason(
                f"{len(fresh)} new file(s) left to the refresh run already queued"
            ), cursor.dump()
        digest = hashlib.sha256("\n".join(fresh).encode()).hexdigest()[:16]
        names = ", ".join(fresh[:3]) + (f" and {len(fresh) - 3} more" if len(fresh) > 3 else "")
        return _request(
            settings, f"files:{cursor.high_water_ns}:{digest}", f"{len(fresh)} new: {names}"
        ), cursor.dump()
    if cursor.pending_since is None:
        return dg.SkipReason("no new files"), cursor.dump()
    if _succeeded_since(instance, cursor.pending_since):
        cursor.pending_since, cursor.retries = None, 0
        return dg.SkipReason("no new files; the last ones are published"), cursor.dump()
    if _refresh_active(instance):
        return dg.SkipReason("no new files; waiting for the refresh under way"), cursor.dump()
    if not _failed_since(instance, cursor.pending_since):
        return dg.SkipReason("no new files; waiting for the refresh asked for"), cursor.dump()
    if cursor.retries >= MAX_RETRIES:
        given_up = cursor.pending_since
        cursor.pending_since, cursor.retries = None, 0
        return dg.SkipReason(
            f"the refresh for files seen at {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(given_up))} "
            f"UTC failed {MAX_RETRIES + 1} times: not asked again until a file lands (see the "
            "failed runs)"
        ), cursor.dump()
    cursor.retries += 1
    return _request(
        settings,
        f"retry:{cursor.pending_since}:{cursor.retries}",
        f"retry {cursor.retries} of {MAX_RETRIES}: the refresh for these files did not succeed",
    ), cursor.dump()


@dg.sensor(
    name=LANDING_SENSOR_NAME,
    job=refresh_all,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches every folder of landing/ and refreshes everything when new files are "
    "ready; asks again when the run for them failed or was killed.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    result, cursor = evaluate_landing(context.instance, context.cursor)
    context.update_cursor(cursor)
    return result


LANDING_SENSORS = [landing_sensor]


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


FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
PURGE_BATCH = 50  # runs deleted per sweep at most: a first sweep over a long history stays short


def delete_old_runs(
    instance: dg.DagsterInstance, retention_days: int, now: float | None = None
) -> list[str]:
    """Delete finished runs (and their event logs) created more than `retention_days` ago;
    0 keeps every run. Dagster OSS has no retention setting for runs: each refresh adds about
    1.5 MB to the instance (docs/operations.md)."""
    if retention_days <= 0:
        return []
    now = time.time() if now is None else now
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=FINISHED,
            created_before=dt.datetime.fromtimestamp(now - retention_days * 86400, dt.UTC),
        ),
        limit=PURGE_BATCH,
        ascending=True,
    )
    for record in records:
        instance.delete_run(record.dagster_run.run_id)
    return [r.dagster_run.run_id for r in records]


@dg.sensor(
    name="dead_runs",
    minimum_interval_seconds=DEAD_RUN_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs whose process died while they were in progress (their "
    "pid is gone), so the queue of one run at a time moves on; deletes runs older than "
    "MENTORPULSE_RUN_RETENTION_DAYS.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext):
    # context.log only when there is something to say: each tick that touches it leaves a
    # log file under $DAGSTER_HOME/storage that tick retention does not remove.
    failed = fail_dead_runs(context.instance, lambda message: context.log.warning(message))
    deleted = delete_old_runs(context.instance, load_settings().run_retention_days)
    return dg.SkipReason(
        (f"{len(failed)} dead run(s) marked failed" if failed else "no dead runs")
        + (
            f"; {len(deleted)} run(s) past MENTORPULSE_RUN_RETENTION_DAYS deleted"
            if deleted
            else ""
        )
    )
