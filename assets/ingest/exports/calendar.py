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
  attendees (by e-mail; an e-mail several participants share names none of them); the
  organizer's role in it is `initiated_by`.
- Nothing is lost: an all-day occurrence is no meeting (`dropped:all_day`), and an event whose
  recurrence cannot be expanded is quarantined by itself (`malformed`, naming its UID and line)
  while the calendar's other events load.
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
    except (ValueError, KeyError) as error:  # the libraries' errors are ValueErrors
        raise FileProblem("file:bad_ics", f"the calendar cannot be read: {error}") from None
    rows, removed = [], []
    for uid, events, error in _expanded(calendar, until):
        if error is not None:  # one bad series: that event is quarantined, the rest loads
            rows.append(_unreadable(uid, blocks, error))
            continue
        rows += [_occurrence(event, blocks, zone) for event in events]
        removed += _removed_dates({k: b for k, b in blocks.items() if k[0] == uid}, zone, until)
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


def _expanded(calendar: icalendar.Calendar, until: dt.date):
    """(UID, its occurrences, None) per event of the calendar, or (UID, [], the error) for an
    event whose recurrence cannot be expanded (e.g. spaces inside BYDAY): the whole calendar
    at once, and event by event only when that fails."""
    events: dict[str, list[icalendar.Event]] = {}
    for component in calendar.walk("VEVENT"):
        events.setdefault(str(component.get("UID", "")), []).append(component)
    try:
        occurrences = recurring_ical_events.of(calendar).between(
            recurring_ical_events.DATE_MIN, until
        )
    except (ValueError, KeyError):
        pass
    else:
        by_uid: dict[str, list] = {uid: [] for uid in events}
        for occurrence in occurrences:
            by_uid.setdefault(str(occurrence.get("UID", "")), []).append(occurrence)
        return [(uid, found, None) for uid, found in by_uid.items()]
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    expanded = []
    for uid, components in events.items():
        one = icalendar.Calendar()
        one.update(calendar)  # its properties (X-WR-TIMEZONE for floating times)
        one.subcomponents = [*zones, *components]
        try:
            found = recurring_ical_events.of(one).between(recurring_ical_events.DATE_MIN, until)
            expanded.append((uid, list(found), None))
        except (ValueError, KeyError) as error:
            expanded.append((uid, [], error))
    return expanded


def _unreadable(uid: str, blocks: dict, error: Exception) -> tuple:
    """The record of an event that cannot be expanded: its (series') VEVENT, quarantined as
    malformed, naming the UID and line."""
    block = blocks.get((uid, None)) or min(
        (b for (u, _), b in blocks.items() if u == uid), key=lambda b: b.line
    )
    detail = (
        f"the event UID {uid} (VEVENT at line {block.line}) cannot be expanded: {error}; "
        "the calendar's other events are read"
    )
    return (block.line, block.raw, f"ics:{uid}:unreadable", None, None, None, None,
            block.sequence, None, None, [], "malformed", detail)  # fmt: skip


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
    "_reason": pl.String,  # set aside before the roster is asked: malformed, dropped:all_day
    "_detail": pl.String,
}
ALL_DAY_DETAIL = (
    "an all-day event (its DTSTART is a date: an out-of-office, a holiday, a reminder) is not "
    "a mentoring meeting"
)


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
        None if minutes is not None else "dropped:all_day",  # an all-day date has no length
        None if minutes is not None else ALL_DAY_DETAIL,
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
        if not isinstance(series.start, dt.datetime):
            continue  # an all-day series: never a meeting, nor are its removed dates
        exdates = series.get("EXDATE", [])
        excluded = set()  # a date excluded twice (two EXDATE lines) is one exclusion
        for exdate in exdates if isinstance(exdates, list) else [exdates]:
            for value in exdate.dts:
                start = _instant(value.dt, zone)
                if start in excluded:
                    continue
                excluded.add(start)
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
            -- An e-mail several participants share (a team mailbox) names none of them, as in
            -- surveys: it is ambiguous.
            SELECT a._record,
                list(DISTINCT e.participant_id) FILTER (WHERE e.people = 1) AS people,
                count(DISTINCT a.email) FILTER (WHERE e.people > 1) AS shared
            FROM attendee_emails AS a JOIN people_by_email AS e USING (email)
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
            CASE WHEN r._reason IS NOT NULL THEN r._reason
                 WHEN c.match_id IS NULL THEN 'unmatched:match' END AS _export_reason,
            CASE
                WHEN r._reason IS NOT NULL THEN r._detail
                WHEN c.match_id IS NOT NULL THEN NULL
                WHEN c._record IS NULL
                    THEN 'no roster match has both its mentor and its mentee among the '
                         || len(r.emails) || ' organizer and attendee e-mail(s) ('
                         || coalesce(len(a.people), 0) || ' of them in the roster'
                         || CASE WHEN a.shared > 0 THEN ' as one participant; ' || a.shared
                              || ' shared by several participants of the roster: ambiguous, '
                              || 'so not used' ELSE '' END || ')'
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
