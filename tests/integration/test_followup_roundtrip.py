"""A follow-up recorded from the served queue is ingested, shown and counted (issue 22).

On a copy of the demo run's data root: a manager signs in to the real `mentorpulse serve`,
records a follow-up for a quiet pair of their program from the form, the next
`mentorpulse run` ingests the file the server wrote like any landing file, the queue shows
who contacted the pair and when, marts.followup_outcomes counts the pair, and the note
reaches neither the published warehouse nor a public page.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from assets.settings import load_settings
from tests.integration.conftest import DemoRun, demo_env, run_cli
from tests.integration.test_serve_access import PASSWORD, Client, _csrf, _field, _free_port

PROGRAM = "Engineering Mentoring"
NOTE = "Spoke with Zuzana-Followup-Note: both travelling, meeting planned."


def test_a_followup_recorded_from_the_served_queue_is_ingested_shown_and_counted(
    demo_run: DemoRun, tmp_path: Path
):
    data_dir = tmp_path / "data"
    shutil.copytree(demo_run.settings.data_dir, data_dir, symlinks=True)
    env = demo_env(data_dir)
    settings = load_settings(env)
    as_of = settings.as_of
    contacted_on = as_of - dt.timedelta(days=40)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        # A pair quiet on the day of the contact: active then, no meeting in the 30 days up to it.
        match_id = con.execute(
            """SELECT match_id FROM marts.match_cadence
               WHERE program = ? AND is_active AND matched_on <= ?
                   AND coalesce(last_meeting_on, DATE '1900-01-01') <= ?
               ORDER BY match_id LIMIT 1""",
            [PROGRAM, contacted_on, contacted_on - dt.timedelta(days=31)],
        ).fetchone()[0]

    added = subprocess.run(
        [str(Path(sys.executable).with_name("mentorpulse")), "user", "add", "ana"]
        + ["--program", PROGRAM, "--password-stdin"],
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("mentorpulse")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ana = Client(port)
        for _ in range(300):
            try:
                ana.get("/")
                break
            except OSError:
                time.sleep(0.2)
        assert ana.login("ana") == 302
        status, _, page = ana.get(f"/followup/engineering-mentoring/{match_id}")
        assert status == 200
        form = {
            "csrf_token": _csrf(page),
            "once": _field(page, "once"),
            "contacted_on": contacted_on.isoformat(),
            "channel": "phone",
            "outcome": "meeting_planned",
            "note": NOTE,
        }
        assert ana.post(f"/followup/engineering-mentoring/{match_id}", form)[0] == 201

        completed = run_cli(env, "run")
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        assert "Files ingested in this run: 1 — records read 1, loaded 1" in completed.stdout

        status, _, queue_page = ana.get("/restricted/engineering-mentoring/at_risk.html")
        assert status == 200
        text = queue_page.decode()
        assert f"Contacted {contacted_on.isoformat()} by ana (phone, meeting planned)" in text
        assert "Zuzana-Followup-Note" in text  # the note, on the restricted page only
    finally:
        server.terminate()
        server.wait(timeout=10)

    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        row = con.execute(
            "SELECT contacted_pairs, comparison_pairs FROM marts.followup_outcomes "
            "WHERE program = ?",
            [PROGRAM],
        ).fetchone()
        assert row is not None and row[0] == 1 and row[1] > 0
        tables = {
            t
            for (t,) in con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            ).fetchall()
        }
        assert "core.followups" not in tables and "staging.followups" not in tables
    published = settings.published_path.read_bytes()
    assert b"Zuzana-Followup-Note" not in published
    for public in settings.dashboards_dir.glob("*.html"):
        assert "Zuzana-Followup-Note" not in public.read_text(), public
