"""Publish the warehouse analysts open: build it aside, then swap it in atomically.

Published is an explicit allowlist (`PUBLISHED_TABLES` and every `marts` table): aggregates
and pseudonymous match-level facts, never a table with a row per person, per survey response
or per answer, never staging or restricted. Each table goes with its table and column
comments. An analyst holding the old file open keeps reading it undisturbed (the rename
replaces the directory entry, not the open file) and never sees a half-built state.

Every published table also goes out as Parquet (`<table>.parquet` for a mart,
`<schema>.<table>.parquet` for the others), as one set per publication: written into a folder
aside, renamed to `warehouse/parquet-<version>/`, then `warehouse/parquet` (a symlink) is
switched to it in one rename. The published warehouse names its set in `ingest.publication`,
and every file carries in its key-value metadata the version, the table, the table's
description and its columns' descriptions (JSON). The previous set stays for readers still on
it; older ones, and the leftovers of a killed publish, go at the next publish.

Each publication is also kept by as-of date, `warehouse/history/<as_of>/mentoring.duckdb` and
`.../parquet/` (hard links, no copy), for the newest MENTORPULSE_KEEP_PUBLISHED as-of dates, so
last week's warehouse opens beside today's.
"""

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from assets.ingest.loader import ensure_tables
from assets.ingest.validation import ident, literal
from assets.resources import WarehouseResource
from assets.settings import Settings
from assets.warehouse.table_builds import ensure_state_table, tables_not_current
from assets.warehouse.table_keys import TABLE_KEYS, TABLE_KEYS_DDL, record_table_keys

# Published whole: these tables and every table of the marts schema. Nothing else.
PUBLISHED_TABLES = (
    "ingest.files",
    "ingest.quarantine",
    "ingest.publication",
    "ingest.table_builds",
    "ingest.table_keys",
    "core.matches",
    "core.meetings",
    "core.goals",
    "core.run_info",
)
PUBLISHED_SCHEMAS = ("marts",)
# Columns kept in a published table's shape but always published as NULL.
WITHHELD_COLUMNS = {
    "ingest.quarantine": ("raw_text",),
}
PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])
PARQUET_PREFIX = "parquet-"
VERSION_KEY = "mentorpulse_version"  # Parquet key-value metadata naming the set
TABLE_KEY = "mentorpulse_table"  # ... the published table (schema.table) the file holds
DESCRIPTION_KEY = "mentorpulse_description"  # ... the table's description (its COMMENT)
COLUMNS_KEY = "mentorpulse_columns"  # ... JSON: column name -> its description


@dataclass(frozen=True)
class Published:
    path: Path
    tables: int
    bytes: int
    parquet_files: int
    version: str


def published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    """(schema, table, comment) of every table that is published, in a stable order."""
    return con.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() AND (schema_name IN (SELECT unnest($schemas)) "
        "OR schema_name || '.' || table_name IN (SELECT unnest($tables))) "
        "ORDER BY schema_name, table_name",
        {"schemas": list(PUBLISHED_SCHEMAS), "tables": list(PUBLISHED_TABLES)},
    ).fetchall()


def _columns(con, schema: str, table: str) -> list[tuple[str, str, str | None]]:
    """(name, type, comment) of each column of a table of the working database."""
    return con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [schema, table],
    ).fetchall()


def publish(con: duckdb.DuckDBPyConnection, settings: Settings) -> Published:
    """The Parquet set first (complete under its final name), then the warehouse naming it,
    then the link: a crash at any point leaves what readers see whole."""
    warehouse = settings.warehouse_dir
    warehouse.mkdir(parents=True, exist_ok=True)
    remove_leftovers(warehouse)
    ensure_tables(con)  # ingest.publication
    ensure_state_table(con)  # ingest.table_builds
    con.execute(TABLE_KEYS_DDL)  # ingest.table_keys
    started = dt.datetime.now(dt.UTC)
    version = started.strftime("%Y%m%dT%H%M%S%fZ")
    tables = published_tables(con)
    named_before = _named_parquet_dir(con, settings.published_path)

    con.execute("BEGIN TRANSACTION")
    record_table_keys(con, [f"{schema}.{table}" for schema, table, _ in tables])
    con.execute("DELETE FROM ingest.publication")
    con.execute(
        "INSERT INTO ingest.publication VALUES (?, ?, ?, ?, ?)",
        [version, f"{PARQUET_PREFIX}{version}", len(tables), started, settings.as_of],
    )
    con.execute("COMMIT")
    # Every published table as Parquet, ingest.publication and ingest.table_keys included.
    parquet_dir = export_parquet(con, tables, warehouse, version)
    _build_database(con, tables, settings.published_path)
    linked_before = _switch_link(settings.parquet_dir, parquet_dir)
    # Readers may still be on the set the old link or the old warehouse named: keep those.
    _remove_old_sets(warehouse, keep={parquet_dir.name, linked_before, named_before})
    keep_by_as_of(settings, parquet_dir)
    target = settings.published_path
    return Published(target, len(tables), target.stat().st_size, len(tables), version)


def remove_leftovers(warehouse: Path) -> None:
    """What a killed publish left behind: files and folders being built, a link being swapped."""
    building = [*warehouse.glob(".*.building*"), *warehouse.glob("history/.*.building")]
    for leftover in [*building, *warehouse.glob(".*.swap")]:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)
        else:
            leftover.unlink(missing_ok=True)
    for partial in warehouse.glob("*/.*.part"):  # an export of the layout before sets
        partial.unlink(missing_ok=True)


def _withheld(schema: str, table: str, columns: list[tuple[str, str, str | None]]) -> str:
    """The REPLACE clause publishing a table's withheld columns as NULL ('' when none)."""
    withheld = WITHHELD_COLUMNS.get(f"{schema}.{table}", ())
    if not withheld:
        return ""
    types = {column: data_type for column, data_type, _ in columns}
    nulls = ", ".join(f"CAST(NULL AS {types[c]}) AS {ident(c)}" for c in withheld)
    return f" REPLACE ({nulls})"


def _build_database(con, tables: list[tuple[str, str, str | None]], target: Path) -> None:
    building = target.with_name(f".{target.name}.building")
    con.execute("ATTACH ? AS published", [str(building)])
    try:
        for schema in sorted({schema for schema, _, _ in tables}):
            con.execute(f"CREATE SCHEMA published.{ident(schema)}")
        for schema, table, comment in tables:
            name = f"{ident(schema)}.{ident(table)}"
            columns = _columns(con, schema, table)
            replace = _withheld(schema, table, columns)
            con.execute(f"CREATE TABLE published.{name} AS SELECT *{replace} FROM {name}")
            _declare_key(con, f"published.{name}", f"{schema}.{table}")
            if comment:
                con.execute(f"COMMENT ON TABLE published.{name} IS {literal(comment)}")
            for column, _, column_comment in columns:
                if column_comment is None:
                    continue
                con.execute(
                    f"COMMENT ON COLUMN published.{name}.{ident(column)} IS {literal(column_comment)}"
                )
    finally:
        con.execute("DETACH published")  # checkpoints: the file is complete on its own
    _fsync(building)
    building.chmod(0o644)
    os.replace(building, target)
    _fsync(target.parent)


def _declare_key(con, published_name: str, table: str) -> None:
    """The table's declared key (table_keys.py) as a constraint: a duplicate fails here, and
    the warehouse analysts have stays as it was."""
    if table not in TABLE_KEYS:
        return
    kind, columns = TABLE_KEYS[table]
    listed = ", ".join(ident(c) for c in columns)
    con.execute(f"ALTER TABLE {published_name} ADD {kind} ({listed})")


def parquet_name(schema: str, table: str) -> str:
    """A mart keeps its short name (<table>.parquet); other tables are <schema>.<table>.parquet."""
    return f"{table}.parquet" if schema == "marts" else f"{schema}.{table}.parquet"


def export_parquet(
    con, tables: list[tuple[str, str, str | None]], warehouse: Path, version: str
) -> Path:
    """Each published table as Parquet in warehouse/parquet-<version>/, withheld columns NULL
    as in the warehouse, with its description and its columns' descriptions in the file's
    key-value metadata; complete before it gets its name: a killed export leaves only a
    `.building` folder, never a mixed set."""
    final = warehouse / f"{PARQUET_PREFIX}{version}"
    building = warehouse / f".{final.name}.building"
    building.mkdir()
    for schema, table, comment in tables:
        name = f"{ident(schema)}.{ident(table)}"
        columns = _columns(con, schema, table)
        metadata = {
            VERSION_KEY: version,
            TABLE_KEY: f"{schema}.{table}",
            DESCRIPTION_KEY: comment or "",
            COLUMNS_KEY: json.dumps({c: d or "" for c, _, d in columns}, ensure_ascii=False),
        }
        kv = ", ".join(f"{k}: {literal(v)}" for k, v in metadata.items())
        path = building / parquet_name(schema, table)
        con.execute(
            f"COPY (SELECT *{_withheld(schema, table, columns)} FROM {name}) "
            f"TO {literal(str(path))} (FORMAT parquet, KV_METADATA {{{kv}}})"
        )
        _fsync(path)
    _fsync(building)
    os.rename(building, final)
    _fsync(warehouse)
    return final


def keep_by_as_of(settings: Settings, parquet_dir: Path) -> Path | None:
    """Keep this publication as history/<as_of>/: mentoring.duckdb and parquet/, hard links to
    the files just published (no copy; a later publish replaces the originals' names, not the
    files). The newest run of an as-of date replaces that date's; only the newest
    MENTORPULSE_KEEP_PUBLISHED as-of dates stay."""
    history = settings.history_dir
    if settings.keep_published == 0:
        return None
    history.mkdir(exist_ok=True)
    day = settings.as_of.isoformat()
    building = history / f".{day}.building"
    if building.exists():
        shutil.rmtree(building)
    (building / "parquet").mkdir(parents=True)
    os.link(settings.published_path, building / settings.published_path.name)
    for path in parquet_dir.iterdir():
        os.link(path, building / "parquet" / path.name)
    final = history / day
    if final.exists():
        old = history / f".{day}.old.building"
        os.rename(final, old)
        os.rename(building, final)
        shutil.rmtree(old)
    else:
        os.rename(building, final)
    kept = sorted(p.name for p in history.iterdir() if p.is_dir() and not p.name.startswith("."))
    for stale in kept[: -settings.keep_published]:
        shutil.rmtree(history / stale)
    _fsync(history)
    return final


def _switch_link(link: Path, target: Path) -> str | None:
    """Point `link` at `target` (a sibling folder) in one rename; the folder it named before."""
    before = os.readlink(link) if link.is_symlink() else None
    if link.is_dir() and not link.is_symlink():  # the layout before sets: a plain folder
        before = f"{PARQUET_PREFIX}legacy"
        os.rename(link, link.with_name(before))
    swap = link.with_name(f".{link.name}.swap")
    swap.unlink(missing_ok=True)
    os.symlink(target.name, swap)
    os.replace(swap, link)
    _fsync(link.parent)
    return before


def _named_parquet_dir(con, published: Path) -> str | None:
    """The Parquet folder the warehouse being replaced names (its readers may still use it)."""
    if not published.exists():
        return None
    try:
        con.execute("ATTACH ? AS previous (READ_ONLY)", [str(published)])
        try:
            rows = con.execute("SELECT parquet_dir FROM previous.ingest.publication").fetchall()
        finally:
            con.execute("DETACH previous")
    except duckdb.Error:  # published before publications were recorded
        return None
    return rows[0][0] if rows else None


def _remove_old_sets(warehouse: Path, keep: set[str | None]) -> None:
    for folder in warehouse.glob(f"{PARQUET_PREFIX}*"):
        if folder.name not in keep and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def analyst_hint(settings: Settings) -> str:
    return (
        f"Published warehouse: {settings.published_path}\n"
        f"  open it read-only:  duckdb -readonly {settings.published_path}\n"
        f"  or in Python:       duckdb.connect('{settings.published_path}', read_only=True)\n"
        f"  Parquet for BI:     {settings.parquet_dir}/ (the newest set; the set of a given "
        "warehouse is warehouse/<ingest.publication.parquet_dir>/)\n"
        f"  Earlier as-of dates: {settings.history_dir}/<YYYY-MM-DD>/mentoring.duckdb and "
        f"parquet/ (the newest {settings.keep_published} kept, MENTORPULSE_KEEP_PUBLISHED)"
    )


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        group_name="publish",
        deps=upstream,
        description="warehouse/mentoring.duckdb for analysts (an allowlist of ingest and core "
        "tables, and the marts; no personal data), swapped in atomically, every published "
        "table as one Parquet set, warehouse/parquet-<version>/, and both kept by as-of date "
        "under warehouse/history/<as_of>/.",
        kinds={"duckdb", "parquet"},
        check_specs=[
            dg.AssetCheckSpec(
                "tables_current",
                asset=PUBLISHED_KEY,
                description="Every published table is current for the run's as-of date: none "
                "kept older content because its build, a blocking check or a table it reads "
                "failed (ingest.table_builds says which and why).",
            )
        ],
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        settings = warehouse.settings()
        with warehouse.connect() as con:
            result = publish(con, settings)
            behind = tables_not_current(con)
        context.log.info(analyst_hint(settings))
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": result.tables,
                "bytes": result.bytes,
                "parquet_files": result.parquet_files,
                "parquet_version": result.version,
                "as_of": settings.as_of.isoformat(),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="tables_current",
                    passed=not behind,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "tables_not_current": ", ".join(t for t, _, _ in behind) or "none",
                        "why": dg.MetadataValue.md(
                            "\n".join(f"- {d or f'{t}: {s}'}" for t, s, d in behind) or "-"
                        ),
                    },
                )
            ],
        )

    return published_warehouse
