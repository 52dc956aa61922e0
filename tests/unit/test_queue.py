"""The queue on each program's restricted page (dashboards/queue.py), from the fixture: each
pair once, the union of the rule's flags and the overdue goals (and the forecast's likely
bands), ranked, with who was contacted and when, a prepared message, and calibrated bands."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb
import pytest

from dashboards import queue
from dashboards.build import build_site
from dashboards.page import Context
from tests.dashboard_fixture import AS_OF, BUILT_AT, MIN_GROUP_SIZE, create_fixture

ENGINEERING = "Engineering Mentoring"


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as connection:
        create_fixture(connection)
        flagged = connection.execute(
            "SELECT match_id FROM marts.at_risk_matches WHERE program = ? ORDER BY match_id",
            [ENGINEERING],
        ).fetchall()
        connection.execute(
            """CREATE TABLE staging.followups (followup_id VARCHAR, match_id VARCHAR,
               contacted_on DATE, "by" VARCHAR, channel VARCHAR, outcome VARCHAR, note VARCHAR,
               _file_name VARCHAR, _line INTEGER)"""
        )
        recent = AS_OF - dt.timedelta(days=3)
        old = AS_OF - dt.timedelta(days=40)
        connection.executemany(
            "INSERT INTO staging.followups VALUES (?, ?, ?, ?, ?, ?, ?, 'f.csv', ?)",
            [
                ("f1", flagged[0][0], old, "bea", "phone", "no_answer", None, 1),
                ("f2", flagged[0][0], recent, "ana", "email", "reached", "Busy <b>month</b>", 2),
                ("f3", flagged[1][0], old, "ana", "email", "reached", None, 3),
            ],
        )
        yield connection


def _ctx(con, program=ENGINEERING) -> Context:
    return Context(
        con=con, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE, program=program
    )


def test_each_pair_once_the_flags_and_overdue_goals_merged(con):
    entries = queue.entries(_ctx(con))
    ids = [e.row["match_id"] for e in entries]
    assert len(ids) == len(set(ids))
    flagged = {
        m
        for (m,) in con.execute(
            "SELECT match_id FROM marts.at_risk_matches WHERE program = ?", [ENGINEERING]
        ).fetchall()
    }
    overdue = {
        m
        for (m,) in con.execute(
            """SELECT DISTINCT g.match_id FROM marts.goal_status g JOIN marts.match_cadence m
               USING (match_id) WHERE g.is_overdue AND m.is_active AND m.program = ?""",
            [ENGINEERING],
        ).fetchall()
    }
    assert flagged and overdue - flagged
    assert set(ids) >= flagged | overdue
    assert [e.rank for e in entries] == list(range(1, len(entries) + 1))
    assert {e.row["program"] for e in entries} == {ENGINEERING}


def test_recently_contacted_pairs_go_last_with_who_and_when(con):
    entries = queue.entries(_ctx(con))
    first_flagged = con.execute(
        "SELECT match_id FROM marts.at_risk_matches WHERE program = ? ORDER BY match_id LIMIT 1",
        [ENGINEERING],
    ).fetchone()[0]
    last = entries[-1]
    assert last.row["match_id"] == first_flagged and last.recently_contacted
    text = queue.contacted_text(last.row)
    assert text.startswith(f"Contacted {(AS_OF - dt.timedelta(days=3)).isoformat()} by ana")
    assert "2 contacts in all" in text
    # Without a model, flagged pairs come first, longest without a meeting first.
    rest = [e for e in entries if not e.recently_contacted]
    flags = [e.row["flagged"] for e in rest]
    assert flags == sorted(flags, reverse=True)
    days = [e.row["days_without_meeting"] for e in rest if e.row["flagged"]]
    assert days == sorted(days, reverse=True)
    assert queue.urgent(entries) == rest[:5]


def test_the_prepared_message_is_to_the_right_person(con):
    for entry in queue.entries(_ctx(con)):
        step = queue.next_step(entry)
        row = entry.row
        if row["rule_status"] == "not_started":
            assert step.to == (row["mentor_email"] or row["mentee_email"])
        elif row["flagged"]:
            assert step.to == row["mentor_email"]
        else:
            assert step.to == row["mentee_email"] and "goal" in step.text
        link = step.mailto()
        if step.to:
            parts = urlsplit(link)
            assert unquote(parts.path) == step.to
            assert parse_qs(parts.query)["body"][0] == step.body


def test_the_page_opens_on_the_queue_as_cards_with_an_export_and_escaped_notes(con, tmp_path):
    build_site(con, tmp_path, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE)
    page = (tmp_path / "restricted" / "engineering-mentoring" / "at_risk.html").read_text()
    main = page.split("<main>")[1]
    assert main.lstrip().startswith('<section class="card wide" id="queue">')
    cards = re.findall(r'<article class="qcard"([^>]*)>', page)
    entries = queue.entries(_ctx(con))
    assert len(cards) == len(entries)
    first = json.loads(html.unescape(re.search(r'data-csv="([^"]*)"', cards[0]).group(1)))
    header = json.loads(html.unescape(re.search(r'data-header="([^"]*)"', page).group(1)))
    assert len(first) == len(header) and first[0] == 1
    assert "Busy &lt;b&gt;month&lt;/b&gt;" in page and "<b>month</b>" not in page
    assert 'href="/followup/engineering-mentoring/' in page
    # Nothing of the other program.
    assert "Liderança" not in "".join(cards)


def test_forecast_bands_are_the_back_tests_observed_rates(con):
    con.execute(
        """CREATE TABLE marts.risk_backtest AS SELECT * FROM (VALUES
           ('fitted', '[{"bin_low": 0.8, "bin_high": 0.9, "matches": 3, "mean_probability": 0.85, "observed_rate": 0.3333333}]'),
           ('fitted', '[{"bin_low": 0.8, "bin_high": 0.9, "matches": 1, "mean_probability": 0.84, "observed_rate": 1.0},
                        {"bin_low": 0.9, "bin_high": 1.0, "matches": 2, "mean_probability": 0.95, "observed_rate": 0.5}]'),
           ('too_short', NULL)) AS t(model_status, calibration)"""
    )
    try:
        bands = queue.bands(_ctx(con))
        assert [(b.label, b.matches, round(b.observed, 3)) for b in bands] == [
            ("80–90%", 4, 0.5),
            ("90–100%", 2, 0.5),
        ]
        assert queue.band_of(1.0, bands).label == "90–100%"
        assert queue.band_of(0.85, bands).observed == pytest.approx(0.5)
        assert queue.band_of(0.2, bands) is None
    finally:
        con.execute("DROP TABLE marts.risk_backtest")
