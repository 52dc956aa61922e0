"""The warehouse resource: one way to open the pipeline's working database, one lock per run.

A run holds an exclusive `flock` on `<data root>/run.lock` from its start to its end, so runs
writing under one data root go one at a time. The OS frees the lock the moment the process
dies (kill -9 included): a crash never blocks the next run, unlike a Dagster pool slot.

A run's parameters (as-of date, time zone, thresholds) come from its run config, set by the
CLI, the sensors and the schedule; the resource turns them into ONE `Settings` when the run
starts and hands that same object to every step, so a run crossing midnight computes for one D.

DuckDB allows one read-write process per file. Every writer goes through `connect()`, which
waits (bounded) for another process to release the file instead of failing, binds the run's
settings for the SQL files, and always closes the connection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from assets.run_lock import process_tags, run_lock
from assets.settings import (
    ENV_PREFIX,
    RUN_PARAMETERS,
    WORKING_DB_MEMORY_LIMIT,
    Settings,
    bind_settings,
    ensure_restricted_dir,
    load_settings,
)
from assets.warehouse.pseudonyms import ensure_participant_keys_table
from assets.warehouse.sql_functions import register_functions

LOCK_WAIT_SECONDS = 600
_LOCK_MESSAGE = "Could not set lock"

PARAMETER_TAG_PREFIX = "mentorpulse/"


def parameter_tags(settings: Settings) -> dict[str, str]:
    """The run's parameters as two tags, so the run's page in Dagster shows them without
    crowding the runs list: the as-of date, and the others in one (e.g. "timezone=UTC
    min_group_size=5 ..."); the run config and core.run_info hold them too."""
    values = settings.run_parameters()
    return {
        PARAMETER_TAG_PREFIX + "as_of": str(values.pop("as_of")),
        PARAMETER_TAG_PREFIX + "parameters": " ".join(f"{k}={v}" for k, v in values.items()),
    }


def run_config_for(settings: Settings) -> dict:
    """Run config that fixes the run's parameters (CLI, sensors and schedule all use it)."""
    return {"resources": {"warehouse": {"config": settings.run_parameters()}}}


@contextmanager
def open_working_db(settings: Settings, wait_seconds: float = LOCK_WAIT_SECONDS):
    """Open the working database read-write, waiting while another process holds it."""
    ensure_restricted_dir(settings.restricted_dir)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(settings.working_db_path))
            break
        except duckdb.IOException as error:
            if _LOCK_MESSAGE not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        settings.working_db_path.chmod(0o600)
        # Leave most of the machine to everything else: DuckDB spills to disk beyond this.
        # 1 GB keeps a large (50,000-match) run near 2.2 GB of RSS, against 2.6 GB at 2 GB
        # (docs/performance.md).
        con.execute("SET memory_limit = ?", [WORKING_DB_MEMORY_LIMIT])
        # Checkpoint less often than every 16 MB of WAL: each one rewrites the growing file,
        # which made ingest of many files a fifth slower. Closing checkpoints anyway.
        con.execute("SET checkpoint_threshold = '1GB'")
        register_functions(con)  # t_quantile_975() of the survey marts
        bind_settings(con, settings)
        ensure_participant_keys_table(con)  # read by core.run_info (the secret's fingerprint)
        yield con
    finally:
        con.close()


class WarehouseResource(dg.ConfigurableResource):
    """Run config (the run's parameters) overrides the environment; fixed once per run."""

    as_of: str | None = None
    timezone: str | None = None
    min_group_size: int | None = None
    lapse_days: int | None = None
    first_meeting_grace_days: int | None = None
    default_target_per_month: float | None = None
    freshness_days: int | None = None

    _settings: Settings | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        """The run's one Settings: built on first use (run start), the same object after."""
        if self._settings is None:
            env = dict(os.environ)
            for name in RUN_PARAMETERS:
                value = getattr(self, name)
                if value is not None:
                    env[ENV_PREFIX + name.upper()] = str(value)
            self._settings = load_settings(env)  # without an as-of date: today, once
        return self._settings

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        """For the whole run: fix its settings, hold the run lock, tag the run."""
        self._settings = None  # never one cached before this run (copies keep private state)
        settings = self.settings()
        run_id = context.run.run_id if context.run else None
        with run_lock(settings, run_id, log=context.log.info if context.log else None):
            if context.instance is not None and run_id:
                context.instance.add_run_tags(
                    run_id, {**parameter_tags(settings), **process_tags()}
                )
            yield self

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_working_db(self.settings()) as con:
            yield con
