"""The data contract (DATA_CONTRACT.md) as data.

One table of column specs per source drives parsing, row validation, the Great Expectations
suites, the staging tables and the docs. Nothing else in the ingest layer names a column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal

ColumnType = Literal["string", "text", "date", "timestamp", "integer", "number", "string_list"]
# How a record that shares its key with one already loaded is treated:
#   event   - same content: exact duplicate; other content: quarantined as conflicting_duplicate
#   replace - a later record replaces the earlier one (the roster); every record is loaded
#   row     - the key is the whole row: a repeat is an exact duplicate
DuplicatePolicy = Literal["event", "replace", "row"]

SQL_TYPES: dict[ColumnType, str] = {
    "string": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "string_list": "VARCHAR[]",
}


@dataclass(frozen=True)
class Plausible:
    """Bounds of a value that passes the contract's rules yet cannot be true: a record outside
    them is quarantined as `implausible:<column>` (after every contract rule, so a record that
    breaks one keeps its contract reason). Reasons in docs/data_contract.md."""

    minimum: float | dt.date | None = None
    maximum: float | dt.date | None = None
    why: str = ""


# No match, meeting, goal or survey of the program predates 1970 or lies past 2100: such a date
# is a typo or a placeholder (0001-01-01, 9999-12-31); one made the monthly marts span 2,000 years.
PLAUSIBLE_DATES = Plausible(
    dt.date(1970, 1, 1), dt.date(2100, 12, 31), "a date before 1970 or after 2100 is a placeholder"
)
# Fewer than one meeting in ten months is no mentoring cadence (a unit slip, or 1e-19).
PLAUSIBLE_TARGET = Plausible(0.1, None, "fewer than one meeting in ten months is no cadence")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "string"
    required: bool = False
    # required only when event_type is one of these
    required_for: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # minimum is exclusive (number > 0) rather than inclusive
    minimum_exclusive: bool = False
    max_length: int | None = None
    # names, e-mails, free text: never copied past staging (identity goes to restricted/)
    personal: bool = False
    # a participant_id: gets a pseudonymous key in core
    participant_ref: bool = False
    description: str = ""
    # None: every date and timestamp gets PLAUSIBLE_DATES, other types no plausibility rule
    plausible: Plausible | None = None

    @property
    def plausible_bounds(self) -> Plausible | None:
        if self.plausible is None and self.type in ("date", "timestamp"):
            return PLAUSIBLE_DATES
        return self.plausible

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def identifies_a_person(self) -> bool:
        """Names, e-mails, free text and participant ids: never shown in published raw text."""
        return self.personal or self.participant_ref


@dataclass(frozen=True)
class Source:
    name: str
    folder: str
    patterns: tuple[str, ...]
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    duplicates: DuplicatePolicy
    description: str = ""
    # cross-column rules: (reason column, SQL predicate over {column} names, TRUE when broken)
    row_rules: tuple[tuple[str, str], ...] = field(default=())
    # A tool's export (not the contract's format): an adapter in assets/ingest/exports turns
    # each file into the records of the source named by `stages_into`, staged in its table.
    adapter: str | None = None
    stages_into: str | None = None

    @property
    def table(self) -> str:
        """The staging table its records go to: staging.<table>."""
        return self.stages_into or self.name

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


EVENT_STATES_WITH_START = ("scheduled", "rescheduled", "completed")
ROLES = ("mentor", "mentee")
SCORE_ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")
_SCORE_LABELS = {
    "guidance": "personalised guidance",
    "networking": "networking opportunities",
    "skills": "skill development",
    "feedback": "useful, constructive feedback",
    "communication": "regular communication",
    "satisfaction": "overall satisfaction",
}


def _score(name: str) -> Column:
    return Column(name, "integer", minimum=1, maximum=5, description=f"1-5: {_SCORE_LABELS[name]}")


PARTICIPANTS = Source(
    name="participants",
    folder="roster",
    patterns=("participants*.csv",),
    key=("participant_id",),
    duplicates="replace",
    description="One row per person; a later file's row for the same id replaces the earlier.",
    columns=(
        Column("participant_id", required=True, max_length=64, participant_ref=True),
        Column("full_name", "text", required=True, personal=True),
        Column("email", "text", personal=True),
        Column("department"),
        Column("location"),
        Column("joined_on", "date"),
    ),
)

MATCHES = Source(
    name="matches",
    folder="roster",
    patterns=("matches*.csv",),
    key=("match_id",),
    duplicates="replace",
    description="One row per mentoring match; a later row for the same match replaces it.",
    columns=(
        Column("match_id", required=True, max_length=64),
        Column("program", required=True),
        Column("cohort", required=True),
        Column("mentor_id", required=True, max_length=64, participant_ref=True),
        Column("mentee_id", required=True, max_length=64, participant_ref=True),
        Column("matched_on", "date", required=True),
        Column("ended_on", "date"),
        Column(
            "end_reason",
            allowed=(
                "completed",
                "mentor_withdrew",
                "mentee_withdrew",
                "no_engagement",
                "rematched",
                "other",
            ),
        ),
        Column(
            "target_meetings_per_month",
            "number",
            minimum=0,
            minimum_exclusive=True,
            maximum=31,
            plausible=PLAUSIBLE_TARGET,
        ),
    ),
    row_rules=(
        ("mentee_id", "{mentee_id} = {mentor_id}"),
        ("ended_on", "{ended_on} < {matched_on}"),
    ),
)

MEETINGS = Source(
    name="meetings",
    folder="meetings",
    patterns=("*.jsonl", "*.csv"),
    key=("event_id",),
    duplicates="event",
    description="Meeting events; a meeting's state is the fold of its events.",
    columns=(
        Column("event_id", required=True),
        Column("meeting_id", required=True),
        Column("match_id", required=True),
        Column(
            "event_type",
            required=True,
            allowed=("scheduled", "rescheduled", "completed", "cancelled", "no_show"),
        ),
        Column("occurred_at", "timestamp", required=True),
        Column("scheduled_start", "timestamp", required_for=EVENT_STATES_WITH_START),
        Column("duration_minutes", "integer", required_for=("completed",), minimum=1, maximum=480),
        Column("channel", allowed=("video", "in_person", "phone", "chat")),
        Column("topics", "string_list"),
        Column("initiated_by", allowed=ROLES),
        Column("note", "text", personal=True),
    ),
)

GOALS = Source(
    name="goals",
    folder="goals",
    patterns=("*.jsonl",),
    key=("event_id",),
    duplicates="event",
    description="Goal events; a goal's state is the fold of its events.",
    columns=(
        Column("event_id", required=True),
        Column("goal_id", required=True),
        Column("match_id", required=True),
        Column("event_type", required=True, allowed=("set", "progress", "achieved", "abandoned")),
        Column("occurred_at", "timestamp", required=True),
        Column("title", required_for=("set",)),
        Column("horizon", required_for=("set",), allowed=("short_term", "long_term")),
        Column("category", allowed=("skill", "network", "career", "wellbeing", "other")),
        Column("target_date", "date"),
        Column("measure"),
        Column("progress_pct", "number", required_for=("progress",), minimum=0, maximum=100),
    ),
)

RESPONSES = Source(
    name="responses",
    folder="surveys",
    patterns=("responses*.csv",),
    key=("response_id",),
    duplicates="event",
    description="Survey responses, one row per submitted response.",
    columns=(
        Column("response_id", required=True),
        Column("survey_id", required=True),
        Column("instrument", required=True, allowed=("intake", "checkin", "closing")),
        Column("respondent_id", required=True, max_length=64, participant_ref=True),
        Column("match_id", required=True),
        Column("role", required=True, allowed=ROLES),
        Column("submitted_at", "timestamp", required=True),
        *(_score(item) for item in SCORE_ITEMS),
        Column("nps", "integer", minimum=0, maximum=10, description="0-10: would recommend"),
        Column("comment", "text", personal=True),
    ),
)

INVITATIONS = Source(
    name="invitations",
    folder="surveys",
    patterns=("invitations*.csv",),
    key=("survey_id", "participant_id", "match_id", "role", "sent_at"),
    duplicates="row",
    description="Survey invitations sent.",
    columns=(
        Column("survey_id", required=True),
        Column("participant_id", required=True, max_length=64, participant_ref=True),
        Column("match_id", required=True),
        Column("role", required=True, allowed=ROLES),
        Column("sent_at", "timestamp", required=True),
    ),
)

# Who contacted a pair, when, how and with what result: written by `mentorpulse serve`'s
# follow-up form (dashboards/server.py), or by hand in the same format.
FOLLOWUP_CHANNELS = ("email", "phone", "video", "in_person", "chat", "other")
FOLLOWUP_OUTCOMES = ("reached", "meeting_planned", "no_answer", "declined", "pair_ended", "other")
FOLLOWUPS = Source(
    name="followups",
    folder="followups",
    patterns=("*.csv",),
    key=("followup_id",),
    duplicates="event",
    description="Follow-ups: a program manager contacted a pair; one row per contact.",
    columns=(
        Column("followup_id", required=True, max_length=64),
        Column("match_id", required=True, max_length=64),
        Column("contacted_on", "date", required=True),
        Column(
            "by",
            "text",
            required=True,
            personal=True,
            max_length=200,
            description="who made contact (a user of `mentorpulse serve`)",
        ),
        Column("channel", required=True, allowed=FOLLOWUP_CHANNELS),
        Column("outcome", required=True, allowed=FOLLOWUP_OUTCOMES),
        Column("note", "text", personal=True, max_length=2000),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s for s in (PARTICIPANTS, MATCHES, MEETINGS, GOALS, RESPONSES, INVITATIONS, FOLLOWUPS)
}

# Exports of survey tools and calendars, mapped onto a contract source (docs/data_contract.md).
SURVEY_EXPORTS = replace(
    RESPONSES,
    name="survey_exports",
    folder="surveys/exports",
    patterns=("*.csv", "*.xlsx"),
    description="Survey tool exports (Qualtrics, Google Forms, SurveyMonkey, Microsoft Forms), "
    "mapped onto responses by a file in surveys/mappings/.",
    adapter="survey_export",
    stages_into="responses",
)
CALENDAR = replace(
    MEETINGS,
    name="calendar",
    patterns=("*.ics",),
    description="iCalendar exports of mentoring meetings, expanded into meeting events.",
    adapter="calendar",
    stages_into="meetings",
)
EXPORTS: dict[str, Source] = {s.name: s for s in (SURVEY_EXPORTS, CALENDAR)}
# Everything read from landing/: the contract's sources (one staging table each), then exports.
LANDING_SOURCES: dict[str, Source] = {**SOURCES, **EXPORTS}


def sources_staging_into(table: str) -> list[Source]:
    """The landing sources whose records go to staging.<table>: its own files, then exports."""
    return [s for s in LANDING_SOURCES.values() if s.table == table]
