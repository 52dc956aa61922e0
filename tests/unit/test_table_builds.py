"""The warehouse build pass (assets/warehouse/table_builds.py) on a real DuckDB file loaded
from the contract's example files: reuse when nothing changed, a rebuild when an input did,
and a failing table held to itself and what reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.resources import open_working_db
from assets.warehouse.checks import CHECKS, DataCheck
from assets.warehouse.pseudonyms import sync_participant_keys
from assets.warehouse.sql_runner import SqlTable, all_sql_tables
from assets.warehouse.table_builds import build_tables, content_hash
from tests.conftest import copy_examples, write_landing


def _load(settings, con) -> None:
    for source in SOURCES.values():
        ingest_source(con, source, settings.landing_dir, log=lambda _: None)
    sync_participant_keys(con, settings.pseudonym_key())


def _marts(con) -> dict[str, str]:
    names = [
        f"marts.{name}"
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
        ).fetchall()
    ]
    return {name: content_hash(con, name) for name in names}


def _status(results) -> dict[str, str]:
    return {r.table: r.status for r in results}


@pytest.fixture
def loaded(settings):
    copy_examples(settings)
    with open_working_db(settings) as con:
        _load(settings, con)
    return settings


def test_unchanged_inputs_reuse_and_a_new_file_rebuilds_what_reads_it(loaded) -> None:
    settings = loaded
    quiet = lambda _: None  # noqa: E731
    with open_working_db(settings) as con:
        first = build_tables(con, all_sql_tables(), CHECKS, settings, "run-1", quiet)
        assert set(_status(first).values()) == {"built"}
        built = _marts(con)

        again = _status(build_tables(con, all_sql_tables(), CHECKS, settings, "run-2", quiet))
        # Only the table stamped with the time it was built is computed again.
        assert {t for t, s in again.items() if s != "reused"} == {"core.run_info"}
        assert _marts(con) == built

    # A new goals file: the goal tables are rebuilt, the survey marts are not.
    write_landing(
        loaded,
        "goals/goals_extra.jsonl",
        '{"event_id":"gx-1","goal_id":"goal-new","match_id":"X1","event_type":"set",'
        '"occurred_at":"2026-03-01T10:00:00Z","title":"Ship a feature","horizon":"short_term",'
        '"category":"skill","target_date":"2026-03-10"}\n',
    )
    with open_working_db(settings) as con:
        _load(settings, con)
        third = _status(build_tables(con, all_sql_tables(), CHECKS, settings, "run-3", quiet))
        assert third["core.goals"] == "built"
        assert third["marts.goal_status"] == "built"
        assert third["marts.nps"] == "reused"
        # A reused table holds exactly what a rebuild from scratch gives.
        con.execute("DELETE FROM ingest.table_builds")
        fresh = _status(build_tables(con, all_sql_tables(), CHECKS, settings, "run-4", quiet))
        assert set(fresh.values()) == {"built"}
        rebuilt = _marts(con)
    assert rebuilt != built  # the new goal shows
    with open_working_db(settings) as con:
        con.execute("DELETE FROM ingest.table_builds WHERE table_name <> 'marts.nps'")
        build_tables(con, all_sql_tables(), CHECKS, settings, "run-5", quiet)
        assert _marts(con) == rebuilt


def _table(tmp_path: Path, name: str, sql: str) -> SqlTable:
    path = tmp_path / "sql" / "marts" / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)
    return SqlTable("marts", name, path)


def test_a_failing_table_holds_back_itself_and_its_readers_only(loaded, tmp_path) -> None:
    settings = loaded
    broken = _table(
        tmp_path,
        "broken",
        "CREATE OR REPLACE TABLE marts.broken AS "
        "SELECT CAST(match_id AS INTEGER) AS n FROM core.matches;",
    )
    reader = _table(
        tmp_path,
        "reads_broken",
        "CREATE OR REPLACE TABLE marts.reads_broken AS SELECT count(*) AS n FROM marts.broken;",
    )
    logged: list[str] = []
    with open_working_db(settings) as con:
        results = build_tables(
            con, [*all_sql_tables(), broken, reader], CHECKS, settings, "run-1", logged.append
        )
        status = _status(results)
        assert status["marts.broken"] == "failed"
        assert status["marts.reads_broken"] == "upstream_failed"
        assert {s for t, s in status.items() if "broken" not in t} == {"built"}
        detail = next(r.detail for r in results if r.table == "marts.broken")
        # The table, its SQL file, the kind of error, and the landed record it points at.
        assert "marts.broken" in detail and str(broken.path) in detail
        assert "Conversion Error" in detail
        assert "landing/roster/matches_2026-01-05.csv line 2 (column match_id)" in detail
        # The whole error goes to the log only: the detail is published and quotes no value.
        first_match = con.execute("SELECT min(match_id) FROM staging.matches").fetchall()[0][0]
        assert f"'{first_match}'" not in detail
        assert any(first_match in line for line in logged)
        rows = con.execute(
            "SELECT table_name, current FROM ingest.table_builds WHERE NOT current ORDER BY 1"
        ).fetchall()
        assert rows == [("marts.broken", False), ("marts.reads_broken", False)]
        assert not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'broken'"
        ).fetchall()[0][0]


def test_a_failing_blocking_check_keeps_the_previous_content(loaded, tmp_path) -> None:
    settings = loaded
    quiet = lambda _: None  # noqa: E731
    sql = "CREATE OR REPLACE TABLE marts.guarded AS SELECT match_id FROM core.matches WHERE {};"
    guarded = _table(tmp_path, "guarded", sql.format("false"))
    reader = _table(
        tmp_path,
        "reads_guarded",
        "CREATE OR REPLACE TABLE marts.reads_guarded AS SELECT count(*) AS n FROM marts.guarded;",
    )
    empty = DataCheck(
        "marts.guarded",
        "stays_empty",
        "no rows",
        "SELECT count(*), string_agg(match_id, ', ') FROM marts.guarded",
        blocking=True,
    )
    tables = [*all_sql_tables(), guarded, reader]
    with open_working_db(settings) as con:
        first = _status(build_tables(con, tables, [*CHECKS, empty], settings, "run-1", quiet))
        assert first["marts.guarded"] == first["marts.reads_guarded"] == "built"
        guarded.path.write_text(sql.format("true"))  # now the check fails
        results = build_tables(con, tables, [*CHECKS, empty], settings, "run-2", quiet)
        status = _status(results)
        assert status["marts.guarded"] == "held_back"
        assert status["marts.reads_guarded"] == "upstream_failed"
        assert "stays_empty" in next(r.detail for r in results if r.table == "marts.guarded")
        # The previous, empty content is what stays, and what reads it is unchanged.
        assert con.execute("SELECT count(*) FROM marts.guarded").fetchall()[0][0] == 0
        assert con.execute("SELECT n FROM marts.reads_guarded").fetchall()[0][0] == 0
        assert (
            con.execute(
                "SELECT computed_in_run FROM ingest.table_builds WHERE table_name = 'marts.guarded'"
            ).fetchall()[0][0]
            == "run-1"
        )
        # Put back, its inputs are those of the content kept: both are current again, as is.
        guarded.path.write_text(sql.format("false"))
        third = _status(build_tables(con, tables, [*CHECKS, empty], settings, "run-3", quiet))
        assert third["marts.guarded"] == third["marts.reads_guarded"] == "reused"
        assert con.execute("SELECT bool_and(current) FROM ingest.table_builds").fetchall()[0][0]


def test_the_run_publishes_every_other_table_when_one_fails(loaded, tmp_path) -> None:
    """Through Dagster, as a run does it: the failing table does not stop the publish step."""
    import dagster as dg
    import duckdb

    from assets.ingest.assets import INGEST_ASSETS
    from assets.publish import build_publish_asset
    from assets.resources import WarehouseResource
    from assets.warehouse.assets import build_warehouse_asset, participant_keys, table_key

    broken = _table(
        tmp_path,
        "broken",
        "CREATE OR REPLACE TABLE marts.broken AS "
        "SELECT CAST(match_id AS INTEGER) AS n FROM core.matches;",
    )
    tables = [*all_sql_tables(), broken]
    warehouse = build_warehouse_asset(tables, CHECKS, name="warehouse_with_a_broken_table")
    published = build_publish_asset(sorted(warehouse.keys, key=str))
    result = dg.materialize(
        [*INGEST_ASSETS, participant_keys, warehouse, published],
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success  # every step ran; the failure is reported, not fatal
    (current,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "tables_current"
    ]
    assert not current.passed and current.severity == dg.AssetCheckSeverity.ERROR
    assert "marts.broken" in current.metadata["tables_not_current"].value
    with duckdb.connect(str(loaded.published_path), read_only=True) as con:
        published_tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()"
            ).fetchall()
        }
        assert {"marts.match_cadence", "marts.nps", "ingest.table_builds"} <= published_tables
        assert "marts.broken" not in published_tables
        (status,) = con.execute(
            "SELECT status FROM ingest.table_builds WHERE table_name = 'marts.broken'"
        ).fetchall()[0]
        assert status == "failed"
    assert table_key("marts.broken") in warehouse.keys


def test_tables_that_read_each_other_are_an_error_not_an_order(loaded, tmp_path) -> None:
    first = _table(tmp_path, "first", "CREATE OR REPLACE TABLE marts.first AS SELECT 1 AS n;")
    second = _table(
        tmp_path,
        "second",
        "-- reads marts.first\nCREATE OR REPLACE TABLE marts.second AS SELECT 2 AS n;",
    )
    first.path.write_text("-- named in a comment: marts.second\n" + first.path.read_text())
    with open_working_db(loaded) as con, pytest.raises(ValueError, match="cycle: marts.first"):
        build_tables(con, [first, second], [], loaded, "run-1", lambda _: None)


def test_a_failing_early_warning_keeps_its_marts_and_lets_the_run_go_on(loaded) -> None:
    import dagster as dg

    from assets.resources import WarehouseResource
    from assets.warehouse.risk_assets import early_warning

    def run() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [early_warning],
            resources={"warehouse": WarehouseResource()},
            instance=dg.DagsterInstance.ephemeral(),
        )

    with open_working_db(loaded) as con:
        build_tables(con, all_sql_tables(), CHECKS, loaded, "run-1", lambda _: None)
    assert run().success
    with open_working_db(loaded) as con:
        before = content_hash(con, "marts.match_risk")
        assert before and content_hash(con, "marts.match_risk") == before
        con.execute("DROP TABLE core.meeting_states")  # the snapshots cannot be taken
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
        assert content_hash(con, "marts.match_risk") == before


def test_the_outcome_marts_are_built_and_a_failure_keeps_them(loaded) -> None:
    import dagster as dg

    from assets.resources import WarehouseResource
    from assets.warehouse.outcome_assets import outcome_marts
    from assets.warehouse.outcomes import OUTCOME_TABLES

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
        build_tables(con, all_sql_tables(), CHECKS, loaded, "run-1", lambda _: None)
    result = run()
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks and all(checks.values())  # the marts' checks ran in the same step
    with open_working_db(loaded) as con:
        assert states(con) == [(name, "built", True) for name in sorted(OUTCOME_TABLES)]
        before = {name: content_hash(con, name) for name in OUTCOME_TABLES}
        assert con.execute("SELECT count(*) FROM marts.match_retention").fetchone()[0] > 0
        con.execute("DROP TABLE core.participants")  # match_design's attributes cannot be read
    assert run().success  # recorded, not fatal: the publish step can still run
    with open_working_db(loaded) as con:
        assert states(con) == [(name, "failed", False) for name in sorted(OUTCOME_TABLES)]
        assert {name: content_hash(con, name) for name in OUTCOME_TABLES} == before
