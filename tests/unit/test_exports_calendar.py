"""Meetings from an iCalendar export (tests/fixtures/exports/meetings/mentoring_2026-04-11.ics).

Ana (mentor) and Bea (mentee) of match M01 meet weekly, Thursdays 18:00-19:00 Lisbon time,
eight times from 2026-03-05: across the change to summer time (29 March), with 19 March
excluded (EXDATE, in this first export of the series: never a meeting), 2 April moved to Friday 3 April 10:00 (an override, SEQUENCE 1) and 9 April
cancelled (STATUS:CANCELLED). One coffee chat of M02, and an offsite with no mentoring pair.
The meeting log has the 12 March meeting of M01 too (meetings/log_2026-03-13.jsonl).
"""

from __future__ import annotations

import datetime as dt

import pytest

from assets.settings import load_settings
from tests.conftest import write_landing
from tests.unit.exports_pipeline import EXPORTS, ROSTER, build, ingest, land, rows

CALENDAR = "meetings/mentoring_2026-04-11.ics"
LOG = "meetings/log_2026-03-13.jsonl"
SERIES = "ics:3q9v1c0mentoring-ana-bea@google.com"


@pytest.fixture
def program(settings, monkeypatch):
    """Lisbon time, D = 2026-04-12 (the day after the export)."""
    monkeypatch.setenv("MENTORPULSE_AS_OF", "2026-04-12")
    settings = load_settings()
    land(settings, *ROSTER, CALENDAR, LOG)
    return settings


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def cadence(settings, match_id: str) -> tuple[int, int]:
    (row,) = rows(
        settings,
        "SELECT meetings_held, meetings_cancelled FROM marts.match_cadence WHERE match_id = ?",
        [match_id],
    )
    return row["meetings_held"], row["meetings_cancelled"]


def test_the_series_is_expanded_across_the_clock_change_with_its_exceptions(program):
    result = ingest(program)[CALENDAR]
    # 7 occurrences of the series (19 March excluded), the coffee chat, the offsite.
    assert (result.source, result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        "calendar",
        9,
        8,
        1,
    )
    assert "1 date(s) excluded (EXDATE) that no earlier export had" in result.message
    events = rows(
        program,
        "SELECT meeting_id, event_type, scheduled_start, duration_minutes, initiated_by, "
        "occurred_at, _line FROM staging.meetings WHERE match_id = 'M01' AND _source = 'calendar' "
        "ORDER BY scheduled_start",
    )
    assert [(e["meeting_id"].removeprefix(SERIES + ":"), e["event_type"], e["scheduled_start"]) for e in events] == [
        ("20260305T180000Z", "scheduled", utc(2026, 3, 5, 18)),
        ("20260312T180000Z", "scheduled", utc(2026, 3, 12, 18)),
        ("20260326T180000Z", "scheduled", utc(2026, 3, 26, 18)),  # 18:00 WET
        ("20260402T170000Z", "scheduled", utc(2026, 4, 3, 9)),  # moved: its slot's meeting id
        ("20260409T170000Z", "cancelled", utc(2026, 4, 9, 17)),  # STATUS:CANCELLED
        ("20260416T170000Z", "scheduled", utc(2026, 4, 16, 17)),  # 18:00 WEST
        ("20260423T170000Z", "scheduled", utc(2026, 4, 23, 17)),
    ]  # fmt: skip
    assert {e["duration_minutes"] for e in events} == {60}
    assert {e["initiated_by"] for e in events} == {"mentor"}  # Ana organizes
    # Each version counts from when it was recorded (LAST-MODIFIED), not the export's DTSTAMP;
    # its line is where its VEVENT begins in the file.
    moved = next(e for e in events if e["meeting_id"].endswith("20260402T170000Z"))
    assert (moved["occurred_at"], moved["_line"]) == (utc(2026, 3, 25, 12), 48)
    assert {e["_line"] for e in events} == {26, 48, 66}
    (offsite,) = rows(program, "SELECT line, reason, detail FROM ingest.quarantine")
    assert (offsite["line"], offsite["reason"]) == (93, "unmatched:match")
    assert "1 of them in the roster" in offsite["detail"]


def test_marts_count_held_meetings_once_their_end_is_past_and_once_per_log(program):
    ingest(program)
    assert build(program) == []
    # Held: 5 Mar, 12 Mar (the log's: the calendar's is left out), 26 Mar, 3 Apr (moved).
    # Cancelled: 9 Apr (19 Mar was never a meeting). 16 and 23 Apr are still to come.
    assert cadence(program, "M01") == (4, 1)
    assert cadence(program, "M02") == (1, 0)
    meetings = rows(
        program,
        "SELECT meeting_id, status, meeting_date FROM core.meetings WHERE match_id = 'M01' "
        "ORDER BY meeting_date",
    )
    on_12_march = [m["meeting_id"] for m in meetings if m["meeting_date"] == dt.date(2026, 3, 12)]
    assert on_12_march == ["log-m01-0312"]
    assert [m["status"] for m in meetings[-2:]] == ["scheduled", "scheduled"]


@pytest.mark.parametrize(
    ("as_of", "held", "cancelled"),
    [
        ("2026-03-11", 1, 0),  # 5 Mar held; 12 Mar not yet
        ("2026-03-26", 3, 0),  # 26 Mar ends 19:00 that day; 19 Mar excluded from the start
        ("2026-04-03", 4, 0),  # the moved meeting, Friday 10:00-11:00
        ("2026-04-12", 4, 1),
    ],
)
def test_the_marts_follow_the_as_of_date(program, monkeypatch, as_of, held, cancelled):
    ingest(program)
    monkeypatch.setenv("MENTORPULSE_AS_OF", as_of)
    settings = load_settings()
    assert build(settings) == []
    assert cadence(settings, "M01") == (held, cancelled)


def test_a_reexported_calendar_gives_exact_duplicates(program):
    ingest(program)
    text = (program.landing_dir / CALENDAR).read_bytes()
    again = text.replace(b"DTSTAMP:20260411T080000Z", b"DTSTAMP:20260418T070000Z")
    result = ingest_one(program, "meetings/mentoring_2026-04-18.ics", again)
    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (0, 8, 1)


def test_a_newer_sequence_of_an_occurrence_wins(program):
    ingest(program)
    moved = """BEGIN:VEVENT\r
DTSTART;TZID=Europe/Lisbon:20260417T100000\r
DTEND;TZID=Europe/Lisbon:20260417T104500\r
DTSTAMP:20260418T070000Z\r
UID:3q9v1c0mentoring-ana-bea@google.com\r
RECURRENCE-ID;TZID=Europe/Lisbon:20260416T180000\r
LAST-MODIFIED:20260410T090000Z\r
SEQUENCE:2\r
STATUS:CONFIRMED\r
SUMMARY:Mentoring: Ana / Bea (Friday this week)\r
END:VEVENT\r
END:VCALENDAR\r
"""
    text = (program.landing_dir / CALENDAR).read_bytes().decode()
    result = ingest_one(
        program, "meetings/mentoring_2026-04-18.ics", text.replace("END:VCALENDAR\r\n", moved)
    )
    assert (result.rows_loaded, result.rows_duplicate) == (1, 7)
    build(program)
    (meeting,) = rows(
        program,
        "SELECT start_at, duration_minutes, event_count FROM core.meetings WHERE meeting_id = ?",
        [f"{SERIES}:20260416T170000Z"],
    )
    assert meeting == {"start_at": utc(2026, 4, 17, 9), "duration_minutes": 45, "event_count": 2}


def test_a_date_excluded_after_an_export_had_it_is_a_cancellation(program):
    """An earlier export had 19 March scheduled; the series later excludes it: cancelled."""
    text = (program.landing_dir / CALENDAR).read_bytes()
    earlier = text.replace(b"EXDATE;TZID=Europe/Lisbon:20260319T180000\r\n", b"")
    assert earlier != text
    (program.landing_dir / CALENDAR).unlink()
    first = ingest_one(program, "meetings/mentoring_2026-03-01.ics", earlier)
    assert first.rows_loaded == 9  # 19 March among them, scheduled
    later = ingest_one(program, CALENDAR, text)
    assert (later.rows_loaded, later.rows_duplicate, later.rows_quarantined) == (1, 8, 1)
    assert "no earlier export had" not in later.message
    assert build(program) == []
    assert cadence(program, "M01") == (4, 2)  # 19 March and 9 April cancelled
    (meeting,) = rows(
        program,
        "SELECT status FROM core.meetings WHERE meeting_id = ?",
        [f"{SERIES}:20260319T180000Z"],
    )
    assert meeting == {"status": "cancelled"}


def ingest_one(settings, relative: str, content: bytes):
    write_landing(settings, relative, content)
    return ingest(settings)[relative]


def test_a_file_that_is_not_a_calendar_is_rejected(program):
    result = ingest_one(program, "meetings/broken.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n")
    assert result.status == "rejected" and "file:bad_ics" in result.message


def test_sensors_and_discovery_see_the_exports(program):
    from assets.ingest.files import discover_all
    from pipelines.sensors import LandingCursor, scan

    land(program, "surveys/exports/checkin_2026-03_qualtrics.csv")
    sources = {f.relative_path: f.source.name for f in discover_all(program.landing_dir)}
    assert sources[CALENDAR] == "calendar"
    assert sources["surveys/exports/checkin_2026-03_qualtrics.csv"] == "survey_exports"
    _, fresh = scan(program.landing_dir, LandingCursor())  # what the landing sensor sees
    assert {CALENDAR, "surveys/exports/checkin_2026-03_qualtrics.csv"} <= set(fresh)
    assert (EXPORTS / CALENDAR).read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


# --- real calendars (issue 21): one bad series, all-day markers, a shared mailbox -----------

FINANCE = "meetings/finance_2026-04-11.ics"
SHARED_MAILBOX = (
    "participant_id,full_name,email,department,location,joined_on\n"
    "U02,Carlos Costa,finance.team@example.org,Finance,Porto,2018-06-11\n"
    "U12,Hugo Henriques,finance.team@example.org,Finance,Porto,2025-10-01\n"
)


def test_one_bad_series_is_quarantined_by_itself_and_all_day_events_are_no_meetings(program):
    """A Google calendar: Ana and Bea's Tuesday series (one date excluded by two EXDATE lines),
    a series whose BYDAY has a space (the recurrence library cannot read it), a weekly all-day
    "Working from home" of a mailbox Carlos and Hugo (match M02) share, and a coffee chat of
    that mailbox alone."""
    write_landing(program, "roster/participants_2026-02-01.csv", SHARED_MAILBOX)
    land(program, FINANCE)
    result = ingest(program)[FINANCE]
    # 5 Tuesdays, the bad series (one record), 10 all-day Mondays, the coffee chat
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        "loaded",
        17,
        5,
        12,
    )
    assert result.reasons == {"malformed": 1, "dropped:all_day": 10, "unmatched:match": 1}
    assert "1 date(s) excluded (EXDATE)" in result.message  # two lines, one date
    found = rows(
        program,
        "SELECT line, reason, detail FROM ingest.quarantine WHERE path = ? ORDER BY line",
        [FINANCE],
    )
    bad = found[0]
    assert (bad["line"], bad["reason"]) == (46, "malformed")
    assert bad["detail"].startswith(
        "the event UID 0b1n2m3standup-diana-ines@google.com (VEVENT at line 46) cannot be "
        "expanded: UNTIL parameter has a bad format"
    )
    all_day = [f for f in found if f["reason"] == "dropped:all_day"]
    assert {f["line"] for f in all_day} == {60} and "not a mentoring meeting" in all_day[0][
        "detail"
    ]
    (chat,) = [f for f in found if f["reason"] == "unmatched:match"]
    assert chat["line"] == 75
    assert "1 shared by several participants of the roster: ambiguous" in chat["detail"]
    loaded = rows(
        program,
        "SELECT DISTINCT match_id FROM staging.meetings WHERE _source_path = ?",
        [FINANCE],
    )
    assert loaded == [{"match_id": "M01"}]
    assert build(program) == []
    # Neither the all-day markers nor the shared mailbox's chat are M02's meetings (nor, with
    # the roster now giving them only the shared mailbox, is the first calendar's chat).
    assert cadence(program, "M02") == (0, 0)


def test_a_date_excluded_twice_is_one_cancellation(program):
    land(program, FINANCE)
    text = (program.landing_dir / FINANCE).read_bytes()
    earlier = text.replace(b"EXDATE;TZID=Europe/Lisbon:20260317T100000\r\n", b"")
    (program.landing_dir / FINANCE).unlink()
    first = ingest_one(program, "meetings/finance_2026-03-01.ics", earlier)
    assert first.rows_loaded == 6  # the six Tuesdays, 17 March among them
    later = ingest_one(program, FINANCE, text)
    assert (later.rows_loaded, later.rows_duplicate) == (1, 5)  # 17 March cancelled, once
