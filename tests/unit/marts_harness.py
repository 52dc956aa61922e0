"""A small warehouse for mart tests: empty core tables, rows a test adds, the marts run on top.

The core tables are created with exactly the columns of docs/core_tables.md, so the marts are
tested against the contract, not against whatever the core SQL happens to produce. Only the
mart files run (in dependency order); core is whatever the test inserted. The SQL is the dbt project's, compiled once per session
(tests/dbt_compiled.py).

    wh = MartsHarness(as_of="2024-06-30")
    wh.add_match("m1", matched_on="2024-05-01")
    wh.add_meeting("m1", "2024-05-10")
    wh.run()
    wh.one("match_cadence", match_id="m1")["meetings_held"]  # -> 1
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from assets.settings import Settings, bind_settings, load_settings
from assets.warehouse.outcomes import build_outcome_marts
from tests import dbt_compiled

# docs/core_tables.md, column for column.
CORE_TABLES: dict[str, list[tuple[str, str]]] = {
    "participants": [
        ("participant_key", "VARCHAR"),
        ("department", "VARCHAR"),
        ("location", "VARCHAR"),
        ("joined_on", "DATE"),
    ],
    "matches": [
        ("match_id", "VARCHAR"),
        ("program", "VARCHAR"),
        ("cohort", "VARCHAR"),
        ("mentor_key", "VARCHAR"),
        ("mentee_key", "VARCHAR"),
        ("matched_on", "DATE"),
        ("ended_on", "DATE"),
        ("end_reason", "VARCHAR"),
        ("target_meetings_per_month", "DOUBLE"),
    ],
    "meetings": [
        ("meeting_id", "VARCHAR"),
        ("match_id", "VARCHAR"),
        ("status", "VARCHAR"),
        ("start_at", "TIMESTAMPTZ"),
        ("meeting_date", "DATE"),
        ("duration_minutes", "INTEGER"),
        ("channel", "VARCHAR"),
        ("event_count", "INTEGER"),
        ("first_event_at", "TIMESTAMPTZ"),
        ("last_event_at", "TIMESTAMPTZ"),
    ],
    "goals": [
        ("goal_id", "VARCHAR"),
        ("match_id", "VARCHAR"),
        ("horizon", "VARCHAR"),
        ("category", "VARCHAR"),
        ("target_date", "DATE"),
        ("has_measure", "BOOLEAN"),
        ("set_on", "DATE"),
        ("status", "VARCHAR"),
        ("progress_pct", "DOUBLE"),
        ("achieved_on", "DATE"),
        ("last_event_at", "TIMESTAMPTZ"),
    ],
    "survey_responses": [
        ("response_id", "VARCHAR"),
        ("survey_id", "VARCHAR"),
        ("instrument", "VARCHAR"),
        ("respondent_key", "VARCHAR"),
        ("match_id", "VARCHAR"),
        ("role", "VARCHAR"),
        ("submitted_at", "TIMESTAMPTZ"),
        ("submitted_on", "DATE"),
        ("guidance", "INTEGER"),
        ("networking", "INTEGER"),
        ("skills", "INTEGER"),
        ("feedback", "INTEGER"),
        ("communication", "INTEGER"),
        ("satisfaction", "INTEGER"),
        ("nps", "INTEGER"),
        ("has_comment", "BOOLEAN"),
    ],
    "followups": [
        ("followup_id", "VARCHAR"),
        ("match_id", "VARCHAR"),
        ("contacted_on", "DATE"),
        ("channel", "VARCHAR"),
        ("outcome", "VARCHAR"),
    ],
    "invitations": [
        ("survey_id", "VARCHAR"),
        ("participant_key", "VARCHAR"),
        ("match_id", "VARCHAR"),
        ("role", "VARCHAR"),
        ("sent_at", "TIMESTAMPTZ"),
        ("sent_on", "DATE"),
    ],
}

SURVEY_ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")


# Core tables computed from other core tables only: built from the rows a test adds, as the
# marts are.
DERIVED_CORE_TABLES = ("core.known_matches",)


def mart_tables() -> list[dbt_compiled.Model]:
    """The marts' models, each after the tables it reads."""
    return [m for m in dbt_compiled.models() if m.table.startswith("marts.")]


def _date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _noon_utc(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


class MartsHarness:
    """An in-memory DuckDB with the core tables of the contract and the marts built on them."""

    def __init__(
        self,
        as_of: str = "2024-06-30",
        *,
        timezone: str = "UTC",
        min_group_size: int = 5,
        lapse_days: int = 60,
        first_meeting_grace_days: int = 14,
        default_target_per_month: float = 2,
    ) -> None:
        self.settings: Settings = load_settings(
            {
                "MENTORPULSE_AS_OF": as_of,
                "MENTORPULSE_TIMEZONE": timezone,
                "MENTORPULSE_MIN_GROUP_SIZE": str(min_group_size),
                "MENTORPULSE_LAPSE_DAYS": str(lapse_days),
                "MENTORPULSE_FIRST_MEETING_GRACE_DAYS": str(first_meeting_grace_days),
                "MENTORPULSE_DEFAULT_TARGET_PER_MONTH": str(default_target_per_month),
                "MENTORPULSE_PSEUDONYM_KEY": "test-key",
            }
        )
        self.con = duckdb.connect(":memory:")
        self.con.execute("CREATE SCHEMA core")
        for table, columns in CORE_TABLES.items():
            column_sql = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
            self.con.execute(f"CREATE TABLE core.{table} ({column_sql})")
        self._ids = itertools.count(1)

    # --- inserting core rows -------------------------------------------------------------
    def insert(
        self,
        table: str,
        rows: pl.DataFrame | Iterable[Mapping[str, Any] | Sequence[Any]],
    ) -> None:
        """Add rows to core.<table>: a polars DataFrame (by column name), dicts (missing
        columns NULL) or tuples (every column, in the documented order)."""
        columns = [name for name, _ in CORE_TABLES[table]]
        if isinstance(rows, pl.DataFrame):
            self.con.register("_incoming_rows", rows)
            try:
                self.con.execute(f"INSERT INTO core.{table} BY NAME SELECT * FROM _incoming_rows")
            finally:
                self.con.unregister("_incoming_rows")
            return
        values = []
        for row in rows:
            if isinstance(row, Mapping):
                unknown = set(row) - set(columns)
                if unknown:
                    raise KeyError(f"core.{table} has no column(s) {sorted(unknown)}")
                values.append([row.get(name) for name in columns])
            else:
                if len(row) != len(columns):
                    raise ValueError(f"core.{table} rows need {len(columns)} values")
                values.append(list(row))
        if values:
            placeholders = ", ".join("?" for _ in columns)
            self.con.executemany(f"INSERT INTO core.{table} VALUES ({placeholders})", values)

    def add_match(
        self,
        match_id: str,
        matched_on: str,
        *,
        program: str = "P",
        cohort: str = "C1",
        ended_on: str | None = None,
        target: float | None = None,
        end_reason: str | None = None,
    ) -> None:
        self.insert(
            "matches",
            [
                {
                    "match_id": match_id,
                    "program": program,
                    "cohort": cohort,
                    "mentor_key": f"mentor-{match_id}",
                    "mentee_key": f"mentee-{match_id}",
                    "matched_on": _date(matched_on),
                    "ended_on": _date(ended_on),
                    "end_reason": end_reason,
                    "target_meetings_per_month": target,
                }
            ],
        )

    def add_meeting(
        self,
        match_id: str,
        meeting_date: str | None,
        status: str = "completed",
        *,
        meeting_id: str | None = None,
        event_count: int = 1,
    ) -> str:
        """A folded meeting as core gives it; meeting_date None = no scheduled_start seen."""
        meeting_id = meeting_id or f"mt{next(self._ids)}"
        day = _date(meeting_date)
        self.insert(
            "meetings",
            [
                {
                    "meeting_id": meeting_id,
                    "match_id": match_id,
                    "status": status,
                    "start_at": _noon_utc(day),
                    "meeting_date": day,
                    "duration_minutes": 45 if status == "completed" else None,
                    "channel": "video",
                    "event_count": event_count,
                    "first_event_at": _noon_utc(day),
                    "last_event_at": _noon_utc(day),
                }
            ],
        )
        return meeting_id

    def add_goal(
        self,
        match_id: str,
        set_on: str,
        status: str = "open",
        *,
        goal_id: str | None = None,
        horizon: str = "short_term",
        category: str | None = "skill",
        target_date: str | None = None,
        measure: str | None = None,
        progress_pct: float | None = None,
        achieved_on: str | None = None,
    ) -> str:
        """A folded goal (core.goals); `measure` only says whether it has one (has_measure):
        the goals' free text is restricted, never in core."""
        goal_id = goal_id or f"g{next(self._ids)}"
        self.insert(
            "goals",
            [
                {
                    "goal_id": goal_id,
                    "match_id": match_id,
                    "horizon": horizon,
                    "category": category,
                    "target_date": _date(target_date),
                    "has_measure": measure is not None and measure.strip() != "",
                    "set_on": _date(set_on),
                    "status": status,
                    "progress_pct": progress_pct,
                    "achieved_on": _date(achieved_on),
                    "last_event_at": _noon_utc(_date(achieved_on or set_on)),
                }
            ],
        )
        return goal_id

    def add_response(
        self,
        match_id: str,
        respondent_key: str,
        *,
        survey_id: str = "s1",
        role: str = "mentee",
        submitted_on: str = "2024-06-01",
        response_id: str | None = None,
        instrument: str = "checkin",
        submitted_at: str | None = None,
        **answers: int | None,
    ) -> None:
        """A kept response; answers by item name (guidance=4, nps=9, ...), others NULL.

        submitted_at (ISO instant, e.g. "2024-06-01T09:30:00+00:00") overrides noon UTC of
        submitted_on; submitted_on is then its UTC date."""
        unknown = set(answers) - {*SURVEY_ITEMS, "nps"}
        if unknown:
            raise KeyError(f"no survey item(s) {sorted(unknown)}")
        day = _date(submitted_on)
        instant = _noon_utc(day)
        if submitted_at is not None:
            instant = dt.datetime.fromisoformat(submitted_at).astimezone(dt.UTC)
            day = instant.date()
        self.insert(
            "survey_responses",
            [
                {
                    "response_id": response_id or f"r{next(self._ids)}",
                    "survey_id": survey_id,
                    "instrument": instrument,
                    "respondent_key": respondent_key,
                    "match_id": match_id,
                    "role": role,
                    "submitted_at": instant,
                    "submitted_on": day,
                    "has_comment": False,
                    **answers,
                }
            ],
        )

    def add_invitation(
        self,
        match_id: str,
        participant_key: str,
        *,
        survey_id: str = "s1",
        role: str = "mentee",
        sent_on: str = "2024-05-25",
    ) -> None:
        day = _date(sent_on)
        self.insert(
            "invitations",
            [
                {
                    "survey_id": survey_id,
                    "participant_key": participant_key,
                    "match_id": match_id,
                    "role": role,
                    "sent_at": _noon_utc(day),
                    "sent_on": day,
                }
            ],
        )

    # --- running and reading -------------------------------------------------------------
    def run(self) -> MartsHarness:
        """Bind the settings and (re)build every mart, in dependency order: the SQL marts,
        then the outcome marts (Python, assets/warehouse/outcomes.py), which read them."""
        bind_settings(self.con, self.settings)
        dbt_compiled.build(self.con, [*DERIVED_CORE_TABLES, *(m.table for m in mart_tables())])
        build_outcome_marts(self.con, self.settings)
        return self

    def rows(self, table: str, order_by: str | None = None, **where: Any) -> list[dict[str, Any]]:
        """Rows of marts.<table> (as dicts) whose columns equal the keyword values."""
        sql = f"SELECT * FROM marts.{table}"
        if where:
            sql += " WHERE " + " AND ".join(f"{column} IS NOT DISTINCT FROM ?" for column in where)
        if order_by:
            sql += f" ORDER BY {order_by}"
        cursor = self.con.execute(sql, list(where.values()))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, table: str, **where: Any) -> dict[str, Any]:
        """The single row of marts.<table> matching the keyword values (fails otherwise)."""
        found = self.rows(table, **where)
        assert len(found) == 1, f"expected one row of marts.{table} with {where}, got {found}"
        return found[0]

    def frame(self, table: str) -> pl.DataFrame:
        self.con.complete()  # DuckDB 2: a relation needs no unfinished execute() result
        return self.con.sql(f"SELECT * FROM marts.{table}").pl()

    def column_types(self, table: str) -> dict[str, str]:
        cursor = self.con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND table_name = ? ORDER BY column_index",
            [table],
        )
        return dict(cursor.fetchall())
