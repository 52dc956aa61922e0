"""Two DuckDB warehouses compared table by table, exactly: the same tables, the same column
names and types in the same order, and the same multiset of rows (EXCEPT ALL both ways).

Values are compared as text: DuckDB renders a DOUBLE with the shortest digits that read back
to the same bits, so equal text is equal bits; the one case it renders alike, -0.0 and 0.0,
is told apart by the sign bit. Used by tests/integration/test_incremental_exactness.py.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SHOWN_ROWS = 5  # differing rows shown per side of a table that differs
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def differences(
    left: Path,
    right: Path,
    schemas: tuple[str, ...],
    excluded: dict[str, dict[str, str]],
    labels: tuple[str, str] = ("left", "right"),
) -> list[str]:
    """One description per table of `schemas` that differs between the two files (empty when
    they are equal). `excluded` maps "schema.table" to {column: why it may differ}."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(str(left))} AS a (READ_ONLY)")
        con.execute(f"ATTACH {_literal(str(right))} AS b (READ_ONLY)")
        found = []
        for schema in schemas:
            tables_a, tables_b = _tables(con, "a", schema), _tables(con, "b", schema)
            for missing, side in (
                (tables_b - tables_a, labels[0]),
                (tables_a - tables_b, labels[1]),
            ):
                found += [f"{schema}.{t}: missing from the {side} build" for t in sorted(missing)]
            for table in sorted(tables_a & tables_b):
                name = f"{schema}.{table}"
                problem = _table_difference(con, name, excluded.get(name, {}), labels)
                if problem:
                    found.append(problem)
        return found
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?",
        [catalog, schema],
    ).fetchall()
    return {name for (name,) in rows}


def _columns(con, catalog: str, name: str) -> list[tuple[str, str]]:
    schema, table = name.split(".")
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [catalog, schema, table],
    ).fetchall()


def _as_text(column: str, data_type: str) -> str:
    quoted = ident(column)
    if data_type in FLOAT_TYPES:
        # -0.0 renders as 0.0: the sign bit keeps them apart (and the signs of NaN).
        return (
            f"CASE WHEN signbit({quoted}) THEN '-' || CAST(abs({quoted}) AS VARCHAR) "
            f"ELSE CAST({quoted} AS VARCHAR) END AS {quoted}"
        )
    return f"CAST({quoted} AS VARCHAR) AS {quoted}"


def _table_difference(con, name: str, excluded: dict[str, str], labels) -> str | None:
    columns_a, columns_b = _columns(con, "a", name), _columns(con, "b", name)
    if columns_a != columns_b:
        return f"{name}: columns differ\n  {labels[0]}: {columns_a}\n  {labels[1]}: {columns_b}"
    compared = [(c, t) for c, t in columns_a if c not in excluded]
    select = ", ".join(_as_text(c, t) for c, t in compared)
    rows_a, rows_b = (f"SELECT {select} FROM {side}.{name}" for side in ("a", "b"))
    only_a = f"({rows_a} EXCEPT ALL {rows_b})"
    only_b = f"({rows_b} EXCEPT ALL {rows_a})"
    count_a, count_b, n_only_a, n_only_b = con.execute(
        f"SELECT (SELECT count(*) FROM a.{name}), (SELECT count(*) FROM b.{name}), "
        f"(SELECT count(*) FROM {only_a}), (SELECT count(*) FROM {only_b})"
    ).fetchone()
    if count_a == count_b and n_only_a == n_only_b == 0:
        return None
    names = [c for c, _ in compared]
    differing = [
        c
        for c in names
        if con.execute(
            f"SELECT count(*) FROM (SELECT {ident(c)} FROM ({rows_a}) "
            f"EXCEPT ALL SELECT {ident(c)} FROM ({rows_b}))"
        ).fetchone()[0]
        or con.execute(
            f"SELECT count(*) FROM (SELECT {ident(c)} FROM ({rows_b}) "
            f"EXCEPT ALL SELECT {ident(c)} FROM ({rows_a}))"
        ).fetchone()[0]
    ]
    lines = [
        f"{name}: {count_a} rows in the {labels[0]} build, {count_b} in the {labels[1]} build; "
        f"{n_only_a} rows only in the {labels[0]}, {n_only_b} only in the {labels[1]}",
        f"  columns whose values differ: {', '.join(differing) or '(none: only row counts)'}",
        f"  columns: {', '.join(names)}",
    ]
    if excluded:
        lines.append(f"  not compared: {', '.join(excluded)}")
    for label, rows in ((labels[0], only_a), (labels[1], only_b)):
        shown = con.execute(f"SELECT * FROM {rows} ORDER BY ALL LIMIT {SHOWN_ROWS}").fetchall()
        lines += [f"  only in {label}: {row}" for row in shown]
    return "\n".join(lines)
