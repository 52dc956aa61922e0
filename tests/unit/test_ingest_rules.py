"""Each validation rule of the contract, on real files in a real DuckDB working database."""

from __future__ import annotations

import json

import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.resources import open_working_db
from tests import dbt_compiled
from tests.conftest import write_landing
from tests.unit import exports_pipeline

GOOD_MEETING = {
    "event_id": "ev-1",
    "meeting_id": "mt-1",
    "match_id": "X1",
    "event_type": "completed",
    "occurred_at": "2026-01-12T17:05:00Z",
    "scheduled_start": "2026-01-12T16:00:00Z",
    "duration_minutes": 50,
    "channel": "video",
    "topics": ["career"],
}
GOOD_GOAL = {
    "event_id": "g-1",
    "goal_id": "goal-1",
    "match_id": "X1",
    "event_type": "set",
    "occurred_at": "2026-01-12T17:10:00Z",
    "title": "Lead a design review",
    "horizon": "short_term",
}
MATCHES_HEADER = (
    "match_id,program,cohort,mentor_id,mentee_id,matched_on,ended_on,end_reason,"
    "target_meetings_per_month"
)
RESPONSES_HEADER = (
    "response_id,survey_id,instrument,respondent_id,match_id,role,submitted_at,guidance,"
    "networking,skills,feedback,communication,satisfaction,nps,comment"
)
GOOD_RESPONSE = "r-1,checkin-2026-01,checkin,U1,X1,mentee,2026-02-01T12:30:00Z,5,3,4,5,4,5,9,ok"


def ingest(settings, source_name: str):
    with open_working_db(settings) as con:
        results = ingest_source(con, SOURCES[source_name], settings.landing_dir, log=lambda m: None)
        quarantine = con.execute(
            "SELECT path, line, reason, detail, raw_text FROM ingest.quarantine ORDER BY path, line"
        ).fetchall()
        staged = con.execute(f"SELECT count(*) FROM staging.{source_name}").fetchall()[0][0]
    return results, quarantine, staged


def meeting(**changes) -> str:
    record = {**GOOD_MEETING, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not None})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"event_id": "ev-9", "meeting_id": "mt', "malformed"),
        ("[1, 2, 3]", "malformed"),
        (meeting(event_id=None), "missing_field:event_id"),
        (meeting(match_id="  "), "missing_field:match_id"),
        (meeting(occurred_at=None), "missing_field:occurred_at"),
        (meeting(duration_minutes="forty"), "bad_type:duration_minutes"),
        (meeting(duration_minutes=45.5), "bad_type:duration_minutes"),
        (meeting(occurred_at="yesterday"), "bad_type:occurred_at"),
        (meeting(meeting_id=17), "bad_type:meeting_id"),
        (meeting(topics="career"), "bad_type:topics"),
        (meeting(channel="zoom"), "bad_value:channel"),
        (meeting(channel="Video"), "bad_value:channel"),
        (meeting(event_type="held"), "bad_value:event_type"),
        (meeting(duration_minutes=0), "bad_value:duration_minutes"),
        (meeting(duration_minutes=481), "bad_value:duration_minutes"),
        (meeting(initiated_by="manager"), "bad_value:initiated_by"),
        (meeting(scheduled_start=None), "missing_field:scheduled_start"),
        (meeting(duration_minutes=None), "missing_field:duration_minutes"),
    ],
)
def test_meeting_rule(settings, line, reason):
    write_landing(
        settings, "meetings/m_2026-01-20.jsonl", meeting(event_id="ok-1") + "\n" + line + "\n"
    )
    results, quarantine, staged = ingest(settings, "meetings")
    assert [(q[1], q[2]) for q in quarantine] == [(2, reason)]
    assert staged == 1
    assert results[0].rows_read == 2 and results[0].rows_quarantined == 1
    assert quarantine[0][3]  # a detail that says what was wrong


def test_meeting_optional_fields_absent_or_null_are_fine(settings):
    lines = [
        meeting(event_id="a", channel=None, topics=None),
        json.dumps({**GOOD_MEETING, "event_id": "b", "channel": None, "note": None}),
        meeting(event_id="c", event_type="cancelled", scheduled_start=None, duration_minutes=None),
        meeting(event_id="d", duration_minutes=45.0),
    ]
    write_landing(settings, "meetings/m.jsonl", "\n".join(lines) + "\n\n")
    results, quarantine, staged = ingest(settings, "meetings")
    assert quarantine == [] and staged == 4 and results[0].rows_read == 4


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": None}, "missing_field:title"),
        ({"horizon": None}, "missing_field:horizon"),
        ({"horizon": "forever"}, "bad_value:horizon"),
        ({"category": "fun"}, "bad_value:category"),
        ({"target_date": "31/03/2026"}, "bad_type:target_date"),
        ({"event_type": "progress", "progress_pct": 120}, "bad_value:progress_pct"),
        ({"event_type": "progress", "progress_pct": "half"}, "bad_type:progress_pct"),
        ({"event_type": "progress"}, "missing_field:progress_pct"),
        ({"goal_id": None}, "missing_field:goal_id"),
    ],
)
def test_goal_rule(settings, changes, reason):
    record = {**GOOD_GOAL, **changes}
    write_landing(
        settings, "goals/g.jsonl", json.dumps({k: v for k, v in record.items() if v is not None})
    )
    _, quarantine, staged = ingest(settings, "goals")
    assert [(q[1], q[2]) for q in quarantine] == [(1, reason)]
    assert staged == 0


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("M2,P,C,U1,U1,2026-01-05,,,", "bad_value:mentee_id"),
        ("M2,P,C,U1,U2,2026-01-05,2026-01-01,completed,", "bad_value:ended_on"),
        ("M2,P,C,U1,U2,2026-01-05,,finished,", "bad_value:end_reason"),
        ("M2,P,C,U1,U2,2026-01-05,,,0", "bad_value:target_meetings_per_month"),
        ("M2,P,C,U1,U2,2026-01-05,,,32", "bad_value:target_meetings_per_month"),
        ("M2,P,C,U1,U2,2026-01-05,,,two", "bad_type:target_meetings_per_month"),
        ("M2,P,C,U1,U2,05/01/2026,,,", "bad_type:matched_on"),
        ("M2,P,,U1,U2,2026-01-05,,,", "missing_field:cohort"),
        ("M2,P,C,U1,U2,2026-01-05", "malformed"),
        ("M2,P,C,U1,U2,2026-01-05,,,,extra", "malformed"),
        ("M" * 65 + ",P,C,U1,U2,2026-01-05,,,", "bad_value:match_id"),
    ],
)
def test_match_rule(settings, row, reason):
    write_landing(
        settings, "roster/matches_1.csv", f"{MATCHES_HEADER}\nM1,P,C,U1,U2,2026-01-05,,,2\n{row}\n"
    )
    _, quarantine, staged = ingest(settings, "matches")
    assert [(q[1], q[2]) for q in quarantine] == [(3, reason)]
    assert staged == 1


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("guidance", "7", "bad_value:guidance"),
        ("satisfaction", "0", "bad_value:satisfaction"),
        ("nps", "11", "bad_value:nps"),
        ("nps", "-1", "bad_value:nps"),
        ("skills", "4.5", "bad_type:skills"),
        ("role", "buddy", "bad_value:role"),
        ("instrument", "pulse", "bad_value:instrument"),
        ("submitted_at", "", "missing_field:submitted_at"),
    ],
)
def test_response_rule(settings, column, value, reason):
    fields = dict(zip(RESPONSES_HEADER.split(","), GOOD_RESPONSE.split(","), strict=True))
    fields.update(response_id="r-2", **{column: value})
    write_landing(
        settings,
        "surveys/responses_1.csv",
        f"{RESPONSES_HEADER}\n{GOOD_RESPONSE}\n{','.join(fields.values())}\n",
    )
    _, quarantine, staged = ingest(settings, "responses")
    assert [(q[1], q[2]) for q in quarantine] == [(3, reason)]
    assert staged == 1


def test_blank_answers_are_not_answered(settings):
    write_landing(
        settings,
        "surveys/responses_1.csv",
        f"{RESPONSES_HEADER}\nr-1,s,checkin,U1,X1,mentor,2026-02-01T12:30:00Z,,,,,,,,\n",
    )
    _, quarantine, staged = ingest(settings, "responses")
    assert quarantine == [] and staged == 1


def test_csv_line_numbers_follow_quoted_newlines_crlf_and_bom(settings):
    rows = [
        RESPONSES_HEADER,
        'r-1,s,checkin,U1,X1,mentee,2026-02-01T12:30:00Z,5,3,4,5,4,5,9,"line one\r\nline two, with ""quotes"""',
        "r-2,s,checkin,U2,X1,mentor,2026-02-01T12:30:00Z,5,3,4,5,4,5,99,",
    ]
    write_landing(
        settings, "surveys/responses_1.csv", ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()
    )
    _, quarantine, staged = ingest(settings, "responses")
    # The first record spans lines 2-3, so the bad one starts on line 4.
    assert [(q[1], q[2]) for q in quarantine] == [(4, "bad_value:nps")]
    assert staged == 1


def test_missing_required_column_quarantines_the_whole_file(settings):
    write_landing(settings, "roster/matches_1.csv", "match_id,program\nM1,P\nM2,P\n")
    write_landing(
        settings, "roster/matches_2.csv", f"{MATCHES_HEADER}\nM3,P,C,U1,U2,2026-01-05,,,\n"
    )
    results, quarantine, staged = ingest(settings, "matches")
    assert [r.status for r in results] == ["rejected", "loaded"]
    assert {q[2] for q in quarantine} == {"schema:missing_column:cohort"}
    assert [q[1] for q in quarantine] == [2, 3]
    assert "cohort" in results[0].message and "mentor_id" in results[0].message
    assert staged == 1


def test_unknown_fields_are_ignored_and_counted(settings):
    write_landing(settings, "meetings/m.jsonl", meeting(mood="great", weather="sunny") + "\n")
    write_landing(
        settings,
        "roster/matches_1.csv",
        f"{MATCHES_HEADER},colour\nM1,P,C,U1,U2,2026-01-05,,,,blue\n",
    )
    ingest(settings, "meetings")
    ingest(settings, "matches")
    with open_working_db(settings) as con:
        unknown = con.execute(
            "SELECT source, unknown_fields, unknown_field_names FROM ingest.files ORDER BY source"
        ).fetchall()
    assert unknown == [("matches", 1, "colour"), ("meetings", 2, "mood, weather")]


def test_timestamp_without_offset_is_read_in_program_time_zone(settings):
    write_landing(
        settings, "meetings/m.jsonl", meeting(scheduled_start="2026-07-01T09:00:00") + "\n"
    )
    ingest(settings, "meetings")
    with open_working_db(settings) as con:
        (start,) = con.execute(
            "SELECT strftime(timezone('UTC', scheduled_start), '%H:%M') FROM staging.meetings"
        ).fetchall()[0]
    assert start == "08:00"  # Lisbon is UTC+1 in July


def test_in_flight_files_are_ignored(settings):
    for name in ("m.jsonl.part", ".m.jsonl", "m.jsonl.tmp", "m.jsonl.crdownload"):
        write_landing(settings, f"meetings/{name}", meeting() + "\n")
    results, _, staged = ingest(settings, "meetings")
    assert results == [] and staged == 0


# --- plausibility: values the contract's rules let through but that cannot be true ----------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("M2,P,C,U1,U2,0001-01-01,,,", "implausible:matched_on"),  # from the issue
        ("M2,P,C,U1,U2,1969-12-31,,,", "implausible:matched_on"),
        ("M2,P,C,U1,U2,2026-01-05,2101-01-01,completed,", "implausible:ended_on"),
        ("M2,P,C,U1,U2,2026-01-05,,,1e-19", "implausible:target_meetings_per_month"),  # issue
        ("M2,P,C,U1,U2,2026-01-05,,,0.09", "implausible:target_meetings_per_month"),
        # A contract rule broken first keeps its reason.
        ("M2,P,C,U1,U2,2026-01-05,0001-01-01,completed,", "bad_value:ended_on"),
        ("M2,P,C,U1,U2,2026-01-05,,,0", "bad_value:target_meetings_per_month"),
    ],
)
def test_implausible_match_values_are_quarantined_under_a_named_rule(settings, row, reason):
    write_landing(
        settings, "roster/matches_1.csv", f"{MATCHES_HEADER}\nM1,P,C,U1,U2,2026-01-05,,,2\n{row}\n"
    )
    _, quarantine, staged = ingest(settings, "matches")
    assert [(q[1], q[2]) for q in quarantine] == [(3, reason)]
    assert staged == 1


def test_the_bounds_themselves_are_plausible(settings):
    rows = [
        "M1,P,C,U1,U2,1970-01-01,2100-12-31,completed,0.1",
        "M2,P,C,U1,U2,2026-01-05,,,31",
    ]
    write_landing(settings, "roster/matches_1.csv", MATCHES_HEADER + "\n" + "\n".join(rows) + "\n")
    _, quarantine, staged = ingest(settings, "matches")
    assert quarantine == [] and staged == 2


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        ("meetings", meeting(occurred_at="0001-01-01T00:00:00Z"), "implausible:occurred_at"),
        ("meetings", meeting(occurred_at="1969-12-31T23:59:59Z"), "implausible:occurred_at"),
        (
            "meetings",
            meeting(scheduled_start="2101-01-01T00:00:00Z"),
            "implausible:scheduled_start",
        ),
        (
            "goals",
            json.dumps({**GOOD_GOAL, "target_date": "9999-12-31"}),
            "implausible:target_date",
        ),
    ],
)
def test_implausible_dates_and_timestamps_of_events(settings, source, line, reason):
    first = meeting(event_id="ok-1") if source == "meetings" else json.dumps(GOOD_GOAL)
    line = line.replace('"ev-1"', '"ev-2"').replace('"g-1"', '"g-2"')
    write_landing(settings, f"{source}/x_2026-01-20.jsonl", first + "\n" + line + "\n")
    _, quarantine, staged = ingest(settings, source)
    assert [(q[1], q[2]) for q in quarantine] == [(2, reason)]
    assert "1970-01-01" in quarantine[0][3]  # the detail states the bounds
    assert staged == 1


def test_an_implausible_submission_time_is_quarantined(settings):
    fields = dict(zip(RESPONSES_HEADER.split(","), GOOD_RESPONSE.split(","), strict=True))
    fields.update(response_id="r-2", submitted_at="2201-02-01T12:30:00Z")
    write_landing(
        settings,
        "surveys/responses_1.csv",
        f"{RESPONSES_HEADER}\n{GOOD_RESPONSE}\n{','.join(fields.values())}\n",
    )
    _, quarantine, staged = ingest(settings, "responses")
    assert [(q[1], q[2]) for q in quarantine] == [(3, "implausible:submitted_at")]
    assert staged == 1


def test_the_issues_absurd_roster_values_leave_the_marts_as_without_them(settings):
    """matched_on = 0001-01-01 made monthly_trends 97,296 rows; a target of 1e-19 overflowed a
    cast in at_risk_matches and blocked publishing. Through the real loader and marts."""
    exports_pipeline.land(settings, *exports_pipeline.ROSTER)
    exports_pipeline.ingest(settings)
    exports_pipeline.build(settings)  # the clean run, to compare with
    clean = exports_pipeline.rows(settings, "SELECT count(*) AS n FROM marts.monthly_trends")
    write_landing(
        settings,
        "roster/matches_2026-01-11.csv",
        f"{MATCHES_HEADER}\nM90,Grow,2026-Q1,U01,U12,0001-01-01,,,\n"
        "M91,Grow,2026-Q1,U02,U11,2026-01-10,,,1e-19\n",
    )
    results = exports_pipeline.ingest(settings)
    assert results["roster/matches_2026-01-11.csv"].reasons == {
        "implausible:matched_on": 1,
        "implausible:target_meetings_per_month": 1,
    }
    assert exports_pipeline.build(settings) == []  # every blocking check holds
    assert (
        exports_pipeline.rows(settings, "SELECT count(*) AS n FROM marts.monthly_trends") == clean
    )
    found = exports_pipeline.rows(
        settings, "SELECT count(*) AS n FROM marts.match_cadence WHERE match_id IN ('M90', 'M91')"
    )
    assert found == [{"n": 0}]


def test_mart_arithmetic_cannot_overflow_whatever_target_gets_through(settings):
    exports_pipeline.land(settings, *exports_pipeline.ROSTER)
    exports_pipeline.ingest(settings)
    exports_pipeline.build(settings)
    with open_working_db(settings) as con:
        # As if a later rule let it through: the marts must still build.
        con.execute(
            "UPDATE core.matches SET target_meetings_per_month = 1e-19 WHERE match_id = 'M02'"
        )
        dbt_compiled.build(
            con, ["marts.match_cadence", "marts.at_risk_matches", "marts.monthly_trends"]
        )
        ((status, reason),) = con.execute(
            "SELECT status, reason FROM marts.at_risk_matches WHERE match_id = 'M02'"
        ).fetchall()
    assert status == "not_started" and reason.endswith("target 1e-19/month")
