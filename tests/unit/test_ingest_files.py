"""Whole-file behaviour: bad files, duplicates, re-runs, renamed copies, ordering, crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from assets.ingest import loader
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


def test_a_late_file_earlier_in_name_order_wins_as_if_files_came_in_order(settings):
    """Files apply in file-name order whatever order they arrive in: the late file's record
    takes the place of the conflicting one loaded before from a later-named file, which moves
    to quarantine under its own file, counts and all (nothing lost)."""
    write_landing(
        settings, "meetings/m_2026-03-12.jsonl", meeting(event_id="e1", duration_minutes=30) + "\n"
    )
    ingest_all(settings)
    write_landing(
        settings,
        "meetings/m_2026-03-11.jsonl",
        meeting(event_id="e1", duration_minutes=90) + "\n" + meeting(event_id="e2") + "\n",
    )
    (late,) = ingest_all(settings)
    assert (late.rows_loaded, late.rows_quarantined) == (2, 0)
    assert "took the place of" in late.message
    incremental = {
        "meetings": query(
            settings,
            "SELECT event_id, duration_minutes, _source_path, _line FROM staging.meetings "
            "ORDER BY ALL",
        ),
        "files": query(
            settings,
            "SELECT path, rows_read, rows_loaded, rows_duplicate, rows_quarantined "
            "FROM ingest.files ORDER BY path",
        ),
        "quarantine": query(settings, "SELECT path, line, reason FROM ingest.quarantine"),
    }
    assert incremental["meetings"][0] == ("e1", 90, "meetings/m_2026-03-11.jsonl", 1)
    assert [row[0] for row in incremental["meetings"]] == ["e1", "e2"]
    assert incremental["quarantine"] == [
        ("meetings/m_2026-03-12.jsonl", 1, "conflicting_duplicate")
    ]
    assert ("meetings/m_2026-03-12.jsonl", 1, 0, 0, 1) in incremental["files"]
    ((detail, text),) = query(
        settings,
        "SELECT q.detail, r.raw_text FROM ingest.quarantine q "
        "JOIN restricted.quarantine_raw r USING (load_id, line)",
    )
    assert "m_2026-03-11.jsonl line 1" in detail and '"duration_minutes":30' in text
    # From scratch, in name order: the same rows and the same counts.
    settings.working_db_path.unlink()
    ingest_all(settings)
    assert (
        query(
            settings,
            "SELECT event_id, duration_minutes, _source_path, _line FROM staging.meetings ORDER BY ALL",
        )
        == incremental["meetings"]
    )
    assert (
        query(
            settings,
            "SELECT path, rows_read, rows_loaded, rows_duplicate, rows_quarantined "
            "FROM ingest.files ORDER BY path",
        )
        == incremental["files"]
    )


def test_same_bytes_twice_in_one_batch_is_a_duplicate_file_unless_rejected(settings):
    write_landing(settings, "meetings/m_1.jsonl", meeting(event_id="a") + "\n")
    write_landing(settings, "meetings/m_2.jsonl", meeting(event_id="a") + "\n")
    no_mentor = MATCHES_HEADER.replace(",mentor_id", "") + "\nM1,P,C,U2,2026-01-05,,,\n"
    write_landing(settings, "roster/matches_1.csv", no_mentor)
    write_landing(settings, "roster/matches_2.csv", no_mentor)
    by_path = {r.path: r for r in ingest_all(settings)}
    second = by_path["meetings/m_2.jsonl"]
    assert second.status == "duplicate_file" and "meetings/m_1.jsonl" in second.message
    # A file rejected whole never counts as ingested, not even for a twin in its own batch.
    assert [by_path[f"roster/matches_{n}.csv"].status for n in (1, 2)] == ["rejected"] * 2
    assert query(settings, "SELECT count(*) FROM staging.meetings") == [(1,)]


def test_batch_size_changes_nothing_but_the_number_of_transactions(settings, monkeypatch):
    """Files loaded in one batch give the rows, reasons and details files loaded one by one
    give: the first delivery of a key wins, later files name it."""
    copy_examples(settings)
    write_landing(settings, "meetings/z_1.jsonl", meeting(event_id="a") + "\nbroken\n")
    write_landing(
        settings,
        "meetings/z_2.jsonl",
        "\n".join([meeting(event_id="a", channel="phone"), meeting(event_id="b")] * 2) + "\n",
    )
    tables = {
        "files": "SELECT path, status, rows_read, rows_loaded, rows_duplicate, rows_quarantined, "
        "unknown_fields, message FROM ingest.files ORDER BY path",
        "quarantine": "SELECT path, line, reason, detail FROM ingest.quarantine ORDER BY ALL",
        "raw": "SELECT f.path, r.line, r.raw_text FROM restricted.quarantine_raw r "
        "JOIN ingest.files f USING (load_id) ORDER BY ALL",
        "meetings": "SELECT * EXCLUDE (_load_id, _ingested_at) FROM staging.meetings ORDER BY ALL",
    }
    ingest_all(settings)
    together = {name: query(settings, sql) for name, sql in tables.items()}
    settings.working_db_path.unlink()
    monkeypatch.setattr(loader, "BATCH_RECORDS", 1)
    ingest_all(settings)
    assert {name: query(settings, sql) for name, sql in tables.items()} == together
    assert ("meetings/z_2.jsonl", 1, "conflicting_duplicate") in {
        row[:3] for row in together["quarantine"]
    }


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
    # 21 example records + 2 in z.jsonl: "not json" and ev-1 that conflicts with the examples'.
    totals = "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM ingest.files"
    assert query(settings, totals) == [(23, 21, 2)]


# --- real crashes: a child process dies (os._exit, no clean-up) -------------------------

_CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from assets.settings import load_settings
    from assets.resources import open_working_db
    from assets.ingest import loader
    from assets.ingest.contract import SOURCES

    mode = sys.argv[1]
    if mode == "between_batches":
        loader.BATCH_RECORDS = 1  # every file a batch (one transaction) of its own
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


def test_crash_between_batches_keeps_the_first_and_loads_the_rest_next_time(settings):
    write_landing(settings, "meetings/m_1.jsonl", meeting(event_id="a") + "\n")
    write_landing(
        settings, "meetings/m_2.jsonl", meeting(event_id="b") + "\n" + meeting(event_id="c") + "\n"
    )
    _crash("between_batches")
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
