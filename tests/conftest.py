"""Shared fixtures: a throw-away data root with its own settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assets.settings import Settings, load_settings

# The contract's own small examples (a copy of shared/spec/examples/landing).
EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "landing"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a fresh data root under tmp_path (environment variables, as in production)."""
    for name in list(__import__("os").environ):
        if name.startswith("MENTORPULSE_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # runs use an ephemeral instance
    monkeypatch.setenv("MENTORPULSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MENTORPULSE_AS_OF", "2026-03-15")
    monkeypatch.setenv("MENTORPULSE_TIMEZONE", "Europe/Lisbon")
    return load_settings()


def write_landing(settings: Settings, relative: str, content: str | bytes) -> Path:
    path = settings.landing_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def copy_examples(settings: Settings) -> None:
    shutil.copytree(EXAMPLES, settings.landing_dir, dirs_exist_ok=True)
