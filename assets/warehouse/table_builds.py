"""`ingest.table_builds`: per warehouse table, whether its content is current and why not.

dbt builds the SQL tables (assets/warehouse/dbt/), each table in its own transaction with its
blocking data tests (macros/audit_blocking_tests.sql): a table whose SQL or blocking test fails
keeps its previous content, and dbt skips what reads it. The run's results become one row per
table here, which the publish check, `mentorpulse run` and the pages' banner read. The early
warning, a Python step, records its two marts the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from assets.settings import Settings
from assets.warehouse.dbt_project import PROJECT_DIR, manifest, qualified_name, staging_read_by

STATE_SQL = Path(__file__).with_name("table_builds.sql")
_BLOCKING = re.compile(r"blocking test (\w+) failed on (\d+) rows")
_ERROR_KIND = re.compile(r"^\s*([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)* Error):", re.MULTILINE)


@dataclass
class TableBuild:
    """What one run did with one table; mirrors its ingest.table_builds row."""

    table: str
    status: str  # built | failed | held_back | upstream_failed
    seconds: float = 0.0
    detail: str | None = None

    @property
    def current(self) -> bool:
        return self.status == "built"


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STATE_SQL.read_text())


def outcomes(
    run_results: dict[str, Any], manifest_: dict[str, Any] | None = None
) -> list[TableBuild]:
    """Each model of a dbt run's results (run_results.json) as a TableBuild, in run order."""
    manifest_ = manifest_ or manifest()
    nodes = manifest_["nodes"]
    found: list[TableBuild] = []
    not_current: set[str] = set()
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "model":
            continue
        table = qualified_name(node)
        build = TableBuild(table, "built", seconds=result.get("execution_time") or 0.0)
        message = result.get("message") or ""
        if result["status"] == "skipped":
            stale = sorted(
                qualified_name(nodes[parent])
                for parent in node["depends_on"]["nodes"]
                if parent in nodes and qualified_name(nodes[parent]) in not_current
            )
            build.status = "upstream_failed"
            build.detail = (
                f"{table} kept its previous content: it reads {', '.join(stale) or 'a table'}, "
                "which is not current in this run"
            )
        elif result["status"] == "error" and (blocked := _BLOCKING.search(message)):
            build.status = "held_back"
            build.detail = (
                f"{table} kept its previous content: blocking test {blocked[1]} "
                f"({blocked[2]} rows) failed on the new content"
            )
        elif result["status"] == "error":
            build.status = "failed"
            kind = _ERROR_KIND.search(message)
            model_file = (
                PROJECT_DIR.relative_to(PROJECT_DIR.parents[2]) / node["original_file_path"]
            )
            build.detail = (
                f"{table} kept its previous content: {model_file} failed "
                f"({kind[1] if kind else 'error'})"
            )
        if not build.current:
            not_current.add(table)
        found.append(build)
    return found


def record_dbt_results(
    con: duckdb.DuckDBPyConnection,
    run_results: dict[str, Any],
    settings: Settings,
    run_id: str | None,
    log: Callable[[str], None] = print,
    manifest_: dict[str, Any] | None = None,
) -> list[TableBuild]:
    """One ingest.table_builds row per model of the run; a failure's detail names the landed
    records holding a value its error quotes (the error itself, which may quote a value of the
    data, goes only to the log)."""
    ensure_state_table(con)
    by_id = {r["unique_id"]: r for r in run_results["results"]}
    manifest_ = manifest_ or manifest()
    nodes = {qualified_name(n): n for n in manifest_["nodes"].values()}
    builds = outcomes(run_results, manifest_)
    for build in builds:
        if build.status == "failed":
            node = nodes[build.table]
            message = by_id[node["unique_id"]].get("message") or ""
            log(f"{build.table}: {message}")
            build.detail = (build.detail or "") + blame(
                con, message, staging_read_by(node["unique_id"], manifest_)
            )
        write_state(con, build, settings, run_id)
    return builds


def write_state(
    con: duckdb.DuckDBPyConnection, build: TableBuild, settings: Settings, run_id: str | None
) -> None:
    """One table's row, replacing the one before; what a table not current holds, and since
    when, stays as recorded."""
    previous = con.execute(
        "SELECT content_as_of, computed_in_run FROM ingest.table_builds WHERE table_name = ?",
        [build.table],
    ).fetchone()
    if build.current:
        content_as_of, computed_in = settings.as_of, run_id
    else:
        content_as_of, computed_in = previous or (None, None)
    con.execute(
        "INSERT OR REPLACE INTO ingest.table_builds BY NAME SELECT ? AS table_name, ? AS status, "
        "? AS current, ? AS content_as_of, ? AS considered_in_run, ? AS computed_in_run, "
        "? AS seconds, ? AS detail",
        [
            build.table,
            build.status,
            build.current,
            content_as_of,
            run_id,
            computed_in,
            round(build.seconds, 3),
            build.detail,
        ],
    )


def tables_not_current(
    con: duckdb.DuckDBPyConnection, names: Iterable[str] | None = None
) -> list[tuple[str, str, str | None]]:
    """(table, status, detail) of every table a failure left with older content (of `names`
    only, when given), in name order."""
    ensure_state_table(con)
    rows = con.execute(
        "SELECT table_name, status, detail FROM ingest.table_builds WHERE NOT current "
        "ORDER BY table_name"
    ).fetchall()
    wanted = None if names is None else set(names)
    return [row for row in rows if wanted is None or row[0] in wanted]


def record_built_elsewhere(
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    status: str,
    settings: Settings,
    run_id: str | None,
    seconds: float,
    detail: str | None = None,
) -> None:
    """The state of tables a Python step builds (the early warning): built, or left with their
    previous content (failed / upstream_failed) when that step could not finish."""
    ensure_state_table(con)
    for name in names:
        write_state(con, TableBuild(name, status, seconds=seconds, detail=detail), settings, run_id)


_QUOTED = re.compile(r"'([^'\n]{1,200})'")
_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])", re.IGNORECASE)
MAX_BLAMED = 3


def blame(con: duckdb.DuckDBPyConnection, message: str, staging_tables: list[str]) -> str:
    """The landed records holding a value the error quotes: file, line and column, found in
    the staging tables the table reads, directly or through other tables."""
    values = set(_QUOTED.findall(message)) | {
        n for n in _NUMBER.findall(message) if len(n) >= 3 and not n.isdigit()
    }
    if not values:
        return ""
    found: list[str] = []
    for staging in staging_tables:
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
                " AND schema_name = 'staging' AND table_name = ? AND column_name NOT LIKE '\\_%'"
                " ESCAPE '\\'",
                [staging.split(".")[1]],
            ).fetchall()
        ]
        for column in columns:
            rows = con.execute(
                f'SELECT _source_path, _line FROM {staging} WHERE CAST("{column}" AS VARCHAR) '
                f"IN (SELECT unnest($values)) ORDER BY _source_path, _line LIMIT {MAX_BLAMED}",
                {"values": sorted(values)},
            ).fetchall()
            found += [f"{path} line {line} (column {column})" for path, line in rows]
            if len(found) >= MAX_BLAMED:
                break
        if len(found) >= MAX_BLAMED:
            break
    return (
        "; the value the error names is in landing/" + ", ".join(found[:MAX_BLAMED])
        if found
        else ""
    )
