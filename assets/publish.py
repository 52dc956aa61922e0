"""Publish the warehouse analysts open: build a new file aside, then swap it in atomically.

Only the `ingest`, `core` and `marts` schemas are copied (never staging or restricted), with
every table and column comment. An analyst holding the old file open keeps reading it
undisturbed (the rename replaces the directory entry, not the open file) and never sees a
half-built state; the next open sees the new one. The marts also go out as Parquet.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from assets.ingest.assets import WAREHOUSE_POOL
from assets.ingest.validation import ident, literal
from assets.resources import WarehouseResource
from assets.settings import Settings

PUBLISHED_SCHEMAS = ("ingest", "core", "marts")
PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])


@dataclass(frozen=True)
class Published:
    path: Path
    tables: int
    bytes: int
    parquet_files: int


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name IN (SELECT unnest(?)) "
        "ORDER BY schema_name, table_name",
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()


def _column_comments(con, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "AND comment IS NOT NULL ORDER BY column_index",
        [schema, table],
    ).fetchall()


def publish(con: duckdb.DuckDBPyConnection, settings: Settings) -> Published:
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.building")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)

    tables = _published_tables(con)
    con.execute("ATTACH ? AS published", [str(building)])
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"CREATE SCHEMA published.{schema}")
        for schema, table, comment in tables:
            name = f"{schema}.{ident(table)}"
            con.execute(f"CREATE TABLE published.{name} AS SELECT * FROM {name}")
            if comment:
                con.execute(f"COMMENT ON TABLE published.{name} IS {literal(comment)}")
            for column, column_comment in _column_comments(con, schema, table):
                con.execute(
                    f"COMMENT ON COLUMN published.{name}.{ident(column)} IS {literal(column_comment)}"
                )
    finally:
        con.execute("DETACH published")  # checkpoints: the file is complete on its own
    with open(building, "rb") as handle:
        os.fsync(handle.fileno())
    building.chmod(0o644)
    os.replace(building, target)

    parquet_files = export_parquet(con, [t for s, t, _ in tables if s == "marts"], settings)
    return Published(target, len(tables), target.stat().st_size, parquet_files)


def export_parquet(con, mart_tables: list[str], settings: Settings) -> int:
    """Each mart as warehouse/parquet/<table>.parquet, each file replaced atomically."""
    settings.parquet_dir.mkdir(parents=True, exist_ok=True)
    for table in mart_tables:
        final = settings.parquet_dir / f"{table}.parquet"
        partial = final.with_name(f".{final.name}.part")
        con.execute(f"COPY marts.{ident(table)} TO {literal(str(partial))} (FORMAT parquet)")
        os.replace(partial, final)
    return len(mart_tables)


def analyst_hint(settings: Settings) -> str:
    return (
        f"Published warehouse: {settings.published_path}\n"
        f"  open it read-only:  duckdb -readonly {settings.published_path}\n"
        f"  or in Python:       duckdb.connect('{settings.published_path}', read_only=True)\n"
        f"  Parquet for BI:     {settings.parquet_dir}/"
    )


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        group_name="publish",
        pool=WAREHOUSE_POOL,
        deps=upstream,
        description="warehouse/mentoring.duckdb for analysts (ingest, core, marts; no personal "
        "data), swapped in atomically, and the marts as Parquet.",
        kinds={"duckdb", "parquet"},
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with warehouse.connect() as con:
            result = publish(con, settings)
        context.log.info(analyst_hint(settings))
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": result.tables,
                "bytes": result.bytes,
                "parquet_files": result.parquet_files,
                "as_of": settings.as_of.isoformat(),
            }
        )

    return published_warehouse
