"""The whole graph run once on the demo sample data, shared by the integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from assets.settings import Settings, load_settings
from sample_data.generator import DEFAULT_END_DATE


@dataclass(frozen=True)
class DemoRun:
    settings: Settings
    env: dict[str, str]
    output: str

    def published(self, sql: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.settings.published_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def demo_env(data_dir: Path, **extra: str) -> dict[str, str]:
    # Each test gets its own settings, and an ephemeral Dagster instance (no DAGSTER_HOME).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MENTORPULSE_") and k != "DAGSTER_HOME"
    }
    return {
        **env,
        "MENTORPULSE_DATA_DIR": str(data_dir),
        "MENTORPULSE_AS_OF": DEFAULT_END_DATE.isoformat(),
        "MENTORPULSE_TIMEZONE": "Europe/Lisbon",
        **extra,
    }


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    mentorpulse = Path(sys.executable).with_name("mentorpulse")
    return subprocess.run(
        [str(mentorpulse), *args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    env = demo_env(data_dir)
    completed = run_cli(env, "demo")
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    return DemoRun(load_settings(env), env, completed.stdout)
