"""The warehouse resource: one way to open the pipeline's working database.

DuckDB allows one read-write process per file. Every writer goes through `connect()`, which
waits (bounded) for another run to release the file instead of failing, binds the run's
settings for the SQL files, and always closes the connection.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from assets.settings import Settings, ensure_restricted_dir, load_settings
from assets.warehouse.sql_runner import bind_settings

LOCK_WAIT_SECONDS = 600
WORKING_DB_MEMORY_LIMIT = "2GB"
_LOCK_MESSAGE = "Could not set lock"


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
        con.execute("SET memory_limit = ?", [WORKING_DB_MEMORY_LIMIT])
        # Checkpoint less often than every 16 MB of WAL: each one rewrites the growing file,
        # which made ingest of many files a fifth slower. Closing checkpoints anyway.
        con.execute("SET checkpoint_threshold = '1GB'")
        bind_settings(con, settings)
        yield con
    finally:
        con.close()


class WarehouseResource(dg.ConfigurableResource):
    """Settings come from the environment; `as_of` overrides MENTORPULSE_AS_OF for one run."""

    as_of: str | None = None

    def settings(self) -> Settings:
        settings = load_settings()
        if self.as_of:
            settings = settings.with_as_of(dt.date.fromisoformat(self.as_of))
        return settings

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_working_db(self.settings()) as con:
            yield con
