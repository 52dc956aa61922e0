"""The calendar adapter: an iCalendar (.ics) export -> meeting events.

`icalendar` parses the file and `recurring-ical-events` expands it: recurring series (RRULE,
RDATE, EXDATE), moved occurrences (RECURRENCE-ID overrides; within a file the highest SEQUENCE
wins), time zones and daylight-saving changes. Each occurrence up to the as-of date plus
HORIZON_DAYS becomes one event (the rules are in docs/data_contract.md):

- `meeting_id` is `ics:<UID>:<original start in UTC>`: a slot of a series stays the same
  meeting when it is moved or cancelled.
- The event is `cancelled` for STATUS:CANCELLED (an override or a whole event) and for a date
  a series removes with EXDATE if an earlier export had that occurrence (else it was never a
  meeting: no event), else `scheduled`, with the start and planned length.
- `occurred_at` is when that version of the event was recorded: LAST-MODIFIED, else CREATED,
  else DTSTAMP. Across exports the version recorded last wins the meeting's fold.
- No `completed` event is made up: core.meetings counts a calendar meeting still scheduled as
  held once its end has passed by the as-of date.
- `event_id` is a hash of the event's calendar content, so a re-exported calendar gives exact
  duplicates and a changed occurrence gives new events.
- The match is the roster match whose mentor and mentee are both among the organizer and
  attendees (by e-mail); the organizer's role in it is `initiated_by`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb
import icalendar
import polars as pl
import recurring_ical_events

from assets.ingest.exports.lookups import ROSTER_CTES, active_on, chosen_match, run_settings
from assets.ingest.files import FileProblem, LandedFile, ParsedFile, decode

HORIZON_DAYS = 92  # occurrences this far past the as-of date are read too (upcoming meetings)
EVENT_COLUMNS = (
    "event_id",
    "meeting_id",
    "match_id",
    "event_type",
    "occurred_at",
    "scheduled_start",
    "duration_minutes",
    "initiated_by",
)


@dataclass(frozen=True)
class _Block:
    """A VEVENT as it stands in the file."""

    line: int
    raw: str
    sequence: int
    component: icalendar.Event


def read_calendar(con: duckdb.DuckDBPyConnection, landed: LandedFile, data: bytes) -> ParsedFile:
    text = decode(data)
    as_of, timezone = run_settings(con)
    zone = ZoneInfo(timezone)
    until = as_of + dt.timedelta(days=HORIZON_DAYS)
    try:
        calendar = icalendar.Calendar.from_ical(text)
        blocks = _blocks(text, calendar, zone)
        occurrences = recurring_ical_events.of(calendar).between(
            recurring_ical_events.DATE_MIN, until
        )
        rows = [_occurrence(event, blocks, zone) for event in occurrences]
        removed = _removed_dates(blocks, zone, until)
    except (ValueError, KeyError) as error:  # the libraries' errors are ValueErrors
        raise FileProblem("file:bad_ics", f"the calendar cannot be read: {error}") from None
    seen = _meetings_seen(con, [row[2] for row in removed])  # row[2]: the meeting_id
    cancelled = [row for row in removed if row[2] in seen]
    rows += cancelled
    if not rows:
        raise FileProblem("file:no_records", f"the calendar has no events up to {until}")
    records = pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row").sort("_line", "meeting_id")
    note = f"{len(rows)} occurrence(s) up to {until} (as of {as_of} + {HORIZON_DAYS} days)"
    if never_seen := len(removed) - len(cancelled):
        note += f"; {never_seen} date(s) excluded (EXDATE) that no earlier export had: no event"
    return ParsedFile(_with_roster(con, records), EVENT_COLUMNS, note=note)


def _meetings_seen(con, meeting_ids: list[str]) -> set[str]:
    """Which of these meetings an earlier file already brought (staging.meetings)."""
    found = con.execute(
        "SELECT DISTINCT meeting_id FROM staging.meetings WHERE meeting_id IN (SELECT unnest(?))",
        [meeting_ids],
    ).fetchall()
    return {meeting_id for (meeting_id,) in found}


# --- the file's VEVENTs and their lines --------------------------------------------------------


def _instant(value: dt.date | dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An aware datetime: floating times and all-day dates are read in the program's zone."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _key(component: icalendar.Event, zone: ZoneInfo) -> tuple[str, dt.datetime | None]:
    """(UID, original start) of an override; (UID, None) of a series or single event."""
    recurrence_id = component.get("RECURRENCE-ID")
    original = None if recurrence_id is None else _instant(recurrence_id.dt, zone)
    return str(component.get("UID", "")), original


def _blocks(text: str, calendar: icalendar.Calendar, zone: ZoneInfo) -> dict:
    """Each VEVENT by its key, with its first line and text (of two versions of one override,
    the higher SEQUENCE, as recurring-ical-events does)."""
    lines = text.split("\n")
    starts = [n for n, line in enumerate(lines) if line.strip().upper() == "BEGIN:VEVENT"]
    ends = [n for n, line in enumerate(lines) if line.strip().upper() == "END:VEVENT"]
    blocks: dict[tuple[str, dt.datetime | None], _Block] = {}
    for start, end, component in zip(starts, ends, calendar.walk("VEVENT"), strict=True):
        block = _Block(
            line=start + 1,
            raw="\n".join(line.rstrip("\r") for line in lines[start : end + 1]),
            sequence=int(component.get("SEQUENCE", 0)),
            component=component,
        )
        key = _key(component, zone)
        if key not in blocks or block.sequence >= blocks[key].sequence:
            blocks[key] = block
    return blocks


# --- occurrences -> rows -----------------------------------------------------------------------

_ROW_SCHEMA = {
    "_line": pl.Int64,
    "_raw": pl.String,
    "meeting_id": pl.String,
    "event_type": pl.String,
    "occurred_at": pl.String,
    "scheduled_start": pl.String,
    "duration_minutes": pl.String,
    "sequence": pl.Int64,
    "meeting_date": pl.Date,
    "organizer": pl.String,
    "emails": pl.List(pl.String),
}


def _email(address: object) -> str:
    return str(address).strip().lower().removeprefix("mailto:")


def _people(component: icalendar.Event) -> tuple[str | None, list[str]]:
    """The organizer's e-mail and every e-mail on the event (organizer and attendees)."""
    organizer = component.get("ORGANIZER")
    attendees = component.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    emails = [_email(a) for a in ([organizer] if organizer else []) + attendees]
    return (_email(organizer) if organizer else None), sorted(set(emails))


def _recorded(component: icalendar.Event, fallback: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    for name in ("LAST-MODIFIED", "CREATED", "DTSTAMP"):
        if (value := component.get(name)) is not None:
            return _instant(value.dt, zone)
    return fallback


def _row(
    block: _Block,
    people: icalendar.Event,
    uid: str,
    original: dt.datetime,
    start: dt.datetime,
    minutes: int | None,
    cancelled: bool,
    recorded: dt.datetime,
    zone: ZoneInfo,
) -> tuple:
    organizer, emails = _people(people)
    return (
        block.line,
        block.raw,
        f"ics:{uid}:{original.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        "cancelled" if cancelled else "scheduled",
        recorded.isoformat(),
        start.isoformat(),
        None if minutes is None else str(minutes),
        block.sequence,
        start.astimezone(zone).date(),
        organizer,
        emails,
    )


def _minutes(start: dt.date, end: dt.date) -> int | None:
    """The planned length; none for an all-day event (a date is not a meeting's length)."""
    if not isinstance(start, dt.datetime):
        return None
    return round((end - start).total_seconds() / 60)


def _occurrence(event: icalendar.Event, blocks: dict, zone: ZoneInfo) -> tuple:
    uid, original = _key(event, zone)
    start = _instant(event.start, zone)
    series = blocks.get((uid, None))
    block = blocks.get((uid, original)) or series
    if block is None:  # a moved occurrence without its series in the file
        block = next(b for (u, _), b in blocks.items() if u == uid)
    # An override often leaves out the attendees: they are the series'.
    people = event if event.get("ATTENDEE") or series is None else series.component
    return _row(
        block,
        people,
        uid,
        original or start,
        start,
        _minutes(event.start, event.end),
        str(event.get("STATUS", "")).upper() == "CANCELLED",
        _recorded(block.component, start, zone),
        zone,
    )


def _removed_dates(blocks: dict, zone: ZoneInfo, until: dt.date) -> list[tuple]:
    """The dates a series removes (EXDATE), as cancellations: a planned meeting that will not
    take place, if it was ever planned (an earlier export had it; the caller checks)."""
    rows = []
    for (uid, original), block in blocks.items():
        series = block.component
        if original is not None or "RRULE" not in series:
            continue
        first = _instant(series.start, zone)
        exdates = series.get("EXDATE", [])
        for exdate in exdates if isinstance(exdates, list) else [exdates]:
            for value in exdate.dts:
                start = _instant(value.dt, zone)
                if first <= start and start.astimezone(zone).date() <= until:
                    minutes = _minutes(series.start, series.end)
                    recorded = _recorded(series, start, zone)
                    rows.append(
                        _row(block, series, uid, start, start, minutes, True, recorded, zone)
                    )
    return rows


# --- the match, from the roster -----------------------------------------------------------


def _with_roster(con, records: pl.DataFrame) -> pl.DataFrame:
    """Match (both its mentor and mentee on the event), the organizer's role, the event id."""
    con.register("calendar_records", records.with_row_index("_record"))
    resolved = con.sql(
        f"""
        WITH {ROSTER_CTES},
        attendee_emails AS (
            SELECT _record, unnest(emails) AS email FROM calendar_records
        ),
        attendees AS (
            SELECT a._record, list(DISTINCT p.participant_id) AS people
            FROM attendee_emails AS a JOIN roster_people AS p USING (email)
            GROUP BY a._record
        ),
        chosen AS ({
            chosen_match(f'''
                SELECT r._record, m.match_id,
                    CASE o.participant_id WHEN m.mentor_id THEN 'mentor'
                                          WHEN m.mentee_id THEN 'mentee' END AS role,
                    coalesce({active_on("r.meeting_date")}, FALSE) AS active
                FROM calendar_records AS r
                JOIN attendees AS a USING (_record)
                JOIN roster_matches AS m
                    ON list_contains(a.people, m.mentor_id) AND list_contains(a.people, m.mentee_id)
                LEFT JOIN people_by_email AS o ON o.email = r.organizer AND o.people = 1''')
        })
        SELECT r._line, r._raw, FALSE AS _malformed, NULL::VARCHAR AS _malformed_detail,
            -- the calendar's content of the event: the same in every export of this version
            'ics:' || left(sha256(concat_ws(chr(31), r.meeting_id, r.event_type, r.occurred_at,
                r.scheduled_start, r.duration_minutes, r.sequence)), 32) AS event_id,
            r.meeting_id, c.match_id, r.event_type, r.occurred_at, r.scheduled_start,
            r.duration_minutes, c.role AS initiated_by,
            CASE WHEN c.match_id IS NULL THEN 'unmatched:match' END AS _export_reason,
            CASE
                WHEN c.match_id IS NOT NULL THEN NULL
                WHEN c._record IS NULL
                    THEN 'no roster match has both its mentor and its mentee among the '
                         || len(r.emails) || ' organizer and attendee e-mail(s) ('
                         || coalesce(len(a.people), 0) || ' of them in the roster)'
                ELSE 'several roster matches pair the attendees (' || c.candidate_matches
                     || '), ' || c.active_matches || ' active on ' || r.meeting_date
            END AS _export_detail
        FROM calendar_records AS r
        LEFT JOIN attendees AS a USING (_record)
        LEFT JOIN chosen AS c USING (_record)
        ORDER BY r._record
        """
    ).pl()
    con.unregister("calendar_records")
    return resolved
