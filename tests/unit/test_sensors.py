"""The landing sensors, the schedule and the dead-run sweep, evaluated against a real
(ephemeral) Dagster instance."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import time

import dagster as dg

from assets.run_lock import HOST_TAG, PID_TAG
from pipelines.sensors import (
    EDGE_SECONDS,
    LANDING_SENSORS,
    MAX_RETRIES,
    dead_runs_sensor,
    fail_dead_runs,
)
from tests.conftest import write_landing

SENSOR = next(s for s in LANDING_SENSORS if s.name == "landing_files")


def evaluate(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = SENSOR.evaluate_tick(context)
    return result, result.cursor


def test_new_file_requests_one_refresh_and_the_same_file_never_again(settings):
    with dg.instance_for_test() as instance:
        result, cursor = evaluate(instance)
        assert result.run_requests == [] and result.skip_message

        write_landing(settings, "meetings/a.jsonl", "{}\n")
        write_landing(settings, "goals/b.jsonl", "{}\n")
        result, cursor = evaluate(instance, cursor)
        (request,) = result.run_requests
        assert request.tags["mentorpulse/trigger"].startswith("2 new: goals/b.jsonl")

        again, _ = evaluate(instance, cursor)
        assert again.run_requests == []


def test_in_flight_names_are_not_ready(settings):
    with dg.instance_for_test() as instance:
        for name in (".a.jsonl", "a.jsonl.part", "a.jsonl.tmp", "a.jsonl.crdownload"):
            write_landing(settings, f"meetings/{name}", "{}\n")
        result, _ = evaluate(instance)
        assert result.run_requests == []


def test_a_changed_file_and_an_old_mtime_copied_in_are_new(settings):
    with dg.instance_for_test() as instance:
        path = write_landing(settings, "meetings/a.jsonl", "{}\n")
        first, cursor = evaluate(instance)
        path.write_text('{"changed": true}\n')
        second, cursor = evaluate(instance, cursor)
        assert second.run_requests
        assert first.run_requests[0].run_key != second.run_requests[0].run_key
        # rsync -t / cp -p keep an old mtime; the ctime of the rename is still new.
        old = write_landing(settings, "meetings/old.jsonl", "{}\n")
        os.utime(old, (0, 0))
        third, _ = evaluate(instance, cursor)
        assert third.run_requests


def test_the_cursor_stays_small_however_many_files_landed(settings):
    with dg.instance_for_test() as instance:
        for n in range(500):
            write_landing(settings, f"meetings/m_{n:04d}.jsonl", "{}\n")
        _, cursor = evaluate(instance)
        for n in range(500, 1000):
            write_landing(settings, f"meetings/m_{n:04d}.jsonl", "{}\n")
        _, cursor = evaluate(instance, cursor)
        time.sleep(EDGE_SECONDS + 0.1)
        write_landing(settings, "meetings/late.jsonl", "{}\n")
        result, cursor = evaluate(instance, cursor)
        assert (
            result.run_requests
            and "late.jsonl" in result.run_requests[0].tags["mentorpulse/trigger"]
        )
        assert len(cursor) < 300, cursor  # the mark and the one file near it, not 1,001 files


def test_an_earlier_versions_cursor_is_read(settings):
    with dg.instance_for_test() as instance:
        path = write_landing(settings, "meetings/a.jsonl", "{}\n")
        stat = path.stat()
        old = json.dumps({"meetings/a.jsonl": f"{stat.st_size}:{stat.st_mtime_ns}"})
        result, cursor = evaluate(instance, old)
        assert result.run_requests == []
        write_landing(settings, "meetings/b.jsonl", "{}\n")
        result, _ = evaluate(instance, cursor)
        assert result.run_requests


def test_files_wait_for_a_refresh_already_queued(settings):
    """A burst coalesces: with a refresh queued, new files are left to it."""
    with dg.instance_for_test() as instance:
        _run_with(instance, dg.DagsterRunStatus.NOT_STARTED, {})
        write_landing(settings, "meetings/a.jsonl", "{}\n")
        result, cursor = evaluate(instance)
        assert result.run_requests == []
        assert "queued" in result.skip_message
        assert json.loads(cursor)["pending"] is not None


def _end(instance, run_id, status):
    run = instance.get_run_by_id(run_id)
    if status == dg.DagsterRunStatus.SUCCESS:
        instance.handle_run_event(
            run_id,
            dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name
            ),
        )
        instance.handle_run_event(
            run_id,
            dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name
            ),
        )
    else:
        instance.report_run_failed(run, "killed")


def test_files_of_a_run_that_died_are_asked_for_again_without_a_new_landing(settings):
    with dg.instance_for_test() as instance:
        write_landing(settings, "meetings/a.jsonl", "{}\n")
        result, cursor = evaluate(instance)
        assert result.run_requests
        # The run it asked for is under way, then killed (the dead_runs sensor fails it).
        run_id = _run_with(instance, dg.DagsterRunStatus.STARTED, {})
        result, cursor = evaluate(instance, cursor)
        assert result.run_requests == [] and "under way" in result.skip_message
        _end(instance, run_id, dg.DagsterRunStatus.FAILURE)
        result, cursor = evaluate(instance, cursor)
        (retry,) = result.run_requests
        assert retry.tags["mentorpulse/trigger"].startswith("retry 1 of")
        # The retry succeeds: nothing more is asked.
        time.sleep(0.01)
        _end(
            instance,
            _run_with(instance, dg.DagsterRunStatus.NOT_STARTED, {}),
            dg.DagsterRunStatus.SUCCESS,
        )
        result, cursor = evaluate(instance, cursor)
        assert result.run_requests == [] and "published" in result.skip_message
        assert json.loads(cursor)["pending"] is None


def test_a_refresh_that_keeps_failing_is_asked_for_a_bounded_number_of_times(settings):
    with dg.instance_for_test() as instance:
        write_landing(settings, "meetings/a.jsonl", "{}\n")
        result, cursor = evaluate(instance)
        requests = len(result.run_requests)
        for _ in range(MAX_RETRIES + 3):
            _end(
                instance,
                _run_with(instance, dg.DagsterRunStatus.STARTED, {}),
                dg.DagsterRunStatus.FAILURE,
            )
            result, cursor = evaluate(instance, cursor)
            requests += len(result.run_requests)
        assert requests == 1 + MAX_RETRIES
        assert json.loads(cursor)["pending"] is None


def test_a_request_fixes_the_runs_parameters_in_config_and_tags(settings):
    with dg.instance_for_test() as instance:
        write_landing(settings, "meetings/a.jsonl", "{}\n")
        result, _ = evaluate(instance)
    (request,) = result.run_requests
    config = request.run_config["resources"]["warehouse"]["config"]
    assert config == settings.run_parameters()
    assert config["as_of"] == "2026-03-15" and config["timezone"] == "Europe/Lisbon"
    assert request.tags["mentorpulse/as_of"] == "2026-03-15"
    assert f"min_group_size={settings.min_group_size}" in request.tags["mentorpulse/parameters"]
    # Few tags: the runs list shows more than two runs a screen.
    assert {t for t in request.tags if not t.startswith("dagster/")} == {
        "mentorpulse/as_of",
        "mentorpulse/parameters",
        "mentorpulse/trigger",
    }


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
    assert f"lapse_days={settings.lapse_days}" in request.tags["mentorpulse/parameters"]


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


def test_runs_past_the_retention_are_deleted_with_their_logs(settings):
    from pipelines.sensors import delete_old_runs

    with dg.instance_for_test() as instance:
        finished = _run_with(instance, dg.DagsterRunStatus.SUCCESS, {})
        running = _run_with(instance, dg.DagsterRunStatus.STARTED, {})
        assert delete_old_runs(instance, 30) == []  # all young
        month_later = time.time() + 31 * 86400
        assert delete_old_runs(instance, 0, month_later) == []  # 0 keeps every run
        assert delete_old_runs(instance, 30, month_later) == [finished]
        assert instance.get_run_by_id(finished) is None
        assert instance.get_run_by_id(running) is not None  # never one in progress
