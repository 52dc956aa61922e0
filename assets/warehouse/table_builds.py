"""Build the warehouse's SQL tables in one pass, each only when its inputs changed.

A table's inputs are its SQL text, the settings it reads (`getvariable(...)`), the time zone,
the DuckDB version, and the content of every table it or its checks read. Their hash is recorded with the
table in `ingest.table_builds`; when a later run finds the same hash, the table is kept as it
is ("reused"): a rebuild would give the same rows, as the SQL is deterministic. Tables
downstream of a rebuilt one whose content came out the same are reused too (early cutoff), so
a nightly run with nothing new recomputes only what the calendar moves.

Each build is one transaction with its table's blocking checks: a table whose SQL fails, or
whose blocking check fails, keeps its previous content, and so does everything that reads it;
every other table is still built, and the run goes on to publish them.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.settings import Settings
from assets.warehouse.checks import DataCheck, run_check
from assets.warehouse.sql_runner import (
    SqlTable,
    SqlTableError,
    all_sql_tables,
    in_dependency_order,
    run_sql_table,
    tables_referenced,
)

STATE_SQL = Path(__file__).with_name("table_builds.sql")
CURRENT = ("built", "reused")
# SQL whose result changes from one run to the next whatever its inputs: always rebuilt.
_VOLATILE = re.compile(
    r"\b(current_timestamp|current_date|now\s*\(|today\s*\(|random\s*\(|uuid\s*\(|"
    r"gen_random_uuid\s*\()",
    re.IGNORECASE,
)
_VARIABLE = re.compile(r"getvariable\s*\(\s*'([a-z_]+)'\s*\)")


@dataclass
class TableBuild:
    """What one run did with one table; mirrors its ingest.table_builds row."""

    table: str
    status: str  # built | reused | failed | held_back | upstream_failed
    rows: int | None = None
    seconds: float = 0.0
    detail: str | None = None
    checks: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    content_hash: str | None = None  # of the content the table holds after the run

    @property
    def current(self) -> bool:
        return self.status in CURRENT


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STATE_SQL.read_text())


def build_tables(
    con: duckdb.DuckDBPyConnection,
    tables: list[SqlTable],
    checks: Iterable[DataCheck],
    settings: Settings,
    run_id: str | None,
    log: Callable[[str], None] = print,
) -> list[TableBuild]:
    """Build (or reuse) `tables` in dependency order, with their checks; never raises for a
    table's own failure: it is recorded, and what reads it is left as it was."""
    ensure_state_table(con)
    checks_of: dict[str, list[DataCheck]] = {}
    for check in checks:
        checks_of.setdefault(check.table, []).append(check)
    builder = _Builder(con, settings, run_id, log)
    ordered = _ordered(tables, checks_of)
    results = []
    for number, table in enumerate(ordered, start=1):
        result = builder.consider(table, checks_of.get(table.qualified_name, []))
        results.append(result)
        took = f" in {result.seconds:.1f} s" if result.status == "built" else ""
        log(f"[warehouse {number}/{len(ordered)}] {table.qualified_name}: {result.status}{took}")
        if result.detail:
            log(f"  {result.detail}")
    return results


def reads(table: SqlTable, checks: list[DataCheck]) -> list[str]:
    """Every table whose content the table's build or its checks depend on."""
    names = set(table.upstream())
    for check in checks:
        names.update(tables_referenced(check.sql))
    names.discard(table.qualified_name)
    return sorted(names)


def _ordered(tables: list[SqlTable], checks_of: dict[str, list[DataCheck]]) -> list[SqlTable]:
    """Each table after every table it or its checks read."""
    by_name = {t.qualified_name: t for t in tables}
    return in_dependency_order(by_name, lambda t: reads(t, checks_of.get(t.qualified_name, [])))


class _Builder:
    def __init__(self, con, settings: Settings, run_id: str | None, log) -> None:
        self.con = con
        self.settings = settings
        self.run_id = run_id
        self.log = log
        self.state = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT table_name, status, input_hash, content_hash, check_results, "
                "content_as_of, computed_in_run FROM ingest.table_builds"
            ).fetchall()
        }
        self.content: dict[str, str] = {}  # content hash of each table, as of now
        self.not_current: dict[str, str] = {}  # table -> why (this run)

    def consider(self, table: SqlTable, checks: list[DataCheck]) -> TableBuild:
        name = table.qualified_name
        started = time.perf_counter()
        inputs = reads(table, checks)
        stale = [n for n in inputs if n in self.not_current]
        if stale:
            result = TableBuild(
                name,
                "upstream_failed",
                detail=f"{name} kept its previous content: it reads {', '.join(stale)}, "
                "which is not current in this run",
            )
            return self._record(result, started, keep_previous=True)
        input_hash = self._input_hash(table, checks, inputs)
        previous = self.state.get(name)
        # The recorded input hash always describes the content the table holds (a failed
        # build keeps both), so a match means a rebuild would give those very rows.
        if (
            previous is not None
            and previous[1] == input_hash
            and not _VOLATILE.search(table.sql)
            and self._exists(name)
        ):
            self.content[name] = previous[2]
            checks_done = {k: tuple(v) for k, v in json.loads(previous[3] or "{}").items()}
            result = TableBuild(name, "reused", checks=checks_done)
            return self._record(result, started, input_hash=input_hash, reused_from=previous)
        return self._build(table, checks, input_hash, started)

    def _build(self, table: SqlTable, checks: list[DataCheck], input_hash: str, started):
        """The table, its checks and its state row in one transaction: a crash leaves the
        previous table with its previous state, never a new table under an old hash."""
        name = table.qualified_name
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            rows = run_sql_table(con, table)
            results = _run_checks(con, table, [c for c in checks if c.blocking])
            failing = [f"{c} ({n} rows: {s})" for c, (n, s) in results.items() if n]
            if failing:
                con.execute("ROLLBACK")
                detail = (
                    f"{name} kept its previous content: blocking check "
                    + "; ".join(failing)
                    + " failed on the new content"
                )
                result = TableBuild(name, "held_back", detail=detail, checks=results)
                return self._record(result, started, keep_previous=True)
            results |= _run_checks(con, table, [c for c in checks if not c.blocking])
            self.content[name] = content_hash(con, name)
            result = TableBuild(name, "built", rows=rows, checks=results)
            self._record(result, started, input_hash=input_hash)
            con.execute("COMMIT")
            return result
        except SqlTableError as error:
            con.execute("ROLLBACK")
            self.log(f"{error}")  # the whole error, for the operator (it may quote a value)
            detail = f"{failure_summary(error)}{blame(con, error, table)}"
            return self._record(TableBuild(name, "failed", detail=detail), started, True)
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _input_hash(self, table: SqlTable, checks: list[DataCheck], inputs: list[str]) -> str:
        sql = table.sql
        variables = sorted(set(_VARIABLE.findall(sql + "".join(c.sql for c in checks))))
        values = (
            self.con.execute(
                "SELECT " + ", ".join(f"CAST(getvariable('{v}') AS VARCHAR)" for v in variables)
            ).fetchall()[0]
            if variables
            else ()
        )
        payload = {
            "sql": sql,
            "checks": [c.sql for c in checks],
            "variables": dict(zip(variables, values, strict=True)),
            "timezone": self.settings.timezone,
            "duckdb": duckdb.__version__,  # another engine may round or order differently
            "reads": {n: self._content_of(n) for n in inputs},
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _content_of(self, name: str) -> str:
        """A table read but not built in this pass (staging, keys): hashed once per run."""
        if name not in self.content:
            self.content[name] = content_hash(self.con, name) if self._exists(name) else "-"
        return self.content[name]

    def _exists(self, name: str) -> bool:
        schema, table = name.split(".")
        return bool(
            self.con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ?",
                [schema, table],
            ).fetchall()[0][0]
        )

    def _record(
        self,
        result: TableBuild,
        started: float,
        keep_previous: bool = False,
        input_hash: str | None = None,
        reused_from: tuple | None = None,
    ) -> TableBuild:
        result.seconds = time.perf_counter() - started
        name = result.table
        previous = self.state.get(name)
        if keep_previous:
            self.not_current[name] = result.status
            # The content (and its hashes) stay those of the last build that was kept.
            input_hash = previous[1] if previous else None
            content = previous[2] if previous else None
            content_as_of = previous[4] if previous else None
            computed_in = previous[5] if previous else None
        else:
            content = self.content[name]
            content_as_of = self.settings.as_of
            computed_in = reused_from[5] if reused_from else self.run_id
        result.content_hash = content
        _write_state(
            self.con,
            result,
            content_as_of=content_as_of,
            run_id=self.run_id,
            computed_in=computed_in,
            input_hash=input_hash,
        )
        return result


def _run_checks(con, table: SqlTable, checks: list[DataCheck]) -> dict[str, tuple]:
    """A check whose own SQL fails counts as the table's failure (named as such)."""
    results = {}
    for check in checks:
        try:
            results[check.name] = run_check(con, check)
        except duckdb.Error as error:
            raise SqlTableError(table.qualified_name, f"its check {check.name}", error) from error
    return results


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
        result = TableBuild(name, status, seconds=seconds, detail=detail)
        if result.current:
            result.content_hash = content_hash(con, name)
            content_as_of, computed_in = settings.as_of, run_id
        else:  # what the table holds, and since when, stays as recorded
            previous = con.execute(
                "SELECT content_hash, content_as_of, computed_in_run FROM ingest.table_builds "
                "WHERE table_name = ?",
                [name],
            ).fetchone()
            result.content_hash, content_as_of, computed_in = previous or (None, None, None)
        _write_state(
            con,
            result,
            content_as_of=content_as_of,
            run_id=run_id,
            computed_in=computed_in,
            input_hash=None,
        )


def _write_state(
    con: duckdb.DuckDBPyConnection,
    result: TableBuild,
    *,
    content_as_of,
    run_id: str | None,
    computed_in: str | None,
    input_hash: str | None,
) -> None:
    """One table's ingest.table_builds row, replacing the one before."""
    con.execute(
        "INSERT OR REPLACE INTO ingest.table_builds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.table,
            result.status,
            result.current,
            content_as_of,
            run_id,
            computed_in,
            round(result.seconds, 3),
            result.detail,
            input_hash,
            result.content_hash,
            json.dumps(result.checks),
        ],
    )


def content_hash(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Order-independent hash of a table's rows and columns (a sum, so duplicate rows count)."""
    columns = con.execute(
        "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) "
        "FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name || '.' || table_name = ?",
        [name],
    ).fetchall()[0][0]
    rows, total = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {name} AS t"
    ).fetchall()[0]
    return hashlib.sha256(f"{columns}|{rows}|{total}".encode()).hexdigest()


def failure_summary(error: SqlTableError) -> str:
    """The table, its SQL file and the kind of error; never the error's own text, which can
    quote a value of the data (the detail is published; the whole error goes to the log)."""
    cause = error.__cause__
    kind = str(cause).split(":", 1)[0] if cause is not None else "error"
    return f"{error.table} kept its previous content: {error.sql_file} failed ({kind})"


_QUOTED = re.compile(r"'([^'\n]{1,200})'")
_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])", re.IGNORECASE)
MAX_BLAMED = 3


def blame(con: duckdb.DuckDBPyConnection, error: SqlTableError, table: SqlTable) -> str:
    """The landed records holding a value the error quotes: file, line and column, found in
    the staging tables the table reads, directly or through other tables."""
    message = str(error.__cause__ or error)
    values = set(_QUOTED.findall(message)) | {
        n for n in _NUMBER.findall(message) if len(n) >= 3 and not n.isdigit()
    }
    if not values:
        return ""
    found: list[str] = []
    for staging in staging_tables_read(table):
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
                return "; the value the error names is in landing/" + ", ".join(found[:MAX_BLAMED])
    return "; the value the error names is in landing/" + ", ".join(found) if found else ""


def staging_tables_read(table: SqlTable) -> list[str]:
    """The staging tables a table reads, directly or through the SQL tables it reads."""
    by_name = {t.qualified_name: t for t in all_sql_tables()}
    by_name[table.qualified_name] = table
    found: set[str] = set()
    pending = [table.qualified_name]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("staging."):
            found.add(name)
        elif name in by_name:
            pending += by_name[name].upstream()
    return sorted(found)
