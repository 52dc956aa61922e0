"""The dbt project of the warehouse's SQL tables (assets/warehouse/dbt/): where it is, its
manifest, and how a run hands it the working database and its settings.

The manifest (what dbt knows without running anything: models, their columns and docs, tests,
dependencies) is made by `dbt parse` on first use and again whenever a project file is newer,
so the Dagster definitions load it without executing SQL: a broken model never stops the code
location from loading.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from assets.settings import ENV_PREFIX, Settings

PROJECT_DIR = Path(__file__).with_name("dbt")
TARGET_DIR = PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
# No usage statistics leave the machine, whoever calls dbt.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def _project_files() -> list[Path]:
    files = [PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += [p for p in (PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return files


def dbt_args(command: str, *args: str) -> list[str]:
    """A dbt command line for this project (the profile is the project's own)."""
    return [
        command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--quiet",
        *args,
    ]


def invoke(args: list[str]) -> Any:
    """Run dbt in this process (dbtRunner); raises with dbt's own message when it fails."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt {args[0]} failed: {result.exception or result.result}")
    return result.result


def ensure_manifest(command: str = "parse", path: Path = MANIFEST_PATH) -> Path:
    """The manifest of `dbt parse` (or `dbt compile`: with each node's SQL, for the tests),
    made again when any project file is newer. Made aside and renamed in, so processes
    starting together never read half a file."""
    newest = max(p.stat().st_mtime for p in _project_files())
    if path.exists() and path.stat().st_mtime >= newest:
        return path
    TARGET_DIR.mkdir(exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f"{command}-", dir=TARGET_DIR))
    try:
        invoke(dbt_args(command, "--target-path", str(aside)))
        os.replace(aside / "manifest.json", path)
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    return path


@cache
def manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest().read_text())


def dbt_vars(settings: Settings) -> str:
    """`--vars` for a run: the working database and the run's parameters (profiles.yml)."""
    parameters = {
        ENV_PREFIX + name.upper(): str(value) for name, value in settings.run_parameters().items()
    }
    return json.dumps(
        {"database": str(settings.working_db_path), "settings": json.dumps(parameters)}
    )


def qualified_name(node: dict[str, Any]) -> str:
    """schema.table of a model or source, as the warehouse names it."""
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def models(manifest_: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Every model of the project by its table's name (schema.table)."""
    nodes = (manifest_ or manifest())["nodes"].values()
    return {qualified_name(n): n for n in nodes if n["resource_type"] == "model"}


def staging_read_by(unique_id: str, manifest_: dict[str, Any] | None = None) -> list[str]:
    """The ingest tables a model reads, directly or through the models it reads."""
    manifest_ = manifest_ or manifest()
    found: set[str] = set()
    pending, seen = [unique_id], set()
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        if node_id in manifest_["sources"]:
            source = manifest_["sources"][node_id]
            if source["schema"] == "staging":
                found.add(qualified_name(source))
        elif node_id in manifest_["nodes"]:
            pending += manifest_["nodes"][node_id]["depends_on"]["nodes"]
    return sorted(found)
