"""Whole-file behaviour: bad files, duplicates, re-runs, renamed copies, ordering, crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.resources import open_working_db
from tests.conftest import copy_examples, write_landing
from tests.unit.test_ingest_rules import MATCHES_HEADER, meeting


def ingest_all(settings):
    with open_working_db(settings) as con:
        return [
            result
            for source in SOURCES.values()
            for result in ingest_source(con, source, settings.landing_dir, log=lambda m: None)
        ]


def query(settings, sql):
    with open_working_db(settings) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"", "file:empty"),
        (b"   \n\n", "file:empty"),
        (MATCHES_HEADER.encode() + b"\n", "file:no_records"),
        (MATCHES_HEADER.encode() + b"\nM1,Caf\xe9,C,U1,U2,2026-01-05,,,\n", "file:not_utf8"),
        (bytes(range(256)) * 4, "file:binary"),
    ],
)
def test_bad_file_is_rejected_and_the_others_still_load(settings, content, rule):
    write_landing(settings, "roster/matches_a.csv", content)
    write_landing(
        settings, "roster/matches_b.csv", f"{MATCHES_HEADER}\nM1,P,C,U1,U2,2026-01-05,,,\n"
    )
    results = ingest_all(settings)
    by_path = {r.path: r for r in results}
    bad = by_path["roster/matches_a.csv"]
    assert bad.status == "rejected"
    assert rule in bad.message
    assert by_path["roster/matches_b.csv"].status == "loaded"
    assert query(settings, "SELECT reason FROM ingest.quarantine") == [(rule,)]
    assert query(settings, "SELECT count(*) FROM staging.matches") == [(1,)]


def test_not_utf8_names_the_line(settings):
    write_landing(
        settings,
        "roster/matches_a.csv",
        MATCHES_HEADER.encode() + b"\nM1,P,C,U1,U2,2026-01-05,,,\nM2,\xff\n",
    )
    (result,) = ingest_all(settings)
    assert "line 3" in result.message
    assert query(settings, "SELECT line FROM ingest.quarantine") == [(3,)]


def test_rerun_loads_nothing_new(settings):
    copy_examples(settings)
    first = ingest_all(settings)
    counts = query(settings, "SELECT count(*) FROM staging.meetings")
    assert ingest_all(settings) == []
    assert query(settings, "SELECT count(*) FROM staging.meetings") == counts
    assert query(settings, "SELECT count(*) FROM ingest.files") == [(len(first),)]


def test_renamed_copy_is_a_duplicate_file(settings):
    copy_examples(settings)
    ingest_all(settings)
    original = settings.landing_dir / "meetings" / "meetings_2026-01-20.jsonl"
    write_landing(settings, "meetings/meetings_2026-02-01_resend.jsonl", original.read_bytes())
    (result,) = ingest_all(settings)
    assert result.status == "duplicate_file" and result.rows_loaded == 0
    assert "meetings/meetings_2026-01-20.jsonl" in result.message
    assert query(settings, "SELECT count(*) FROM staging.meetings") == [(5,)]


def test_exact_and_conflicting_duplicate_events(settings):
    write_landing(
        settings, "meetings/m_1.jsonl", meeting(event_id="a") + "\n" + meeting(event_id="b") + "\n"
    )
    write_landing(
        settings,
        "meetings/m_2.jsonl",
        "\n".join(
            [
                meeting(event_id="a"),  # re-delivered as is
                meeting(event_id="b", channel="phone"),  # same id, other content
                meeting(event_id="c"),
                meeting(event_id="c"),  # repeated within the file
                meeting(event_id="d"),
                meeting(event_id="d", duration_minutes=30),
            ]
        ),
    )
    results = ingest_all(settings)
    second = results[1]
    assert (
        second.rows_read,
        second.rows_loaded,
        second.rows_duplicate,
        second.rows_quarantined,
    ) == (6, 2, 2, 2)
    rows = query(settings, "SELECT line, reason, detail FROM ingest.quarantine ORDER BY line")
    assert [(r[0], r[1]) for r in rows] == [
        (2, "conflicting_duplicate"),
        (6, "conflicting_duplicate"),
    ]
    assert "meetings/m_1.jsonl line 2" in rows[0][2]
    assert "line 5 of this file" in rows[1][2]


def test_changed_file_is_rejected_not_reloaded(settings):
    path = write_landing(settings, "meetings/m.jsonl", meeting() + "\n")
    ingest_all(settings)
    path.write_text(meeting(event_id="other") + "\n")
    (result,) = ingest_all(settings)
    assert result.status == "rejected" and "immutable" in result.message
    assert query(settings, "SELECT count(*) FROM staging.meetings") == [(1,)]


def test_touched_file_is_not_ingested_again(settings):
    path = write_landing(settings, "meetings/m.jsonl", meeting() + "\n")
    ingest_all(settings)
    os.utime(path, ns=(1, 1))
    assert ingest_all(settings) == []
    assert query(settings, "SELECT file_mtime_ns FROM ingest.files") == [(1,)]


def test_roster_latest_file_name_wins_whatever_the_arrival_order(settings):
    later = f"{MATCHES_HEADER}\nX2,P,C,U1,U2,2026-01-05,2026-02-27,mentee_withdrew,\n"
    earlier = f"{MATCHES_HEADER}\nX2,P,C,U1,U2,2026-01-05,,,\n"
    write_landing(settings, "roster/matches_2026-03-01.csv", later)
    ingest_all(settings)  # the later file arrives first
    write_landing(settings, "roster/matches_2026-01-05.csv", earlier)
    ingest_all(settings)
    latest = query(
        settings,
        "SELECT ended_on FROM staging.matches "
        "QUALIFY row_number() OVER (ORDER BY _file_name DESC, _line DESC) = 1",
    )
    assert str(latest[0][0]) == "2026-02-27"


def test_files_apply_in_file_name_order(settings):
    for name in (
        "meetings_2026-03-01.jsonl",
        "meetings_2026-01-01.jsonl",
        "meetings_2026-02-01.jsonl",
    ):
        write_landing(settings, f"meetings/{name}", meeting(event_id=name) + "\n")
    assert [r.path for r in ingest_all(settings)] == [
        "meetings/meetings_2026-01-01.jsonl",
        "meetings/meetings_2026-02-01.jsonl",
        "meetings/meetings_2026-03-01.jsonl",
    ]


def test_reconciliation_invariant_holds_per_file(settings):
    copy_examples(settings)
    write_landing(settings, "meetings/z.jsonl", "not json\n" + meeting(event_id="ev-1") + "\n")
    ingest_all(settings)
    broken = query(
        settings,
        "SELECT path FROM ingest.files WHERE rows_read <> rows_loaded + rows_duplicate + rows_quarantined",
    )
    assert broken == []
    # 19 example records + 2 in z.jsonl: "not json" and ev-1 that conflicts with the examples'.
    totals = "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM ingest.files"
    assert query(settings, totals) == [(21, 19, 2)]


# --- real crashes: a child process dies (os._exit, no clean-up) -------------------------

_CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from assets.settings import load_settings
    from assets.resources import open_working_db
    from assets.ingest import loader
    from assets.ingest.contract import SOURCES

    mode = sys.argv[1]
    if mode == "mid_file":
        # die inside the transaction, after staging and quarantine rows were written
        loader._Load.record_file = lambda *a, **k: os._exit(3)
    settings = load_settings()
    with open_working_db(settings) as con:
        loader.ingest_source(con, SOURCES["meetings"], settings.landing_dir, log=lambda m: os._exit(3))
    """
)


def _crash(mode: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, mode], env=os.environ, check=False
    )
    assert completed.returncode == 3


def test_crash_between_files_keeps_the_first_and_loads_the_rest_next_time(settings):
    write_landing(settings, "meetings/m_1.jsonl", meeting(event_id="a") + "\n")
    write_landing(
        settings, "meetings/m_2.jsonl", meeting(event_id="b") + "\n" + meeting(event_id="c") + "\n"
    )
    _crash("between_files")
    assert query(settings, "SELECT path FROM ingest.files") == [("meetings/m_1.jsonl",)]
    results = ingest_all(settings)
    assert [(r.path, r.rows_loaded) for r in results] == [("meetings/m_2.jsonl", 2)]
    assert query(settings, "SELECT count(*) FROM staging.meetings") == [(3,)]


def test_crash_mid_file_leaves_no_trace(settings):
    write_landing(settings, "meetings/m_1.jsonl", meeting(event_id="a") + "\nbroken\n")
    _crash("mid_file")
    with open_working_db(settings) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "files" in tables:
            assert con.execute("SELECT count(*) FROM ingest.files").fetchall() == [(0,)]
            assert con.execute("SELECT count(*) FROM staging.meetings").fetchall() == [(0,)]
            assert con.execute("SELECT count(*) FROM ingest.quarantine").fetchall() == [(0,)]
    (result,) = ingest_all(settings)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)


def test_sample_json_of_examples_loads_cleanly(settings):
    copy_examples(settings)
    results = ingest_all(settings)
    assert all(r.status == "loaded" and r.rows_quarantined == 0 for r in results)
    assert json.loads(json.dumps([r.path for r in results]))  # every source produced a result
    assert {r.source for r in results} == set(SOURCES)
