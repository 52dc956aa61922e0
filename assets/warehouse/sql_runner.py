"""Run the warehouse's SQL files: one file per table, named as the table.

Parameters are bound once per connection as DuckDB variables (`getvariable('as_of')`), so the
SQL files are plain scripts that never have values formatted into them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.settings import Settings

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
    ordered: list[SqlTable] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in tables:
            return
        seen.add(name)
        for dep in tables[name].upstream():
            visit(dep)
        ordered.append(tables[name])

    for name in tables:
        visit(name)
    return ordered


def bind_settings(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Make the run's settings visible to SQL as variables, and local time the program's."""
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
                raise SqlTableError(f"{table.qualified_name}: repeat block did not settle")
            if after.strip():
                con.execute(after)
    except duckdb.Error as error:
        raise SqlTableError(
            f"{table.qualified_name} could not be built (assets/warehouse/sql/{table.layer}/"
            f"{table.path.name}): {error}"
        ) from error
    return con.execute(f"SELECT count(*) FROM {table.qualified_name}").fetchall()[0][0]


class SqlTableError(RuntimeError):
    """A warehouse table's SQL failed; the message names the table and its file."""


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
