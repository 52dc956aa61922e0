"""Latency from a file landing to refreshed dashboards, under a real Dagster daemon.

Starts `dagster-daemon` on a temporary DAGSTER_HOME and data root holding the demo sample,
waits for the first refresh, then lands small meetings files one at a time and measures, for
each, the time until the dashboards show it, broken down into: sensor noticed the file and
queued a run, the queue launched it, the run process started, the run's own work (ingest,
core, marts, checks, publish, dashboards).

    .venv/bin/python benchmarks/latency.py [--profile demo] [--files 3]
"""

from __future__ import annotations

import argparse
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

from sample_data.generator import DEFAULT_END_DATE, generate  # noqa: E402

POLL_SECONDS = 0.2


def wait_until(condition, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.time()
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"no {what} after {timeout:.0f}s")


def meeting_file(n: int) -> str:
    event = {
        "event_id": f"latency-{n}",
        "meeting_id": f"latency-meeting-{n}",
        "match_id": "M000001",
        "event_type": "completed",
        "occurred_at": "2026-11-19T18:00:00Z",
        "scheduled_start": "2026-11-19T17:00:00Z",
        "duration_minutes": 30,
    }
    return json.dumps(event) + "\n"


def run_breakdown(home: Path, landed_at: float, shown_at: float) -> dict[str, float]:
    """Phases of the newest run, from its record in the Dagster instance."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        record = instance.get_run_records(limit=1)[0]
        created = record.create_timestamp.timestamp()
        start, end = record.start_time, record.end_time
        stats = instance.get_run_step_stats(record.dagster_run.run_id)
    steps = sum((s.end_time or 0) - (s.start_time or 0) for s in stats)
    return {
        "total": shown_at - landed_at,
        "sensor → run queued": created - landed_at,
        "queued → run started": start - created,
        "run: steps": steps,
        "run: dagster overhead": (end - start) - steps,
        "run end → seen": shown_at - end,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--files", type=int, default=3, help="files landed one after another")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="mentorpulse-latency-"))
    data, home = root / "data", root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    generate(data / "landing", profile=args.profile)
    env = {
        **os.environ,
        "MENTORPULSE_DATA_DIR": str(data),
        "MENTORPULSE_AS_OF": DEFAULT_END_DATE.isoformat(),
        "DAGSTER_HOME": str(home),
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
    try:
        print(f"First refresh of the {args.profile} sample ...", flush=True)
        wait_until(quality_page.exists, args.timeout * 3, "first dashboards")
        time.sleep(15)  # let runs queued by the other sensors finish
        rows = []
        for n in range(args.files):
            name = f"meetings_2026-11-20_latency{n}.jsonl"
            partial = data / "landing" / "meetings" / f".{name}.part"
            partial.write_text(meeting_file(n))
            landed_at = time.time()
            os.replace(partial, partial.with_name(name))
            shown_at = wait_until(
                lambda name=name: name in quality_page.read_text(), args.timeout, name
            )
            rows.append(run_breakdown(home, landed_at, shown_at))
            print(f"  file {n + 1}: {rows[-1]['total']:.1f} s", flush=True)
            time.sleep(6)  # past the sensors' interval, so each file is a run of its own
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)

    print(f"\nLanding → dashboards latency, {args.files} files, {args.profile} profile")
    print(f"{'phase':<26}{'median s':>10}{'max s':>10}")
    for phase in rows[0]:
        values = [row[phase] for row in rows]
        print(f"{phase:<26}{statistics.median(values):>10.1f}{max(values):>10.1f}")
    target = statistics.median(row["total"] for row in rows)
    print(f"\ntarget < 30 s: {'met' if target < 30 else 'NOT met'} (median {target:.1f} s)")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
