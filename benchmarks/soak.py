"""Soak: how the Dagster instance (DAGSTER_HOME) and the logs of `make dev` grow, idle and busy.

Starts `dagster dev` as `make dev` does (the project's dagster.yaml, the same flags) on a
throw-away data root holding the contract's examples, waits for the first refresh, then
measures an idle period and a busy one (a meeting file landed every --drop-every seconds),
and how long `dagster dev` takes to stop. Prints one JSON document; docs/operations.md has the
numbers and what they extrapolate to.

    .venv/bin/python benchmarks/soak.py --idle-minutes 10 --busy-minutes 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EXAMPLES = REPO / "tests" / "fixtures" / "landing"


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def idle(home: Path) -> bool:
    import dagster as dg

    from pipelines.sensors import IN_PROGRESS, WAITING

    with dg.DagsterInstance.from_config(str(home)) as instance:
        return not instance.get_run_records(
            filters=dg.RunsFilter(statuses=WAITING + IN_PROGRESS), limit=1
        )


def runs(home: Path) -> dict[str, int]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        found: dict[str, int] = {}
        for record in instance.get_run_records():
            status = record.dagster_run.status.value
            found[status] = found.get(status, 0) + 1
        return found


def landing_cursor_bytes(home: Path) -> int:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        for state in instance.all_instigator_state():
            if state.name == "landing_files" and state.instigator_data:
                return len(state.instigator_data.cursor or "")
    return -1


def measure(home: Path, log: Path, started: float) -> dict:
    parts = {
        p.relative_to(home).as_posix(): p.stat().st_size
        for p in home.rglob("*")
        if p.is_file() and p.stat().st_size > 100_000
    }
    return {
        "minute": round((time.monotonic() - started) / 60, 2),
        "home_bytes": size(home),
        "log_bytes": log.stat().st_size,
        "largest_files": parts,
        "runs": runs(home),
        "landing_cursor_bytes": landing_cursor_bytes(home),
    }


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(2)


def meeting(n: int) -> str:
    return json.dumps(
        {
            "event_id": f"soak-{n}",
            "meeting_id": f"m-soak-{n}",
            "match_id": "X1",
            "event_type": "completed",
            "occurred_at": f"2026-02-{1 + n % 28:02d}T18:00:00Z",
            "scheduled_start": f"2026-02-{1 + n % 28:02d}T17:00:00Z",
            "duration_minutes": 30,
        }
    )


def _default_signals() -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-minutes", type=float, default=10)
    parser.add_argument("--busy-minutes", type=float, default=10)
    parser.add_argument("--drop-every", type=float, default=15, help="seconds between files")
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args()

    root = args.root or Path(tempfile.mkdtemp(prefix="soak-"))
    data, home, log = root / "data", root / "dagster_home", root / "dev.log"
    shutil.copytree(EXAMPLES, data / "landing")
    home.mkdir(parents=True)
    shutil.copy(REPO / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MENTORPULSE_")},
        "MENTORPULSE_DATA_DIR": str(data),
        "MENTORPULSE_AS_OF": "2026-03-15",
        "DAGSTER_HOME": str(home),
    }
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        *("-w", "workspace.yaml", "-p", str(free_port())),
        *("--log-level", "warning"),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,  # as from a terminal, even when started in background
        )
    report: dict = {"root": str(root), "command": " ".join(command[1:])}
    try:
        started = time.monotonic()
        published = data / "warehouse" / "mentoring.duckdb"
        wait(lambda: published.exists() and idle(home), 600, "the first refresh")
        time.sleep(30)  # the sensors' first ticks after it
        report["after_first_refresh"] = measure(home, log, started)
        time.sleep(args.idle_minutes * 60)
        report["after_idle"] = measure(home, log, started)
        busy_start = time.monotonic()
        n = 0
        while time.monotonic() - busy_start < args.busy_minutes * 60:
            final = data / "landing" / "meetings" / f"soak_2026-02-28_{n:05d}.jsonl"
            partial = final.with_name(final.name + ".part")
            partial.write_text(meeting(n) + "\n")
            os.replace(partial, final)
            n += 1
            time.sleep(args.drop_every)
        wait(lambda: idle(home), 600, "the last refresh")
        report["files_dropped"] = n
        report["after_busy"] = measure(home, log, started)
    finally:
        stop_started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        report["stop_seconds"] = round(time.monotonic() - stop_started, 1)
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
