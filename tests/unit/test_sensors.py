"""The landing sensors, evaluated against a real (ephemeral) Dagster instance."""

from __future__ import annotations

import dagster as dg

from pipelines.sensors import LANDING_SENSORS
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
