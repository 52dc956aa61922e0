"""Warehouse assets: one per SQL file (restricted, core, marts), made by one factory, plus the
participant keys and the data-quality checks. Dependencies come from the SQL text itself."""

import functools
import warnings

import dagster as dg
import duckdb

from assets.dictionary import empty_warehouse
from assets.ingest.contract import SOURCES
from assets.resources import WarehouseResource
from assets.warehouse.checks import CHECKS, DataCheck, run_check
from assets.warehouse.outcomes import OUTCOME_TABLES
from assets.warehouse.pseudonyms import sync_participant_keys
from assets.warehouse.sql_runner import SqlTable, all_sql_tables, tables_referenced
from assets.warehouse.table_builds import build_tables


def table_key(qualified_name: str) -> dg.AssetKey:
    return dg.AssetKey(qualified_name.split("."))


PARTICIPANT_KEYS = table_key("restricted.participant_keys")


@functools.cache
def _warehouse_schema() -> dict[str, tuple[str, list[dg.TableColumn]]]:
    """Every SQL table's COMMENT and columns (name, type, COMMENT), read from the schema built
    on an empty in-memory DuckDB (as the data dictionary is), so the catalog and the dictionary
    tell the same story. Built once per process, in well under a second."""
    try:
        con = empty_warehouse()
    except duckdb.Error as error:  # a broken SQL file fails its own asset, not the catalog
        warnings.warn(f"catalog column schemas unavailable: {error}", stacklevel=2)
        return {}
    try:
        tables = con.execute(
            "SELECT schema_name || '.' || table_name, coalesce(comment, '') FROM duckdb_tables() "
            "WHERE NOT internal"
        ).fetchall()
        columns = con.execute(
            "SELECT schema_name || '.' || table_name, column_name, data_type, comment "
            "FROM duckdb_columns() WHERE NOT internal "
            "ORDER BY schema_name, table_name, column_index"
        ).fetchall()
    finally:
        con.close()
    schema = {name: (comment, []) for name, comment in tables}
    for table, name, data_type, comment in columns:
        schema[table][1].append(dg.TableColumn(name, data_type, description=comment or None))
    return schema


@dg.asset(
    key=PARTICIPANT_KEYS,
    group_name="restricted",
    deps=[table_key(f"staging.{name}") for name in SOURCES],
    description="Pseudonymous key (HMAC-SHA256) of every participant_id referenced anywhere.",
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=_warehouse_schema().get("restricted.participant_keys", ("", []))[1]
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


def _description(table: SqlTable) -> str:
    comment, _ = _warehouse_schema().get(table.qualified_name, ("", []))
    if comment:
        return comment
    first = table.sql.lstrip().splitlines()[0] if table.sql.strip() else ""
    return first.removeprefix("--").strip() or table.qualified_name


def _catalog_metadata(table: SqlTable) -> dict[str, object]:
    """Definition metadata: the table's columns and its SQL file."""
    _, columns = _warehouse_schema().get(table.qualified_name, ("", []))
    with warnings.catch_warnings():  # code references are beta in dagster 1.13: a stable use
        warnings.simplefilter("ignore", dg.BetaWarning)
        sql_file = dg.LocalFileCodeReference(
            file_path=str(table.path.resolve()), line_number=1, label=f"{table.qualified_name} SQL"
        )
        references = dg.CodeReferencesMetadataValue(code_references=[sql_file])
    return {
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "dagster/code_references": references,
    }


def table_spec(table: SqlTable) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=table_key(table.qualified_name),
        group_name=table.layer,
        deps=[table_key(name) for name in table.upstream()],
        description=_description(table),
        metadata=_catalog_metadata(table),
        kinds={"duckdb", "sql"},
    )


def check_spec(check: DataCheck) -> dg.AssetCheckSpec:
    # Never blocking in Dagster's sense (that would stop publishing every other table): the
    # build step itself keeps a table's previous content when a blocking check fails.
    held = " A failure keeps the table's previous content (and that of what reads it)."
    return dg.AssetCheckSpec(
        check.name,
        asset=table_key(check.table),
        description=check.description + (held if check.blocking else ""),
        additional_deps=[
            table_key(name) for name in tables_referenced(check.sql) if name != check.table
        ],
    )


def build_warehouse_asset(
    tables: list[SqlTable], checks: list[DataCheck], name: str = "warehouse_tables"
) -> dg.AssetsDefinition:
    """One step builds every SQL table in order (table_builds.py): a table whose inputs did
    not change is reused, and a failing table holds back only itself and what reads it."""
    keys = {table_key(t.qualified_name) for t in tables}
    own_checks = [c for c in checks if table_key(c.table) in keys]

    @dg.multi_asset(
        name=name,
        specs=[table_spec(t) for t in tables],
        check_specs=[check_spec(c) for c in own_checks],
        can_subset=True,
    )
    def build(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings()
        selected = context.selected_asset_keys
        chosen = [t for t in tables if table_key(t.qualified_name) in selected]
        with warehouse.connect() as con:
            outcomes = build_tables(
                con, chosen, own_checks, settings, context.run.run_id, context.log.info
            )
            previews = {
                o.table: _markdown(con.sql(f"SELECT * FROM {o.table} LIMIT 5").pl())
                for o in outcomes
                if o.status == "built"
            }
        by_table = {t.qualified_name: t for t in tables}
        selected_checks = context.selected_asset_check_keys
        for outcome in outcomes:
            if not outcome.current:
                context.log.error(outcome.detail or outcome.table)
            key = table_key(outcome.table)
            metadata = {
                "status": outcome.status,
                "as_of": settings.as_of.isoformat(),
                "seconds": round(outcome.seconds, 3),
                "sql_file": by_table[outcome.table].sql_file,
            }
            if outcome.rows is not None:
                metadata |= {"rows": outcome.rows, "dagster/row_count": outcome.rows}
            if outcome.detail:
                metadata["detail"] = outcome.detail
            if outcome.table in previews:
                metadata["preview"] = dg.MetadataValue.md(previews[outcome.table])
            # The data version is the content's hash: unchanged when reused or held back.
            version = outcome.content_hash
            yield dg.MaterializeResult(
                asset_key=key,
                metadata=metadata,
                data_version=dg.DataVersion(version) if version else None,
            )
            for check in own_checks:
                if check.table != outcome.table:
                    continue
                if dg.AssetCheckKey(key, check.name) not in selected_checks:
                    continue
                failures, sample = outcome.checks.get(check.name, (None, None))
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=check.name,
                    passed=failures == 0,
                    severity=dg.AssetCheckSeverity.ERROR
                    if check.blocking
                    else dg.AssetCheckSeverity.WARN,
                    metadata={
                        "failing_rows": failures if failures is not None else -1,
                        "sample": sample or "",
                        "table_status": outcome.status,
                    },
                )

    return build


def _markdown(frame) -> str:
    if frame.height == 0:
        return "(no rows)"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *rows])


def build_check(check: DataCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table_key(check.table),
        name=check.name,
        description=check.description,
        blocking=check.blocking,
        additional_deps=[
            table_key(name) for name in tables_referenced(check.sql) if name != check.table
        ],
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


WAREHOUSE_TABLES = build_warehouse_asset(all_sql_tables(), CHECKS)
# The checks of tables built elsewhere (staging: what ingest loaded adds up); the outcome
# marts' step runs its own (outcome_assets.py).
CHECK_DEFINITIONS = [
    build_check(check)
    for check in CHECKS
    if table_key(check.table) not in WAREHOUSE_TABLES.keys and check.table not in OUTCOME_TABLES
]
