"""The landing sensors, the schedule and the dead-run sweep, evaluated against a real
(ephemeral) Dagster instance."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess

import dagster as dg

from assets.run_lock import HOST_TAG, PID_TAG
from pipelines.sensors import LANDING_SENSORS, dead_runs_sensor, fail_dead_runs
from tests.conftest import write_landing

MEETINGS_SENSOR = next(s for s in LANDING_SENSORS if s.name == "meetings_landing")


def evaluate(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = MEETINGS_SENSOR.evaluate_tick(context)
    return result, result.cursor


def test_new_file_requests_one_refresh_and_the_same_file_never_again(settings):
    with dg.instance_for_test() as instance:
        result, cursor = evaluate(instance)
        assert result.run_requests == [] and result.skip_message

        write_landing(settings, "meetings/a.jsonl", "{}\n")
        write_landing(settings, "meetings/b.jsonl", "{}\n")
        result, cursor = evaluate(instance, cursor)
        (request,) = result.run_requests
        assert request.tags["mentorpulse/new_files"] == "2"

        again, _ = evaluate(instance, cursor)
        assert again.run_requests == []


def test_in_flight_names_are_not_ready(settings):
    with dg.instance_for_test() as instance:
        for name in (".a.jsonl", "a.jsonl.part", "a.jsonl.tmp", "a.jsonl.crdownload"):
            write_landing(settings, f"meetings/{name}", "{}\n")
        result, _ = evaluate(instance)
        assert result.run_requests == []


def test_run_key_changes_with_the_file_signature(settings):
    with dg.instance_for_test() as instance:
        path = write_landing(settings, "meetings/a.jsonl", "{}\n")
        first, cursor = evaluate(instance)
        path.write_text('{"changed": true}\n')
        second, _ = evaluate(instance, cursor)
        assert first.run_requests[0].run_key != second.run_requests[0].run_key


def test_files_wait_for_a_refresh_already_queued(settings):
    """A burst coalesces: with a refresh queued, new files are left to it."""
    with dg.instance_for_test() as instance:
        instance.create_run_for_job(
            job_def=dg.Definitions(
                assets=[dg.AssetSpec("x")],
                jobs=[dg.define_asset_job("refresh_all")],
            ).resolve_job_def("refresh_all"),
            # QUEUED needs a remote code location; NOT_STARTED is the other waiting state.
            status=dg.DagsterRunStatus.NOT_STARTED,
        )
        write_landing(settings, "meetings/a.jsonl", "{}\n")
        result, cursor = evaluate(instance)
        assert result.run_requests == []
        assert "queued" in result.skip_message
        assert "meetings/a.jsonl" in cursor


def test_a_request_fixes_the_runs_parameters_in_config_and_tags(settings):
    with dg.instance_for_test() as instance:
        write_landing(settings, "meetings/a.jsonl", "{}\n")
        result, _ = evaluate(instance)
    (request,) = result.run_requests
    config = request.run_config["resources"]["warehouse"]["config"]
    assert config == settings.run_parameters()
    assert config["as_of"] == "2026-03-15" and config["timezone"] == "Europe/Lisbon"
    assert request.tags["mentorpulse/as_of"] == "2026-03-15"
    assert request.tags["mentorpulse/min_group_size"] == str(settings.min_group_size)


def test_the_nightly_run_computes_for_the_ticks_local_date(settings, monkeypatch):
    from pipelines.definitions import nightly_refresh

    monkeypatch.delenv("MENTORPULSE_AS_OF")
    # 02:00 in Lisbon on 1 July is 01:00 UTC: the local date is the one that counts.
    tick = dt.datetime(2026, 7, 1, 1, 0, tzinfo=dt.UTC)
    request = nightly_refresh.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=tick)
    ).run_requests[0]
    assert request.run_config["resources"]["warehouse"]["config"]["as_of"] == "2026-07-01"
    assert request.tags["mentorpulse/as_of"] == "2026-07-01"
    assert request.tags["mentorpulse/lapse_days"] == str(settings.lapse_days)


def _run_with(instance, status, tags):
    job = dg.Definitions(
        assets=[dg.AssetSpec("x")], jobs=[dg.define_asset_job("refresh_all")]
    ).resolve_job_def("refresh_all")
    return instance.create_run_for_job(job_def=job, status=status, tags=tags).run_id


def test_runs_whose_process_is_gone_are_failed_and_live_ones_left(settings):
    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    with dg.instance_for_test() as instance:
        dead = _run_with(
            instance, dg.DagsterRunStatus.STARTED, {PID_TAG: str(gone.pid), HOST_TAG: host}
        )
        alive = _run_with(
            instance, dg.DagsterRunStatus.STARTED, {PID_TAG: str(os.getpid()), HOST_TAG: host}
        )
        elsewhere = _run_with(
            instance, dg.DagsterRunStatus.STARTED, {PID_TAG: str(gone.pid), HOST_TAG: "other"}
        )
        said: list[str] = []
        assert fail_dead_runs(instance, said.append) == [dead]
        status = {r: instance.get_run_by_id(r).status for r in (dead, alive, elsewhere)}
        assert status == {
            dead: dg.DagsterRunStatus.FAILURE,
            alive: dg.DagsterRunStatus.STARTED,
            elsewhere: dg.DagsterRunStatus.STARTED,
        }
        (line,) = said
        assert dead in line and f"pid {gone.pid}" in line and "marked failed" in line
        # The daemon's sensor does the same; nothing is left for it here.
        result = dead_runs_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert result.skip_message == "no dead runs"
