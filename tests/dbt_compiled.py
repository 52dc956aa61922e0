"""The dbt project's SQL, compiled once (`dbt compile`, cached beside the project's manifest
until a project file changes), run directly on a test's DuckDB connection: each model's
SELECT as its table, in dependency order, with its YAML docs as COMMENTs; each data test's
query counted. Hundreds of small test warehouses cost milliseconds each instead of a
`dbt build` apiece; the integration tests run the real `dbt build`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb

from assets.ingest.validation import literal
from assets.warehouse.dbt_project import TARGET_DIR, ensure_manifest, qualified_name
from assets.warehouse.sql_functions import register_functions

# Compiled for the in-memory profile: relations are named "memory"."schema"."table".
_CATALOG = '"memory".'


@cache
def compiled_manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest("compile", TARGET_DIR / "compiled_manifest.json").read_text())


@dataclass(frozen=True)
class Model:
    table: str  # schema.table
    sql: str
    node: dict[str, Any]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    def upstream(self) -> list[str]:
        """The tables (models and sources, schema.table) it reads, from its ref()s."""
        manifest = compiled_manifest()
        nodes = {**manifest["nodes"], **manifest["sources"]}
        return sorted(qualified_name(nodes[i]) for i in self.node["depends_on"]["nodes"])


@dataclass(frozen=True)
class DataTest:
    """A dbt data test as the old checks were: table, name, blocking, failing-rows SQL."""

    table: str
    name: str
    description: str
    sql: str
    blocking: bool


@cache
def models() -> list[Model]:
    """Every model, each after the models it reads."""
    nodes = compiled_manifest()["nodes"]
    ordered: list[Model] = []
    done: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in done or unique_id not in nodes:
            return
        done.add(unique_id)
        node = nodes[unique_id]
        for parent in node["depends_on"]["nodes"]:
            visit(parent)
        if node["resource_type"] == "model":
            sql = node["compiled_code"].replace(_CATALOG, "")
            ordered.append(Model(qualified_name(node), sql, node))

    for unique_id in sorted(nodes):
        visit(unique_id)
    return ordered


def build(con: duckdb.DuckDBPyConnection, tables: list[str] | None = None) -> None:
    """Build `tables` (schema.table; default every model) from their compiled SQL."""
    register_functions(con)  # as the profile's plugin does on dbt's connections
    wanted = None if tables is None else set(tables)
    for model in models():
        if wanted is not None and model.table not in wanted:
            continue
        schema = model.table.split(".")[0]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"CREATE OR REPLACE TABLE {model.table} AS (\n{model.sql}\n)")
        _persist_docs(con, model)


def _persist_docs(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    if model.node.get("description"):
        con.execute(f"COMMENT ON TABLE {model.table} IS {literal(model.node['description'])}")
    for column in model.node["columns"].values():
        if column.get("description"):
            con.execute(
                f"COMMENT ON COLUMN {model.table}.{column['name']} "
                f"IS {literal(column['description'])}"
            )


@cache
def data_tests() -> list[DataTest]:
    nodes = compiled_manifest()["nodes"]
    found = []
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        found.append(
            DataTest(
                table=qualified_name(nodes[node["attached_node"]]),
                name=node["name"],
                description=node.get("description") or "",
                sql=node["compiled_code"].replace(_CATALOG, ""),
                blocking=(node["config"].get("severity") or "error").lower() == "error",
            )
        )
    return sorted(found, key=lambda t: (t.table, t.name))


def run_test(con: duckdb.DuckDBPyConnection, test: DataTest) -> tuple[int, str | None]:
    """(failing rows, a sample of them)."""
    rows = con.execute(test.sql).fetchall()
    sample = ", ".join(str(row[0] if len(row) == 1 else row) for row in rows[:20])
    return len(rows), (sample[:500] if rows else None)
