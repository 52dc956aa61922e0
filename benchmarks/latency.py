"""Latency from a file landing to refreshed dashboards, under a real Dagster daemon.

Starts `dagster-daemon` on a temporary DAGSTER_HOME and data root holding a generated profile
(or a reused landing: `--data-dir`, as benchmarks/benchmark.py does), waits for the first full
refresh and for the daemon to be idle, then lands small meetings files one at a time (written
under an in-flight name, then renamed) and measures, for each, the time until the
data-quality dashboard names it. Each is broken down, from the run's events in the Dagster
instance, into: the sensor noticed the file and queued a run; the queue took it; the run's
process started (interpreter, imports, definitions); the run's steps; Dagster between steps;
run end to seen.

    .venv/bin/python benchmarks/latency.py [--profile demo|small|medium|large] [--files 5]
        [--data-dir DIR] [--first-timeout 3600]

Target (issue 13): median landing -> dashboards <= 15 s at the large profile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmark import ADDED_MARKER, prepare_landing, remove_added  # noqa: E402

from sample_data.generator import PROFILES  # noqa: E402

POLL_SECONDS = 0.2
TARGET_SECONDS = 15.0


def wait_until(condition, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.time()
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"no {what} after {timeout:.0f}s")


def meeting_file(n: int, day: dt.date) -> str:
    event = {
        "event_id": f"latency-{n}",
        "meeting_id": f"latency-meeting-{n}",
        "match_id": "M000001",  # the first match of every profile
        "event_type": "completed",
        "occurred_at": f"{day}T18:00:00Z",
        "scheduled_start": f"{day}T17:00:00Z",
        "duration_minutes": 30,
    }
    return json.dumps(event) + "\n"


def idle(home: Path) -> bool:
    """No run waits or runs (the ones other sensors queued at the start included)."""
    import dagster as dg

    from pipelines.sensors import IN_PROGRESS, WAITING

    with dg.DagsterInstance.from_config(str(home)) as instance:
        busy = dg.RunsFilter(statuses=[*WAITING, *IN_PROGRESS])
        return not instance.get_run_records(filters=busy, limit=1)


def run_breakdown(home: Path, landed_at: float, shown_at: float) -> tuple[dict[str, float], str]:
    """Phases of the newest run, from its events in the Dagster instance, and its status."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        record = instance.get_run_records(limit=1)[0]
        run_id = record.dagster_run.run_id
        stats = instance.get_run_step_stats(run_id)
        events = {
            e.dagster_event.event_type: e.timestamp
            for e in instance.all_logs(
                run_id,
                of_type={dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING},
            )
        }
    queued = events.get(dg.DagsterEventType.RUN_ENQUEUED, record.create_timestamp.timestamp())
    launched = events.get(dg.DagsterEventType.RUN_STARTING, queued)  # the queue took it
    start, end = record.start_time, record.end_time
    steps = sum((s.end_time or 0) - (s.start_time or 0) for s in stats)
    phases = {
        "total": shown_at - landed_at,
        "landed → run queued (sensor)": queued - landed_at,
        "queued → launched (queue poll)": launched - queued,
        "launched → run started (process)": start - launched,
        "run: steps": steps,
        "run: Dagster between steps": (end - start) - steps,
        "run end → seen": shown_at - end,
    }
    return phases, record.dagster_run.status.value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", choices=list(PROFILES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files", type=int, default=5, help="files landed one after another")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="directory whose landing/ holds (or receives) the generated profile, reused "
        "across runs; the files this script lands there are removed afterwards",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed per file")
    parser.add_argument(
        "--first-timeout",
        type=float,
        default=3600,
        help="seconds allowed for the first full refresh (long at the large profile)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix=f"mentorpulse-latency-{args.profile}-"))
    data, home = root / "data", root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    shared = args.data_dir is not None
    landing_dir = (args.data_dir / "landing").resolve() if shared else data / "landing"
    landing = prepare_landing(landing_dir, args.profile, args.seed)
    if shared:
        data.mkdir()
        (data / "landing").symlink_to(landing_dir, target_is_directory=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MENTORPULSE_")},
        "MENTORPULSE_DATA_DIR": str(data),
        "MENTORPULSE_AS_OF": landing.end_date.isoformat(),
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        stdout=(root / "daemon.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    quality_page = data / "dashboards" / "data_quality.html"
    landed: list[str] = []
    rows, statuses = [], []
    try:
        print(
            f"First refresh of the {args.profile} landing ({landing.files} files) ...", flush=True
        )
        clock = time.monotonic()
        wait_until(quality_page.exists, args.first_timeout, "first dashboards")
        wait_until(lambda: idle(home), args.first_timeout, "idle daemon")  # other sensors' runs
        first = time.monotonic() - clock
        print(f"  dashboards and an idle daemon after {first:.0f} s", flush=True)
        day = landing.end_date - dt.timedelta(days=1)
        for n in range(args.files):
            name = f"meetings_{day}_latency{n}.jsonl"
            partial = landing_dir / "meetings" / f".{name}.part"
            partial.write_text(meeting_file(n, day))
            landed.append(f"meetings/{name}")
            if shared:  # removed again by remove_added, even after an interruption
                (landing_dir / ADDED_MARKER).write_text(json.dumps(landed))
            landed_at = time.time()
            os.replace(partial, partial.with_name(name))
            shown_at = wait_until(
                lambda name=name: name in quality_page.read_text(), args.timeout, name
            )
            wait_until(lambda: idle(home), args.timeout, "the run's end")
            phases, status = run_breakdown(home, landed_at, shown_at)
            rows.append(phases)
            statuses.append(status)
            print(f"  file {n + 1}: {rows[-1]['total']:.1f} s", flush=True)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
        if shared:
            remove_added(landing_dir)

    print(
        f"\nLanding → dashboards latency, {args.files} files, {args.profile} profile "
        f"({landing.files} landing files), real daemon, pipelines/dagster.yaml"
    )
    print(f"{'phase':<34}{'median s':>10}{'max s':>10}")
    for phase in rows[0]:
        values = [row[phase] for row in rows]
        print(f"{phase:<34}{statistics.median(values):>10.1f}{max(values):>10.1f}")
    failed = [status for status in statuses if status != "SUCCESS"]
    median = statistics.median(row["total"] for row in rows)
    print(f"first full refresh (until idle): {first:.0f} s; runs not successful: {len(failed)}")
    print(f"\n{'target':<50}{'figure':>8}{'target':>10}  verdict")
    verdict = "met" if median <= TARGET_SECONDS else "NOT MET"
    label = f"landing → dashboards, {args.profile} profile, median"
    print(f"{label:<50}{median:>7.1f}s{'<= 15 s':>10}  {verdict}")
    if args.keep:
        print(f"Kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
