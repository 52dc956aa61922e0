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
        for s in (
            "participants",
            "matches",
            "meetings",
            "goals",
            "responses",
            "invitations",
            "followups",
        )
    ),
    "restricted/participant_keys",
    "restricted/participant_identity",
    "restricted/goal_texts",  # the goals' free text (title, measure): never published
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
            "known_matches",
            "meeting_states",  # the early warning's day-by-day folds
            "goal_states",
            "followups",
            "risk_snapshots",  # the early warning's snapshots (a dbt model)
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
            "program_health_by_month",
            "survey_change",
            "at_risk_matches",
            "monthly_trends",
            "participants",  # the participant dimension (k-anonymous) and the cohorts
            "cohorts",
            "match_risk",  # the early warning (one Python asset)
            "risk_backtest",
            "followup_outcomes",
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
    """Staging checks block in Dagster's sense (nothing is built on a load that does not add
    up); a table's blocking dbt test keeps that table's previous content instead, inside the
    model's own transaction, so that every other table is still published
    (macros/audit_blocking_tests.sql)."""
    dagster_blocking = {
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in graph.asset_check_keys
        if graph.get_check_spec(key).blocking
    }
    assert {"staging/meetings:nothing_lost", "staging/meetings:contract_expectations"} <= (
        dagster_blocking
    )
    assert not any(name.startswith(("core/", "marts/")) for name in dagster_blocking)
    held = "keeps the table's previous content"
    for expected in (
        "marts/feedback_scores:small_groups_suppressed",
        "marts/nps:small_groups_suppressed",
        "marts/match_cadence:held_meetings_add_up",
        "core/matches:unique_key",
    ):
        key = dg.AssetCheckKey(
            dg.AssetKey(expected.split(":")[0].split("/")), expected.split(":")[1]
        )
        assert held in graph.get_check_spec(key).description
    key = dg.AssetCheckKey(dg.AssetKey(["core", "meetings"]), "references_known_matches")
    assert held not in graph.get_check_spec(key).description
    assert "staging/meetings:freshness" not in dagster_blocking


def test_sensors_and_schedule_start_running_and_target_the_refresh():
    sensors = {s.name: s for s in defs.sensors}
    assert "landing_files" in sensors  # one sensor watches every landing folder
    for sensor in sensors.values():
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    for name, sensor in sensors.items():
        if name == "landing_files":
            assert sensor.job_name == refresh_all.name
    assert "dead_runs" in sensors  # fails runs whose process died, so the queue moves on
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


def test_no_step_waits_for_a_dagster_pool(graph):
    """A killed run kept its pool slot and blocked every later run: the OS run lock (freed
    when a process dies) keeps runs apart instead."""
    import yaml

    from tests.conftest import REPO

    assert {
        key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).pools
    } == set()
    config = yaml.safe_load((REPO / "pipelines" / "dagster.yaml").read_text())
    assert "pools" not in config["concurrency"]
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
    assert config["run_monitoring"]["enabled"] is True


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


# --- the catalog shows the warehouse as analysts see it (issue 12) ----------------------------
EXPECTED_ASSETS.update(
    f"marts/{t}"
    for t in ("match_retention", "match_closures", "match_design", "survey_reliability")
)


def test_every_model_shows_its_columns_comments_and_sql_file():
    """The catalog's columns come from the models' YAML; built on empty inputs, every model
    has exactly those columns and types, and dbt's COMMENTs are the YAML's."""
    import duckdb

    from assets.ingest.loader import ensure_tables
    from assets.settings import bind_settings, load_settings
    from assets.warehouse.assets import table_key, warehouse_tables
    from assets.warehouse.pseudonyms import sync_participant_keys
    from tests import dbt_compiled

    con = duckdb.connect()
    bind_settings(con, load_settings({}))
    ensure_tables(con)
    sync_participant_keys(con, "catalog")
    dbt_compiled.build(con)
    specs = {spec.key: spec for spec in warehouse_tables.specs}
    for model in dbt_compiled.models():
        schema_name, table_name = model.table.split(".")
        spec = specs[table_key(model.table)]
        expected = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema_name, table_name],
        ).fetchall()
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == expected
        (reference,) = spec.metadata["dagster/code_references"].code_references
        assert reference.file_path.endswith(model.node["original_file_path"])
        (table_comment,) = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
            [schema_name, table_name],
        ).fetchone()
        assert spec.description == table_comment
    # the outcome marts (Python): their columns and comments as their DDL gives them
    from assets.warehouse.outcome_assets import outcome_marts
    from assets.warehouse.outcomes import create_tables

    create_tables(con)

    outcome_specs = {spec.key: spec for spec in outcome_marts.specs}
    for name in ("match_retention", "match_closures", "match_design", "survey_reliability"):
        spec = outcome_specs[table_key(f"marts.{name}")]
        expected = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND table_name = ? ORDER BY column_index",
            [name],
        ).fetchall()
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == expected
        assert all(description for _, _, description in expected)


def test_a_materialized_table_records_its_row_count(tmp_path, monkeypatch):
    from assets.resources import WarehouseResource
    from assets.warehouse.assets import table_key, warehouse_tables

    monkeypatch.setenv("MENTORPULSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MENTORPULSE_AS_OF", "2024-06-30")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [warehouse_tables],
        selection=[table_key("core.run_info")],
        resources={"warehouse": WarehouseResource()},
        instance=instance,
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["dagster/row_count"].value == 1
