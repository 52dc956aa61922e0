"""The real pipeline on the example exports: land them, ingest every landing source into a real
working database, build core and marts, and read the results back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from assets.ingest.contract import LANDING_SOURCES
from assets.ingest.loader import FileResult, ingest_source
from assets.resources import open_working_db
from assets.settings import Settings
from assets.warehouse.outcomes import build_outcome_marts
from assets.warehouse.pseudonyms import sync_participant_keys
from tests import dbt_compiled
from tests.dbt_compiled import data_tests, run_test

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"


def land(settings: Settings, *relative: str) -> None:
    """Copy example files (paths under tests/fixtures/exports, as under landing/)."""
    for name in relative:
        target = settings.landing_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXPORTS / name, target)


ROSTER = ("roster/participants_2026-01-10.csv", "roster/matches_2026-01-10.csv")


def ingest(settings: Settings) -> dict[str, FileResult]:
    """Every landing source in order (roster first), as a run does; results by path."""
    with open_working_db(settings) as con:
        return {
            result.path: result
            for source in LANDING_SOURCES.values()
            for result in ingest_source(con, source, settings.landing_dir, log=lambda m: None)
        }


def build(settings: Settings) -> list[str]:
    """Core and marts for the settings' as-of date; returns the blocking checks that fail."""
    with open_working_db(settings) as con:
        sync_participant_keys(con, settings.pseudonym_key())
        dbt_compiled.build(con)
        build_outcome_marts(con, settings)  # the outcome marts (Python), after what they read
        return [
            f"{check.table}:{check.name}"
            for check in data_tests()
            if check.blocking and run_test(con, check)[0] > 0
        ]


def rows(settings: Settings, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    with open_working_db(settings) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def quarantine(settings: Settings, path: str) -> dict[int, str]:
    """line -> reason of the records quarantined from one file."""
    found = rows(settings, "SELECT line, reason FROM ingest.quarantine WHERE path = ?", [path])
    return {row["line"]: row["reason"] for row in found}
