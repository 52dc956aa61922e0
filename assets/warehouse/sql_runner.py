"""Run the warehouse's SQL files: one file per table, named as the table.

Parameters are bound once per connection as DuckDB variables (`getvariable('as_of')`), so the
SQL files are plain scripts that never have values formatted into them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.settings import Settings
from assets.warehouse.sql_functions import register_functions

SQL_DIR = Path(__file__).parent / "sql"
LAYERS = ("restricted", "core", "marts")
_TABLE_REF = re.compile(r"\b(staging|restricted|core|marts)\.([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class SqlTable:
    layer: str
    name: str
    path: Path

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def sql(self) -> str:
        """The file's text, each `-- @include NAME` line replaced by sql/shared/NAME.sql."""
        return expand_includes(self.path.read_text())

    @property
    def sql_file(self) -> str:
        """The file as the repository names it, for messages."""
        try:
            return str(self.path.resolve().relative_to(SQL_DIR.resolve().parents[2]))
        except ValueError:  # a table defined outside the repository's SQL folder
            return str(self.path)

    def upstream(self) -> list[str]:
        """Tables this file reads (schema.table), found in its text; itself excluded."""
        return [name for name in tables_referenced(self.sql) if name != self.qualified_name]


SHARED_SQL_DIR = SQL_DIR / "shared"
_INCLUDE = re.compile(r"^-- @include ([a-z_][a-z0-9_]*)[ \t]*$", re.MULTILINE)


def expand_includes(sql: str) -> str:
    """Shared SQL written once and used by several tables (e.g. the disclosure-control rule)."""
    return _INCLUDE.sub(lambda m: (SHARED_SQL_DIR / f"{m.group(1)}.sql").read_text(), sql)


def tables_referenced(sql: str) -> list[str]:
    return sorted({f"{schema}.{table}" for schema, table in _TABLE_REF.findall(sql)})


def sql_tables(layer: str) -> list[SqlTable]:
    return [SqlTable(layer, p.stem, p) for p in sorted((SQL_DIR / layer).glob("*.sql"))]


def all_sql_tables() -> list[SqlTable]:
    """Every core and mart table, in an order where each comes after what it reads."""
    tables = {t.qualified_name: t for layer in LAYERS for t in sql_tables(layer)}
    return in_dependency_order(tables, lambda table: table.upstream())


def in_dependency_order(
    tables: dict[str, SqlTable], reads: Callable[[SqlTable], list[str]]
) -> list[SqlTable]:
    """Each table after every table of `tables` it reads; a cycle (a file naming a table that
    reads it, even in a comment: dependencies come from the text) is an error, not an order."""
    ordered: list[SqlTable] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in done or name not in tables:
            return
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ValueError(f"the SQL tables read each other in a cycle: {cycle}")
        path.append(name)
        for dep in reads(tables[name]):
            visit(dep)
        path.pop()
        done.add(name)
        ordered.append(tables[name])

    for name in tables:
        visit(name)
    return ordered


def bind_settings(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Make the run's settings visible to SQL as variables, and local time the program's;
    and the functions the SQL calls (sql_functions.py) callable."""
    register_functions(con)
    con.execute("SET TimeZone = ?", [settings.timezone])
    values = {
        "as_of": ("DATE", settings.as_of),
        "timezone": ("VARCHAR", settings.timezone),
        "min_group_size": ("INTEGER", settings.min_group_size),
        "lapse_days": ("INTEGER", settings.lapse_days),
        "first_meeting_grace_days": ("INTEGER", settings.first_meeting_grace_days),
        "default_target_per_month": ("DOUBLE", settings.default_target_per_month),
        "freshness_days": ("INTEGER", settings.freshness_days),
    }
    for name, (sql_type, value) in values.items():
        con.execute(f"SET VARIABLE {name} = ?::{sql_type}", [value])


def run_sql_table(con: duckdb.DuckDBPyConnection, table: SqlTable) -> int:
    """(Re)build one table from its file; returns its row count.

    A file (with its includes) may hold one block between `-- @repeat-until-stable` and
    `-- @end-repeat`: its UPDATE statements run again and again until a whole pass changes no
    row (the fixed point of disclosure control, sql/shared/disclosure_control.sql).
    A failing statement raises SqlTableError naming the table and its SQL file.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.layer}")
    before, repeated, after = _split_repeat_block(table.sql)
    try:
        con.execute(before)
        if repeated:
            for _ in range(MAX_REPEAT_PASSES):
                changed = sum(con.execute(statement).fetchall()[0][0] for statement in repeated)
                if changed == 0:
                    break
            else:
                raise SqlTableError(
                    table.qualified_name, table.sql_file, "repeat block did not settle"
                )
            if after.strip():
                con.execute(after)
    except duckdb.Error as error:
        raise SqlTableError(table.qualified_name, table.sql_file, error) from error
    return con.execute(f"SELECT count(*) FROM {table.qualified_name}").fetchall()[0][0]


class SqlTableError(RuntimeError):
    """A warehouse table's SQL failed; the message names the table and its file."""

    def __init__(self, table: str, sql_file: str, error: BaseException | str) -> None:
        super().__init__(f"{table} could not be built ({sql_file}): {error}")
        self.table = table
        self.sql_file = sql_file


MAX_REPEAT_PASSES = 10_000
_REPEAT_START = "-- @repeat-until-stable"
_REPEAT_END = "-- @end-repeat"


def _split_repeat_block(sql: str) -> tuple[str, list[str], str]:
    if _REPEAT_START not in sql:
        return sql, [], ""
    before, rest = sql.split(_REPEAT_START, 1)
    block, after = rest.split(_REPEAT_END, 1)
    statements = [s.strip() for s in re.split(r";\s*\n", block + "\n") if _has_code(s)]
    return before, statements, after


def _has_code(statement: str) -> bool:
    return any(
        line.strip() and not line.strip().startswith("--") for line in statement.splitlines()
    )
