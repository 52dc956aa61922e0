"""Fault drills, as an operator would meet them: a run killed with kill -9 in the middle of a
step, runs started together on a new Dagster home, a run waiting for another's lock.

Each drill drives the real `mentorpulse` command in its own process group with a real
DAGSTER_HOME, on a small file set (the contract's examples plus sixty one-record
meeting files, so ingest lasts long enough to be killed half-way).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import EXAMPLES, REPO

pytestmark = pytest.mark.e2e

MENTORPULSE = str(Path(sys.executable).with_name("mentorpulse"))
RUN_SECONDS = 240  # a run of this data takes well under a minute; more means it hung
EXTRA_MEETING_FILES = 60


def land_files(landing: Path) -> None:
    shutil.copytree(EXAMPLES, landing, dirs_exist_ok=True)
    meetings = landing / "meetings"
    for n in range(EXTRA_MEETING_FILES):
        record = {
            "event_id": f"drill-{n}",
            "meeting_id": f"m-drill-{n}",
            "match_id": "X1",
            "event_type": "completed",
            "occurred_at": f"2026-02-{1 + n % 28:02d}T18:00:00Z",
            "scheduled_start": f"2026-02-{1 + n % 28:02d}T17:00:00Z",
            "duration_minutes": 30,
        }
        (meetings / f"drill_2026-02-28_{n:04d}.jsonl").write_text(json.dumps(record) + "\n")


def environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORPULSE_")}
    return {
        **env,
        "MENTORPULSE_DATA_DIR": str(root / "data"),
        "MENTORPULSE_AS_OF": "2026-03-15",
        "MENTORPULSE_TIMEZONE": "Europe/Lisbon",
        "MENTORPULSE_PSEUDONYM_KEY": "drill-key",  # the same keys in every data root
        # Batches of five one-record files: ingest is many transactions, to be killed in one.
        "MENTORPULSE_INGEST_BATCH_RECORDS": "5",
        "DAGSTER_HOME": str(root / "dagster_home"),  # new: made by the first run
    }


def start_run(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [MENTORPULSE, "run"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )


def finish(process: subprocess.Popen, log: Path) -> str:
    try:
        process.wait(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(f"the run hung: {log.read_text()[-3000:]}") from None
    return log.read_text()


def run_to_end(env: dict[str, str], log: Path) -> str:
    process = start_run(env, log)
    output = finish(process, log)
    assert process.returncode == 0, output[-4000:]
    return output


def published(data: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse" / "mentoring.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def marts(data: Path) -> dict[str, list[tuple]]:
    names = published(data, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'")
    return {name: published(data, f"SELECT * FROM marts.{name} ORDER BY ALL") for (name,) in names}


def logged(text: str):
    return lambda root: text in (root / "killed.log").read_text()


def publishing(root: Path) -> bool:
    """The publish step has begun writing aside (a dot-file or folder under warehouse/)."""
    warehouse = root / "data" / "warehouse"
    return warehouse.exists() and any(p.name.startswith(".") for p in warehouse.iterdir())


def wait_until(moment, root: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + RUN_SECONDS
    while not moment(root):
        log = (root / "killed.log").read_text()
        assert process.poll() is None, f"the run ended before the moment to kill: {log[-3000:]}"
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data root of one uninterrupted run on the drill's files: what a crash must equal."""
    root = tmp_path_factory.mktemp("clean")
    land_files(root / "data" / "landing")
    run_to_end(environment(root), root / "clean.log")
    return root / "data"


@pytest.mark.parametrize(
    "moment",
    [
        # just after a batch's commit: the next batch's transaction is under way
        logged(f"[meetings 10/{EXTRA_MEETING_FILES + 1}]"),
        publishing,
    ],
    ids=["ingest", "publish"],
)
def test_a_run_killed_mid_step_never_blocks_the_next(tmp_path, clean_run, moment):
    land_files(tmp_path / "data" / "landing")
    env = environment(tmp_path)
    victim = start_run(env, tmp_path / "killed.log")
    wait_until(moment, tmp_path, victim)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)

    # The next run with the same DAGSTER_HOME cleans up after the dead one and completes.
    output = run_to_end(env, tmp_path / "rerun.log")
    assert f"its process (pid {victim.pid} on " in output and "is gone: marked failed" in output
    assert "Waiting for" not in output  # the dead run's lock went with its process
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        statuses = sorted(r.status.value for r in instance.get_runs())
    assert statuses == ["FAILURE", "SUCCESS"]

    assert marts(tmp_path / "data") == marts(clean_run)
    files = "SELECT status, count(*), sum(rows_loaded) FROM ingest.files GROUP BY 1 ORDER BY 1"
    assert published(tmp_path / "data", files) == published(clean_run, files)


def test_two_runs_started_together_on_a_new_home_both_end(tmp_path: Path):
    land_files(tmp_path / "data" / "landing")
    env = environment(tmp_path)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    runs = [start_run(env, log) for log in logs]
    outputs = [finish(run, log) for run, log in zip(runs, logs, strict=True)]

    assert [run.returncode for run in runs] == [0, 0], outputs
    assert not any("Traceback" in o or "already exists" in o for o in outputs)
    # One waited for the other, said so in one line, and each summary lists only its own files.
    waits = [line for o in outputs for line in o.splitlines() if line.startswith("Waiting for")]
    assert len(waits) == 1 and "holding" in waits[0] and "run.lock" in waits[0]
    ingested = [o for o in outputs if "Files ingested in this run" in o]
    assert len(ingested) == 1 and sum("No new files" in o for o in outputs) == 1


_HOLD = textwrap.dedent(
    """
    import time
    from assets.run_lock import run_lock
    from assets.settings import load_settings
    with run_lock(load_settings(), "drill-holder"):
        print("locked", flush=True)
        time.sleep(120)
    """
)


def test_a_run_that_cannot_get_the_lock_says_so_and_gives_up(tmp_path: Path):
    env = {**environment(tmp_path), "MENTORPULSE_LOCK_WAIT_SECONDS": "2"}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        completed = subprocess.run(
            [MENTORPULSE, "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert completed.returncode == 3
    lines = completed.stderr.strip().splitlines()
    assert lines[0].startswith(f"Waiting for run drill-holder / pid {holder.pid} on ")
    assert lines[-1].startswith("mentorpulse: Gave up after 2s waiting for run drill-holder")
    assert len(lines) == 2 and "Traceback" not in completed.stderr

    # As the message says: run again once that run has ended, and it goes through.
    shutil.copytree(EXAMPLES, tmp_path / "data" / "landing")
    run_to_end(env, tmp_path / "again.log")
