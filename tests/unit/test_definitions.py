"""The code location: the asset graph, its checks, sensors and schedule as declared."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.jobs import refresh_all

# A rename of any asset breaks dashboards, docs and analysts' habits: it must be deliberate.
EXPECTED_ASSETS = {
    *(
        f"staging/{s}"
        for s in ("participants", "matches", "meetings", "goals", "responses", "invitations")
    ),
    "restricted/participant_keys",
    "restricted/participant_identity",
    *(
        f"core/{t}"
        for t in (
            "participants",
            "matches",
            "meetings",
            "goals",
            "survey_responses",
            "invitations",
            "run_info",
        )
    ),
    *(
        f"marts/{t}"
        for t in (
            "match_cadence",
            "goal_status",
            "goal_attainment",
            "feedback_scores",
            "nps",
            "survey_response_rates",
            "program_health",
            "at_risk_matches",
            "monthly_trends",
        )
    ),
    "warehouse/published",
    "dashboards/pages",
}


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


def test_every_asset_key_is_as_expected(graph):
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys >= EXPECTED_ASSETS
    assert keys - EXPECTED_ASSETS <= {"staging/survey_exports", "staging/calendar"}


def test_marts_are_built_from_core_only(graph):
    for key in graph.get_all_asset_keys():
        if key.path[0] == "marts":
            parents = {p.path[0] for p in graph.get(key).parent_keys}
            assert parents <= {"core", "marts"}, key


def test_publish_waits_for_every_mart_and_dashboards_for_publish(graph):
    published = graph.get(dg.AssetKey(["warehouse", "published"]))
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts <= set(published.parent_keys)
    assert graph.get(dg.AssetKey(["dashboards", "pages"])).parent_keys == {published.key}


def test_checks_that_guard_published_numbers_are_blocking(graph):
    blocking = {
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in graph.asset_check_keys
        if graph.get_check_spec(key).blocking
    }
    for expected in (
        "marts/feedback_scores:small_groups_suppressed",
        "marts/nps:small_groups_suppressed",
        "marts/match_cadence:held_meetings_add_up",
        "core/matches:unique_key",
        "staging/meetings:nothing_lost",
        "staging/meetings:contract_expectations",
    ):
        assert expected in blocking
    assert "core/meetings:references_known_matches" not in blocking
    assert "staging/meetings:freshness" not in blocking


def test_sensors_and_schedule_start_running_and_target_the_refresh():
    sensors = {s.name: s for s in defs.sensors}
    assert {
        f"{s}_landing"
        for s in ("meetings", "goals", "responses", "invitations", "matches", "participants")
    } <= set(sensors)
    for sensor in sensors.values():
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.job_name == refresh_all.name
    (schedule,) = defs.schedules
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == refresh_all.name
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_schedule_follows_the_program_time_zone(monkeypatch):
    import importlib

    import pipelines.definitions as definitions

    monkeypatch.setenv("MENTORPULSE_TIMEZONE", "America/Sao_Paulo")
    reloaded = importlib.reload(definitions)
    try:
        (schedule,) = reloaded.defs.schedules
        assert schedule.execution_timezone == "America/Sao_Paulo"
    finally:
        monkeypatch.delenv("MENTORPULSE_TIMEZONE")
        importlib.reload(definitions)


def test_refresh_job_uses_the_in_process_executor():
    job = defs.resolve_job_def(refresh_all.name)
    assert job.executor_def.name == "in_process"


def test_dagster_validates_the_workspace():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import REPO

    dagster = Path(sys.executable).with_name("dagster")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # a temporary instance
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "passed validation" in completed.stdout + completed.stderr
