"""End to end under a real Dagster daemon: files land, the published warehouse and the
dashboards follow by themselves (sensors + declarative automation)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import EXAMPLES, REPO

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 240


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (duckdb.Error, OSError):
            value = None  # the published file is being swapped or not there yet
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def land(landing: Path, relative: str, text: str) -> None:
    """Write under an in-flight name, then rename: as writers are told to."""
    final = landing / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".part")
    partial.write_text(text)
    os.replace(partial, final)


class Deployment:
    def __init__(self, root: Path):
        self.data = root / "data"
        self.home = root / "dagster_home"
        self.home.mkdir(parents=True)
        shutil.copy(REPO / "pipelines" / "dagster.yaml", self.home / "dagster.yaml")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MENTORPULSE_")},
            "MENTORPULSE_DATA_DIR": str(self.data),
            "MENTORPULSE_AS_OF": "2026-03-15",
            "MENTORPULSE_MIN_GROUP_SIZE": "1",
            "DAGSTER_HOME": str(self.home),
        }
        self.log = (root / "daemon.log").open("w")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(Path(os.sys.executable).with_name("dagster-daemon")),
                "run",
                "-w",
                "workspace.yaml",
            ],
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()

    def published(self, sql: str, params=None) -> list[tuple]:
        path = self.data / "warehouse" / "mentoring.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def held(self, match_id: str) -> int | None:
        rows = self.published(
            "SELECT meetings_held FROM marts.match_cadence WHERE match_id = ?", [match_id]
        )
        return rows[0][0] if rows else None

    def dashboard_text(self, page: str) -> str:
        return (self.data / "dashboards" / page).read_text()

    def materializations(self, *key: str) -> int:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return len(
                instance.fetch_materializations(dg.AssetKey(list(key)), limit=10_000).records
            )


@pytest.fixture
def deployment(tmp_path: Path):
    deployment = Deployment(tmp_path)
    shutil.copytree(EXAMPLES, deployment.data / "landing")
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop()
        log = (tmp_path / "daemon.log").read_text()
        print(log[-5000:])


def meeting_line(event_id: str, day: int, **extra) -> str:
    record = {
        "event_id": event_id,
        "meeting_id": f"m-{event_id}",
        "match_id": "X1",
        "event_type": "completed",
        "occurred_at": f"2026-02-{day:02d}T18:00:00Z",
        "scheduled_start": f"2026-02-{day:02d}T17:00:00Z",
        "duration_minutes": 45,
        **extra,
    }
    return json.dumps(record)


def test_files_land_and_everything_follows(deployment: Deployment):
    landing = deployment.data / "landing"

    # The examples already in landing/ are picked up by the sensors on their own.
    held_before = wait_for(lambda: deployment.held("X1"), "the first publish of match X1")
    wait_for(lambda: (deployment.data / "dashboards" / "index.html").exists(), "dashboards")
    assert held_before == 1

    # A new meetings file: two more held meetings reach the warehouse and the dashboards.
    land(
        landing,
        "meetings/meetings_2026-02-20.jsonl",
        meeting_line("n1", 3) + "\n" + meeting_line("n2", 17) + "\n",
    )
    wait_for(lambda: deployment.held("X1") == 3, "the new meetings in marts.match_cadence")
    wait_for(
        lambda: "meetings_2026-02-20.jsonl" in deployment.dashboard_text("data_quality.html"),
        "the new file on the data-quality dashboard",
    )

    # An identical copy under another name changes nothing.
    land(
        landing,
        "meetings/meetings_2026-02-21_resend.jsonl",
        (landing / "meetings/meetings_2026-02-20.jsonl").read_text(),
    )
    wait_for(
        lambda: (
            deployment.published(
                "SELECT status FROM ingest.files WHERE path = 'meetings/meetings_2026-02-21_resend.jsonl'"
            )
            == [("duplicate_file",)]
        ),
        "the copy recorded as a duplicate file",
    )
    assert deployment.held("X1") == 3

    # Bad records are quarantined while the good ones still flow.
    land(
        landing,
        "meetings/meetings_2026-02-22.jsonl",
        "\n".join(
            [
                meeting_line("g1", 24),
                '{"event_id": "b1", "broken',
                meeting_line("b2", 25, channel="zoom"),
            ]
        ),
    )
    wait_for(lambda: deployment.held("X1") == 4, "the good record of a file with bad ones")
    reasons = deployment.published(
        "SELECT line, reason FROM ingest.quarantine WHERE path = 'meetings/meetings_2026-02-22.jsonl' ORDER BY line"
    )
    assert reasons == [(2, "malformed"), (3, "bad_value:channel")]

    # A burst of small files: all ingested, the marts rebuilt far fewer times than files.
    rebuilds_before = deployment.materializations("marts", "match_cadence")
    burst = 40
    for n in range(burst):
        land(
            landing,
            f"meetings/burst_2026-02-26_{n:03d}.jsonl",
            meeting_line(f"burst{n}", 26) + "\n",
        )
    wait_for(lambda: deployment.held("X1") == 4 + burst, "every file of the burst", timeout=400)
    rebuilds = deployment.materializations("marts", "match_cadence") - rebuilds_before
    assert 1 <= rebuilds <= 6, f"the burst of {burst} files rebuilt the marts {rebuilds} times"


def test_a_killed_runs_files_are_published_by_the_next_tick_and_alerted(tmp_path: Path):
    """kill -9 of the daemon's run in the middle of ingest: the dead run is failed, the landing
    sensor asks for its files again without any new file landing, they are published, and the
    failure reaches the webhook once."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from assets.run_lock import PID_TAG
    from tests.e2e.test_fault_drills import EXTRA_MEETING_FILES, land_files

    posts: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - stdlib signature
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    deployment = Deployment(tmp_path)
    deployment.env.update(
        {
            "MENTORPULSE_INGEST_BATCH_RECORDS": "5",  # many transactions, to be killed in one
            "MENTORPULSE_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_address[1]}/",
        }
    )
    land_files(deployment.data / "landing")
    deployment.start()
    try:
        with dg.DagsterInstance.from_config(str(deployment.home)) as instance:

            def ingesting():
                for record in instance.get_run_records(
                    filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1
                ):
                    run = record.dagster_run
                    logs = instance.all_logs(run.run_id)
                    if PID_TAG in run.tags and any(
                        f"[meetings 10/{EXTRA_MEETING_FILES + 1}]" in (e.user_message or "")
                        for e in logs
                    ):
                        return run
                return None

            victim = wait_for(ingesting, "a run in the middle of ingesting meetings")
            os.kill(int(victim.tags[PID_TAG]), signal.SIGKILL)
            wait_for(
                lambda: instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.FAILURE,
                "the killed run marked failed",
            )
        drill_files = "SELECT count(*) FROM ingest.files WHERE path LIKE 'meetings/drill_%'"
        wait_for(
            lambda: deployment.published(drill_files) == [(EXTRA_MEETING_FILES,)],
            "the killed run's files published with no new file landed",
        )
        with dg.DagsterInstance.from_config(str(deployment.home)) as instance:
            triggers = [
                r.dagster_run.tags.get("mentorpulse/trigger", "")
                for r in instance.get_run_records()
            ]
        assert any(t.startswith("retry 1 of") for t in triggers), triggers
        wait_for(lambda: posts, "the failure alert on the webhook", timeout=120)
        assert victim.run_id in posts[0]["text"] and "failed" in posts[0]["subject"]
        assert len([p for p in posts if p["cause"].startswith("run_failure")]) == 1
    finally:
        deployment.stop()
        server.shutdown()
        print((tmp_path / "daemon.log").read_text()[-5000:])
