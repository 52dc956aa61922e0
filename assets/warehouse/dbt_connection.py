"""The dbt-duckdb plugin of the profile (assets/warehouse/dbt/profiles.yml): every connection
dbt opens gets the run's settings as DuckDB variables (`getvariable('as_of')`) and the
project's SQL functions, as the pipeline's own connections do."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from assets.settings import WORKING_DB_MEMORY_LIMIT, bind_settings, load_settings
from assets.warehouse.sql_functions import register_functions


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # the run's parameters (MENTORPULSE_* names), passed as a dbt var; the rest from the
        # environment, as load_settings does everywhere
        overrides = json.loads(plugin_config.get("settings") or "{}")
        self.settings = load_settings({**os.environ, **overrides})

    def configure_connection(self, conn) -> None:
        conn.execute("SET memory_limit = ?", [WORKING_DB_MEMORY_LIMIT])
        register_functions(conn)
        bind_settings(conn, self.settings)

    def configure_cursor(self, cursor) -> None:
        # a cursor is a connection of its own: variables and the time zone do not carry over
        with contextlib.suppress(duckdb.CatalogException):  # functions already in the catalog
            register_functions(cursor)
        bind_settings(cursor, self.settings)
