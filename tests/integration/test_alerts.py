"""Alerts (pipelines/alerts.py) sent to a real SMTP server (aiosmtpd) and a real HTTP receiver,
both on 127.0.0.1: a failed run, automation that stopped, a stale source; each cause once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from assets.settings import load_settings
from pipelines import alerts
from pipelines.alerts import (
    STARTUP_GRACE_SECONDS,
    alert_automation,
    alert_run_failure,
    alert_stale_source,
    automation_alerts,
)
from tests.integration.test_digest_smtp import Inbox, _free_port


class Receiver:
    def __init__(self) -> None:
        self.posts: list[dict] = []


@pytest.fixture
def webhook() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - stdlib signature
            length = int(self.headers["Content-Length"])
            receiver.posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def inbox(settings, monkeypatch) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("MENTORPULSE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MENTORPULSE_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("MENTORPULSE_SMTP_FROM", "pulse@example.org")
    monkeypatch.setenv("MENTORPULSE_ALERT_RECIPIENTS", "ops@example.org,oncall@example.org")
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def both(inbox, webhook, monkeypatch):
    receiver, url = webhook
    monkeypatch.setenv("MENTORPULSE_ALERT_WEBHOOK_URL", url)
    return inbox, receiver


def _failed_run(instance, message: str) -> dg.DagsterRun:
    job = dg.Definitions(
        assets=[dg.AssetSpec("x")], jobs=[dg.define_asset_job("refresh_all")]
    ).resolve_job_def("refresh_all")
    run = instance.create_run_for_job(
        job_def=job,
        status=dg.DagsterRunStatus.STARTED,
        tags={"mentorpulse/as_of": "2026-03-15", "mentorpulse/trigger": "1 new: meetings/a.jsonl"},
    )
    instance.report_run_failed(run, message)
    run = instance.get_run_by_id(run.run_id)
    (record,) = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records
    return run, record.event_log_entry.dagster_event


def _sense_failure(instance, run, event) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_run_failure",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=event,
    ).for_run_failure()
    alert_run_failure(context)


def test_a_failed_run_is_mailed_and_posted_once(both):
    inbox, receiver = both
    with dg.instance_for_test() as instance:
        message = "Run 3f6c was STARTED but its process (pid 41822 on h) is gone: marked failed."
        run, event = _failed_run(instance, message)
        _sense_failure(instance, run, event)

        ((to, mail),) = inbox.messages
        assert to == ["oncall@example.org", "ops@example.org"]
        assert mail["Subject"] == "[Mentor Pulse] run of refresh_all failed"
        body = mail.get_body(("plain",)).get_content()
        assert run.run_id in body and "pid 41822" in body and "meetings/a.jsonl" in body
        (post,) = receiver.posts
        assert post["subject"] == "run of refresh_all failed" and run.run_id in post["text"]

        # The same failure again (another killed run, other ids and pid): not sent again.
        again, event = _failed_run(instance, message.replace("41822", "51000"))
        _sense_failure(instance, again, event)
        assert len(inbox.messages) == 1 and len(receiver.posts) == 1


def test_an_unreachable_channel_is_logged_and_tried_again(settings, monkeypatch, webhook):
    receiver, url = webhook
    monkeypatch.setenv("MENTORPULSE_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{_free_port()}/x")
    said: list[str] = []
    alert = alerts.Alert("test:x", "subject", "body")
    with dg.instance_for_test() as instance:
        assert alerts.raise_alerts(instance, load_settings(), [alert], said.append) == []
        assert any("alert not posted to the webhook" in line for line in said)
        monkeypatch.setenv("MENTORPULSE_ALERT_WEBHOOK_URL", url)
        assert alerts.raise_alerts(instance, load_settings(), [alert], said.append) == [alert]
        assert len(receiver.posts) == 1


def test_automation_missing_stopped_or_silent_is_told_once_and_cleared(both, monkeypatch):
    from dagster._core.scheduler.instigation import InstigatorStatus

    inbox, receiver = both
    now = time.time()
    with dg.instance_for_test() as instance:
        # Just started: the daemon gets time to tick everything once.
        assert automation_alerts(instance, now, now) == []
        # Nothing of the pipeline ever ran here (its code location does not load).
        missing = automation_alerts(instance, now, now - STARTUP_GRACE_SECONDS - 1)
        assert {a.cause for a in missing} == {
            "automation:landing_files:missing",
            "automation:dead_runs:missing",
            "automation:nightly_refresh:missing",
        }
        assert "code location may not load" in missing[0].body

        def state(status, last):
            data = SimpleNamespace(last_tick_timestamp=last, last_iteration_timestamp=last)
            return SimpleNamespace(
                status=status, instigator_data=data, instigator_origin_id="o", selector_id="s"
            )

        running = InstigatorStatus.DECLARED_IN_CODE
        states = {
            "landing_files": state(running, now - 3600),  # silent for an hour
            "dead_runs": state(InstigatorStatus.STOPPED, now),  # turned off in the UI
            "nightly_refresh": state(running, now - 60),
        }
        monkeypatch.setattr(alerts, "_states", lambda _: states)
        monkeypatch.setattr(instance, "get_ticks", lambda *a, **k: [], raising=False)
        context = dg.build_sensor_context(instance=instance, cursor=str(now - 3600))
        result = alert_automation.evaluate_tick(context)
        assert "landing_files has stopped running" in result.skip_message
        subjects = sorted(m["Subject"] for _, m in inbox.messages)
        assert subjects == [
            "[Mentor Pulse] sensor dead_runs is stopped",
            "[Mentor Pulse] sensor landing_files has stopped running",
        ]
        assert len(receiver.posts) == 2
        alert_automation.evaluate_tick(context)  # still so: no flood
        assert len(inbox.messages) == 2

        # Turned on again, then off again: a new alert.
        states["dead_runs"] = state(running, now)
        alert_automation.evaluate_tick(context)
        assert len(inbox.messages) == 2
        states["dead_runs"] = state(InstigatorStatus.STOPPED, now)
        alert_automation.evaluate_tick(context)
        assert len(inbox.messages) == 3


def test_a_stale_source_is_told_once(both):
    inbox, receiver = both
    stale = [{"source": "goals", "newest_on": "2026-02-01", "age_days": 42, "limit_days": 7}]
    with dg.instance_for_test() as instance:
        assert alert_stale_source.evaluate_tick(
            dg.build_sensor_context(instance=instance)
        ).skip_message.startswith("every source")
        for _ in range(2):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    alerts.DASHBOARDS_KEY,
                    metadata={"as_of": "2026-03-15", "stale_sources": json.dumps(stale)},
                )
            )
            alert_stale_source.evaluate_tick(dg.build_sensor_context(instance=instance))
        ((_, mail),) = inbox.messages
        assert mail["Subject"] == "[Mentor Pulse] no new goals records for 42 days"
        assert "2026-02-01" in mail.get_body(("plain",)).get_content()
        assert len(receiver.posts) == 1


def test_the_watcher_expects_the_pipelines_automation():
    from pipelines.definitions import defs

    declared = {s.name: "sensor" for s in defs.sensors} | {
        s.name: "schedule" for s in defs.schedules
    }
    assert declared == {name: kind for name, (kind, _) in alerts.EXPECTED_AUTOMATION.items()}
