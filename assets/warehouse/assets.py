"""Warehouse assets: every dbt model (assets/warehouse/dbt/) an asset under its table's key
(["marts", "match_cadence"]), every dbt data test a check of it; plus the participant keys
(Python) and the checks of the staging tables ingest writes."""

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from assets.ingest.contract import SOURCES
from assets.resources import WarehouseResource
from assets.warehouse.checks import CHECKS, DataCheck, run_check
from assets.warehouse.dbt_project import PROJECT_DIR, dbt_vars, ensure_manifest, manifest
from assets.warehouse.pseudonyms import sync_participant_keys
from assets.warehouse.table_builds import ensure_state_table, record_dbt_results


def table_key(qualified_name: str) -> dg.AssetKey:
    return dg.AssetKey(qualified_name.split("."))


PARTICIPANT_KEYS = table_key("restricted.participant_keys")
HELD = " A failure keeps the table's previous content (and that of what reads it)."


class WarehouseTranslator(DagsterDbtTranslator):
    """A model's key and group are its table's (schema, name); a source's key is the table a
    Python asset writes (staging.*, restricted.participant_keys)."""

    def get_asset_key(self, dbt_resource_props) -> dg.AssetKey:
        name = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return dg.AssetKey([dbt_resource_props["schema"], name])

    def get_description(self, dbt_resource_props) -> str:
        # the YAML's, as the dictionary shows it (the SQL is a code reference away)
        return dbt_resource_props.get("description") or dbt_resource_props["name"]

    def get_group_name(self, dbt_resource_props) -> str:
        return dbt_resource_props["schema"]

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        test = manifest["nodes"][unique_id]
        blocking = (test["config"].get("severity") or "error").lower() == "error"
        description = test.get("description") or (
            f"dbt test {test['test_metadata']['name']} of {asset_spec.key.to_user_string()}."
        )
        # Never blocking in Dagster's sense (that would stop publishing every other table):
        # the model's own transaction keeps its previous content (audit_blocking_tests).
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=description + (HELD if blocking else ""),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=False,
        )


ensure_manifest()
DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
with warnings.catch_warnings():  # code references are beta in dagster 1.13: a stable use
    warnings.simplefilter("ignore", dg.BetaWarning)
    TRANSLATOR = WarehouseTranslator(
        settings=DagsterDbtTranslatorSettings(enable_code_references=True)
    )


def _source_columns(schema: str, name: str) -> list[dg.TableColumn]:
    for source in manifest()["sources"].values():
        if (source["schema"], source["name"]) == (schema, name):
            return [
                dg.TableColumn(c["name"], c.get("data_type") or "", c.get("description") or None)
                for c in source["columns"].values()
            ]
    return []


@dg.asset(
    key=PARTICIPANT_KEYS,
    group_name="restricted",
    deps=[table_key(f"staging.{name}") for name in SOURCES],
    description="Pseudonymous key (HMAC-SHA256) of every participant_id referenced anywhere.",
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=_source_columns("restricted", "participant_keys")
        )
    },
    kinds={"duckdb"},
)
def participant_keys(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    with warehouse.connect() as con:
        added = sync_participant_keys(con, settings.pseudonym_key())
        total = con.execute("SELECT count(*) FROM restricted.participant_keys").fetchall()[0][0]
    return dg.MaterializeResult(
        metadata={"keys_added": added, "keys": total, "dagster/row_count": total}
    )


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    name="warehouse_tables",
)
def warehouse_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """One `dbt build` of the selected models and their tests. A model whose SQL or blocking
    test fails yields nothing (it is not materialized), keeps its previous content, and dbt
    skips what reads it; ingest.table_builds records every model's outcome."""
    settings = warehouse.settings()
    with warehouse.connect() as con:  # the file exists, private, before dbt opens it
        ensure_state_table(con)
    dbt = DbtCliResource(
        project_dir=DBT_PROJECT,
        profiles_dir=str(PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),  # this environment's dbt
    )
    # dbt's artifacts and log may quote data (compiled SQL, error messages): restricted/
    target = settings.restricted_dir / "dbt"
    (target / "run_results.json").unlink(missing_ok=True)  # never an earlier run's results
    invocation = dbt.cli(
        ["build", "--vars", dbt_vars(settings)],
        context=context,
        raise_on_error=False,
        target_path=target,
    )
    try:
        events = list(invocation.stream())
    finally:  # never leave dbt running (and holding the working database) behind
        if invocation.process.poll() is None:
            invocation.process.kill()
            invocation.process.wait()
    run_results = invocation.get_artifact("run_results.json")
    with warehouse.connect() as con:
        builds = record_dbt_results(
            con, run_results, settings, context.run.run_id, context.log.info
        )
        rows = {
            b.table: con.execute(f"SELECT count(*) FROM {b.table}").fetchall()[0][0]
            for b in builds
            if b.current
        }
    for build in builds:
        if not build.current:
            context.log.error(build.detail or build.table)
    for event in events:
        if isinstance(event, dg.Output):
            table = ".".join(context.asset_key_for_output(event.output_name).path)
            if table in rows:
                event = event.with_metadata(
                    {
                        **event.metadata,
                        "dagster/row_count": rows[table],
                        "as_of": str(settings.as_of),
                    }
                )
        yield event


def ddl_schema(
    create_tables: Callable[[duckdb.DuckDBPyConnection], None],
) -> dict[str, tuple[str, list[dg.TableColumn]]]:
    """Comments and columns of tables Python writes (early warning, outcomes), from their DDL on
    an empty in-memory database: DDL only, never a model, so the catalog always loads."""
    con = duckdb.connect()
    try:
        create_tables(con)
        tables = con.execute(
            "SELECT schema_name || '.' || table_name, coalesce(comment, '') FROM duckdb_tables()"
        ).fetchall()
        schema = {name: (comment, []) for name, comment in tables}
        for table, name, data_type, comment in con.execute(
            "SELECT schema_name || '.' || table_name, column_name, data_type, comment "
            "FROM duckdb_columns() WHERE NOT internal ORDER BY schema_name, table_name, column_index"
        ).fetchall():
            schema[table][1].append(dg.TableColumn(name, data_type, description=comment or None))
    finally:
        con.close()
    return schema


def python_mart_specs(
    keys: list[dg.AssetKey],
    create_tables: Callable[[duckdb.DuckDBPyConnection], None],
    upstream: list[dg.AssetKey],
) -> list[dg.AssetSpec]:
    """The specs of marts a Python step writes: described by their DDL (ddl_schema)."""
    schema = ddl_schema(create_tables)
    return [
        dg.AssetSpec(
            key=key,
            group_name="marts",
            description=schema[".".join(key.path)][0],
            metadata={
                "dagster/column_schema": dg.TableSchema(columns=schema[".".join(key.path)][1])
            },
            kinds={"duckdb", "python"},
            deps=upstream,
        )
        for key in keys
    ]


def check_spec(check: DataCheck) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        check.name, asset=table_key(check.table), description=check.description
    )


def build_check(check: DataCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table_key(check.table),
        name=check.name,
        description=check.description,
        blocking=check.blocking,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            failures, sample = run_check(con, check)
        return dg.AssetCheckResult(
            passed=failures == 0,
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            metadata={"failing_rows": failures, "sample": sample or ""},
        )

    return _check


# The checks of tables built by ingest (staging: what was loaded adds up); the outcome marts'
# step runs its own (outcome_assets.py).
CHECK_DEFINITIONS = [build_check(check) for check in CHECKS if check.table.startswith("staging.")]
