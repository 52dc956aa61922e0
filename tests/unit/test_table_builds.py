"""The warehouse's dbt build on a real DuckDB file loaded from the contract's example files:
a model whose SQL or blocking test fails keeps its previous content, what reads it is skipped,
every other table is built, and ingest.table_builds says which and why."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.resources import open_working_db
from assets.warehouse.dbt_project import PROJECT_DIR, dbt_args, dbt_vars, invoke
from assets.warehouse.pseudonyms import sync_participant_keys
from assets.warehouse.table_builds import record_dbt_results, tables_not_current
from tests.conftest import copy_examples

# Models added to a copy of the project: one whose SQL fails on the data, one guarded by a
# blocking test that fails once `guard_all` lets every row through, and a reader of each.
EXTRA_MODELS = {
    "broken.sql": "SELECT CAST(match_id AS INTEGER) AS n FROM {{ ref('matches') }}",
    "reads_broken.sql": "SELECT count(*) AS n FROM {{ ref('broken') }}",
    "guarded.sql": "SELECT 1 AS k FROM {{ ref('matches') }}"
    " {{ '' if var('guard_all', false) else 'LIMIT 1' }}",
    "reads_guarded.sql": "SELECT count(*) AS n FROM {{ ref('guarded') }}",
    "_extra.yml": "version: 2\nmodels:\n  - name: guarded\n    data_tests:\n"
    "      - unique_key:\n          name: unique_key\n          arguments: {key: k}\n",
}


@pytest.fixture
def loaded(settings):
    copy_examples(settings)
    with open_working_db(settings) as con:
        for source in SOURCES.values():
            ingest_source(con, source, settings.landing_dir, log=lambda _: None)
        sync_participant_keys(con, settings.pseudonym_key())
    return settings


@pytest.fixture
def project(tmp_path) -> Path:
    copy = tmp_path / "dbt"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    for name, text in EXTRA_MODELS.items():
        (copy / "models" / "marts" / name).write_text(text)
    return copy


def _build(project: Path, settings, guard_all: bool) -> tuple[dict, dict]:
    target = project / "target"
    variables = json.loads(dbt_vars(settings)) | {"guard_all": guard_all}
    args = dbt_args("build", "--vars", json.dumps(variables), "--target-path", str(target))
    args[args.index("--project-dir") + 1] = str(project)
    args[args.index("--profiles-dir") + 1] = str(project)
    with contextlib.suppress(RuntimeError):  # failures are in run_results.json
        invoke(args)
    return (
        json.loads((target / "run_results.json").read_text()),
        json.loads((target / "manifest.json").read_text()),
    )


def test_a_failure_holds_back_only_the_table_and_what_reads_it(loaded, project) -> None:
    settings = loaded
    first_results, manifest = _build(project, settings, guard_all=False)
    logged: list[str] = []
    with open_working_db(settings) as con:
        first = record_dbt_results(con, first_results, settings, "run-1", logged.append, manifest)
        assert {b.table: b.status for b in first if b.status != "built"} == {
            "marts.broken": "failed",
            "marts.reads_broken": "upstream_failed",
        }
        detail = next(b.detail for b in first if b.table == "marts.broken")
        # The table, its model file, the kind of error, and the landed record it points at.
        assert "models/marts/broken.sql failed (Conversion Error)" in detail
        # which bad row DuckDB's error quotes varies; it is always one of the roster's
        assert re.search(
            r"landing/roster/matches_[0-9-]+\.csv line \d+ \(column match_id\)", detail
        )
        # The whole error goes to the log only: the detail is published and quotes no value.
        match_ids = [m for (m,) in con.execute("SELECT match_id FROM staging.matches").fetchall()]
        assert not any(f"'{m}'" in detail for m in match_ids)
        assert any(m in line for line in logged for m in match_ids)
        assert not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'broken'"
        ).fetchall()[0][0]
        assert con.execute("SELECT count(*) FROM marts.guarded").fetchall() == [(1,)]

    second_results, manifest = _build(project, settings, guard_all=True)
    with open_working_db(settings) as con:
        second = record_dbt_results(con, second_results, settings, "run-2", print, manifest)
        status = {b.table: b.status for b in second}
        assert status["marts.guarded"] == "held_back"
        assert status["marts.reads_guarded"] == "upstream_failed"
        assert {s for t, s in status.items() if "broken" not in t and "guarded" not in t} == {
            "built"
        }
        # The previous content stays, and the state says since when it is current.
        assert con.execute("SELECT count(*) FROM marts.guarded").fetchall() == [(1,)]
        assert con.execute(
            "SELECT computed_in_run, considered_in_run FROM ingest.table_builds "
            "WHERE table_name = 'marts.guarded'"
        ).fetchall() == [("run-1", "run-2")]
        assert (
            "blocking test unique_key"
            in dict((t, d) for t, _, d in tables_not_current(con))["marts.guarded"]
        )
        assert [t for t, _, _ in tables_not_current(con)] == [
            "marts.broken",
            "marts.guarded",
            "marts.reads_broken",
            "marts.reads_guarded",
        ]


def test_a_failing_early_warning_keeps_its_marts_and_lets_the_run_go_on(loaded) -> None:
    import dagster as dg

    from assets.resources import WarehouseResource
    from assets.warehouse.risk_assets import early_warning
    from tests import dbt_compiled

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [early_warning],
            resources={"warehouse": WarehouseResource()},
            instance=dg.DagsterInstance.ephemeral(),
        )

    def content(con) -> list:
        return con.execute("SELECT * FROM marts.match_risk ORDER BY ALL").fetchall()

    with open_working_db(loaded) as con:
        dbt_compiled.build(con)
    assert run().success
    with open_working_db(loaded) as con:
        before = content(con)
        assert before
        con.execute("DROP TABLE core.risk_snapshots")  # the snapshots cannot be read
    assert run().success  # recorded, not fatal: the publish step can still run
    with open_working_db(loaded) as con:
        rows = con.execute(
            "SELECT table_name, status, current, detail FROM ingest.table_builds "
            "WHERE table_name LIKE 'marts.risk%' OR table_name = 'marts.match_risk' ORDER BY 1"
        ).fetchall()
        assert [(name, status, current) for name, status, current, _ in rows] == [
            ("marts.match_risk", "failed", False),
            ("marts.risk_backtest", "failed", False),
        ]
        assert "the early warning failed (CatalogException)" in rows[0][3]
        assert content(con) == before


def test_the_outcome_marts_are_built_and_a_failure_keeps_them(loaded) -> None:
    import dagster as dg

    from assets.resources import WarehouseResource
    from assets.warehouse.outcome_assets import outcome_marts
    from assets.warehouse.outcomes import OUTCOME_TABLES
    from tests import dbt_compiled

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [outcome_marts],
            resources={"warehouse": WarehouseResource()},
            instance=dg.DagsterInstance.ephemeral(),
        )

    def states(con) -> list[tuple]:
        return con.execute(
            "SELECT table_name, status, current FROM ingest.table_builds "
            "WHERE table_name IN ? ORDER BY 1",
            [list(OUTCOME_TABLES)],
        ).fetchall()

    with open_working_db(loaded) as con:
        dbt_compiled.build(con)
    result = run()
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks and all(checks.values())  # the marts' checks ran in the same step
    with open_working_db(loaded) as con:
        assert states(con) == [(name, "built", True) for name in sorted(OUTCOME_TABLES)]
        before = {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            for name in OUTCOME_TABLES
        }
        assert con.execute("SELECT count(*) FROM marts.match_retention").fetchone()[0] > 0
        con.execute("DROP TABLE core.participants")  # match_design's attributes cannot be read
    assert run().success  # recorded, not fatal: the publish step can still run
    with open_working_db(loaded) as con:
        assert states(con) == [(name, "failed", False) for name in sorted(OUTCOME_TABLES)]
        assert {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            for name in OUTCOME_TABLES
        } == before


def test_a_table_left_behind_fails_the_run_once_the_pages_say_so(loaded) -> None:
    """The run's status in Dagster agrees with the CLI's exit code: the pages are built (with
    their banner), then the step fails naming the table, where the fault is and why."""
    import dagster as dg

    from assets.dashboards_asset import DASHBOARDS_KEY, dashboards
    from assets.resources import WarehouseResource
    from assets.warehouse.early_warning import create_tables as create_risk_tables
    from assets.warehouse.outcomes import build_outcome_marts
    from assets.warehouse.table_builds import record_built_elsewhere
    from tests import dbt_compiled

    detail = "models/marts/nps.sql: the model's SQL failed (BinderException)"
    with open_working_db(loaded) as con:
        dbt_compiled.build(con)
        build_outcome_marts(con, loaded)
        create_risk_tables(con)
        record_built_elsewhere(con, ["marts.nps"], "failed", loaded, "run-0", 0.0, detail)
    result = dg.materialize(
        [dashboards],
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert (
        f"marts.nps (failed): {detail}" in failure.step_failure_data.user_failure_data.description
    )
    # the pages were written, and recorded, before the step failed
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [DASHBOARDS_KEY]
    index = (loaded.dashboards_dir / "index.html").read_text(encoding="utf-8")
    assert "marts.nps" in index
