"""Loading the code location does not import the heavy libraries only some steps use.

Every run process, CLI run and the daemon's code server imports `pipelines.definitions`;
scikit-learn (the early warning), Plotly (the pages) and Great Expectations (the ingest gate)
are imported by the steps that need them (docs/performance.md, "Imports").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

LAZY = ("sklearn", "plotly", "great_expectations")


def modules_after(statement: str) -> set[str]:
    """Top-level packages in sys.modules after `statement`, in a fresh interpreter."""
    script = (
        f"{statement}\nimport json, sys\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORPULSE_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_definitions_do_not_import_heavy_libraries():
    loaded = modules_after(
        "from pipelines.definitions import defs\ndefs.resolve_job_def('refresh_all')"
    )
    assert "dagster" in loaded  # the probe sees what the import pulled in
    assert sorted(loaded & set(LAZY)) == []
