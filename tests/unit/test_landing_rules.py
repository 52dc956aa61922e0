"""Landing rules: only regular files inside landing/ are read; a file rejected whole never
counts as ingested; truncated records are quarantined; the quarantine keeps record text only
in the restricted schema, and `mentorpulse quarantine show` prints it."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.files import discover
from assets.ingest.loader import ensure_tables, ingest_file, ingest_source
from assets.resources import open_working_db
from pipelines.cli import main
from tests.conftest import write_landing
from tests.unit.exports_pipeline import ROSTER, land, quarantine
from tests.unit.exports_pipeline import ingest as exports_ingest
from tests.unit.test_ingest_rules import GOOD_GOAL, MATCHES_HEADER, RESPONSES_HEADER, meeting

SECRET = "6f1d-secret-pseudonym-key-0b9a"


def ingest_all(settings):
    with open_working_db(settings) as con:
        return [
            result
            for source in SOURCES.values()
            for result in ingest_source(con, source, settings.landing_dir, log=lambda m: None)
        ]


def query(settings, sql, params=None):
    with open_working_db(settings) as con:
        return con.execute(sql, params or []).fetchall()


def everything_stored(settings) -> str:
    """Every text value of every table of the working database, restricted included."""
    texts = []
    with open_working_db(settings) as con:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal"
        ).fetchall()
        for schema, table, column in columns:
            texts += [
                v for (v,) in con.execute(f'SELECT "{column}" FROM {schema}.{table}').fetchall()
            ]
    return "\n".join(str(t) for t in texts if t is not None)


@pytest.fixture
def outside(tmp_path):
    """A secret file and a folder of valid-looking files, both outside landing/."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "pseudonym.key").write_text(SECRET)
    (folder / "goals_2026-01-20.jsonl").write_text(json.dumps(GOOD_GOAL) + "\n")
    return folder


def test_links_fifos_and_linked_folders_are_rejected_unopened(settings, outside):
    meetings = settings.landing_dir / "meetings"
    write_landing(settings, "meetings/m_good.jsonl", meeting(event_id="good") + "\n")
    (meetings / "m_key.jsonl").symlink_to(outside / "pseudonym.key")
    (meetings / "m_inside.jsonl").symlink_to(meetings / "m_good.jsonl")  # even inside landing
    (meetings / "m_dangling.jsonl").symlink_to(outside / "gone.jsonl")
    os.mkfifo(meetings / "m_fifo.jsonl")  # opening it to read would block the run
    (settings.landing_dir / "goals").symlink_to(outside, target_is_directory=True)

    results = {r.path: r for r in ingest_all(settings)}

    rejected = {
        "meetings/m_key.jsonl": "a symbolic link",
        "meetings/m_inside.jsonl": "a symbolic link",
        "meetings/m_dangling.jsonl": "a symbolic link",
        "meetings/m_fifo.jsonl": "a FIFO",
        "goals/goals_2026-01-20.jsonl": "linked folder",
    }
    for path, why in rejected.items():
        assert results[path].status == "rejected", path
        assert "file:not_regular" in results[path].message and why in results[path].message
    assert results["meetings/m_good.jsonl"].status == "loaded"
    files = query(
        settings,
        "SELECT path, sha256, bytes, rows_read FROM ingest.files WHERE status = 'rejected'",
    )
    assert sorted(files) == sorted((path, None, 0, 0) for path in rejected)
    quarantined = query(settings, "SELECT path, reason, raw_text FROM ingest.quarantine")
    assert sorted(quarantined) == sorted((p, "file:not_regular", None) for p in rejected)
    assert query(settings, "SELECT count(*) FROM staging.goals") == [(0,)]
    assert SECRET not in everything_stored(settings)
    # Nothing changed: the next run records nothing again.
    assert ingest_all(settings) == []


def test_replacing_a_link_by_the_file_itself_loads_it(settings, outside):
    """The rejection says: put the file itself there instead (write it, then rename it in)."""
    goals = settings.landing_dir / "goals"
    goals.mkdir(parents=True)
    (goals / "goals_1.jsonl").symlink_to(outside / "goals_2026-01-20.jsonl")
    (result,) = ingest_all(settings)
    assert result.status == "rejected" and "rename it in" in result.message

    (goals / ".goals_1.jsonl.part").write_bytes((outside / "goals_2026-01-20.jsonl").read_bytes())
    os.replace(goals / ".goals_1.jsonl.part", goals / "goals_1.jsonl")
    (result,) = ingest_all(settings)
    assert (result.status, result.rows_loaded) == ("loaded", 1)


def test_changed_file_content_landed_under_a_new_name_loads(settings):
    """The rejection says: land new content under a new name. Doing so loses nothing."""
    path = write_landing(settings, "meetings/m_1.jsonl", meeting(event_id="a") + "\n")
    ingest_all(settings)
    changed = "\n".join(meeting(event_id=f"b{i}") for i in range(5)) + "\n"
    path.write_text(changed)
    (rejected,) = ingest_all(settings)
    assert rejected.status == "rejected" and "under a new name" in rejected.message

    write_landing(settings, "meetings/m_2.jsonl", changed)
    (renamed,) = ingest_all(settings)
    assert (renamed.status, renamed.rows_loaded) == ("loaded", 5)
    assert query(settings, "SELECT count(*) FROM staging.meetings") == [(6,)]
    # Loaded once: the same bytes under a third name are now a duplicate file.
    write_landing(settings, "meetings/m_3.jsonl", changed)
    (third,) = ingest_all(settings)
    assert third.status == "duplicate_file" and "meetings/m_2.jsonl" in third.message


def test_a_rejected_file_fixed_in_place_loads(settings):
    path = write_landing(
        settings, "roster/matches_1.csv", MATCHES_HEADER.encode() + b"\nM1,Caf\xe9,C,U1,U2\n"
    )
    (rejected,) = ingest_all(settings)
    assert rejected.status == "rejected" and "file:not_utf8" in rejected.message
    path.write_text(f"{MATCHES_HEADER}\nM1,P,C,U1,U2,2026-01-05,,,\n")
    (fixed,) = ingest_all(settings)
    assert (fixed.status, fixed.rows_loaded) == ("loaded", 1)


def test_csv_cut_inside_a_quoted_field_is_malformed_and_the_rest_loads(settings):
    good = "r-{n},checkin-2026-01,checkin,U1,X1,mentee,2026-02-01T12:30:00Z,5,3,4,5,4,5,9,ok"
    write_landing(
        settings,
        "surveys/responses_1.csv",
        f"{RESPONSES_HEADER}\n{good.format(n=1)}\n{good.format(n=2)}\n"
        + good.format(n=3).removesuffix("ok")
        + '"Great mentor, but\nthen the export stopp',
    )
    (result,) = ingest_all(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert query(settings, "SELECT line, reason, detail FROM ingest.quarantine") == [
        (4, "malformed", "the file ends inside a quoted field: the record is cut short")
    ]


def test_jsonl_line_cut_short_is_malformed_and_the_rest_loads(settings):
    lines = [meeting(event_id="a"), meeting(event_id="b"), meeting(event_id="c")[:40]]
    write_landing(settings, "meetings/m.jsonl", "\n".join(lines))
    (result,) = ingest_all(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert query(settings, "SELECT line, reason FROM ingest.quarantine") == [(3, "malformed")]


def test_record_text_stays_restricted_and_details_quote_no_personal_value(settings):
    note = "Told me about her divorce"
    write_landing(
        settings,
        "meetings/m.jsonl",
        "\n".join(
            [
                meeting(event_id="a", note=[note]),  # a note inside an array
                meeting(event_id="b", note={"text": note}),
                '{"event_id": "x", "no\\u0074e": "unterminated ' + note,
            ]
        ),
    )
    write_landing(
        settings,
        "roster/participants_1.csv",
        "participant_id,full_name,email\nU1,Ada Moreno,ada@example.com,extra\n",
    )
    ingest_all(settings)
    rows = query(settings, "SELECT path, line, reason, detail, raw_text FROM ingest.quarantine")
    assert sorted((r[0], r[1], r[2]) for r in rows) == [
        ("meetings/m.jsonl", 1, "bad_type:note"),
        ("meetings/m.jsonl", 2, "bad_type:note"),
        ("meetings/m.jsonl", 3, "malformed"),
        ("roster/participants_1.csv", 2, "malformed"),
    ]
    assert all(r[4] is None for r in rows)
    published_text = " ".join(str(v) for r in rows for v in r)
    for personal in ("divorce", "Ada Moreno", "ada@example.com", "U1"):
        assert personal not in published_text
    kept = query(settings, "SELECT line, raw_text FROM restricted.quarantine_raw ORDER BY line")
    assert [line for line, _ in kept] == [1, 2, 2, 3]
    kept_text = "\n".join(text for _, text in kept)
    assert note in kept_text and "Ada Moreno" in kept_text  # as in the file, for its fixer


def test_keys_that_may_be_personal_are_counted_not_listed(settings):
    record = json.loads(meeting(event_id="a"))
    record |= {"mentee_email": "x", "ada@example.com": 1, "Ada Moreno said": 2}
    write_landing(settings, "meetings/m.jsonl", json.dumps(record) + "\n")
    ingest_all(settings)
    assert query(settings, "SELECT unknown_fields, unknown_field_names FROM ingest.files") == [
        (3, "mentee_email, (2 more not shown: they may hold personal data)")
    ]


def test_quarantine_show_prints_the_record_and_says_when_there_is_none(settings, capsys):
    write_landing(settings, "meetings/m.jsonl", meeting(event_id="a", channel="zoom") + "\n")
    ingest_all(settings)

    assert main(["quarantine", "show", "meetings/m.jsonl", "1"]) == 0
    out = capsys.readouterr().out
    assert "rule bad_value:channel" in out and "got zoom" in out
    assert '"channel": "zoom"' in out  # the record's text, from the restricted schema
    assert main(["quarantine", "show", "landing/meetings/m.jsonl", "1"]) == 0  # as in landing/

    assert main(["quarantine", "show", "meetings/m.jsonl", "2"]) == 1
    assert "line 1: bad_value:channel" in capsys.readouterr().err
    assert main(["quarantine", "show", "meetings/other.jsonl", "1"]) == 1
    assert "relative to landing/" in capsys.readouterr().err


def test_quarantine_show_of_a_whole_file_rule_points_at_the_file(settings, capsys):
    write_landing(settings, "roster/matches_1.csv", MATCHES_HEADER.encode() + b"\nM1,\xff\n")
    ingest_all(settings)
    assert main(["quarantine", "show", "roster/matches_1.csv", "2"]) == 0
    out = capsys.readouterr().out
    assert "rule file:not_utf8" in out and "look at that line of the landing file" in out


def test_raw_text_of_an_older_working_database_moves_to_restricted(settings):
    with open_working_db(settings) as con:
        ingest_source(con, SOURCES["meetings"], settings.landing_dir, log=lambda m: None)
        con.execute(
            "INSERT INTO ingest.quarantine VALUES "
            "('meetings', 'meetings/old.jsonl', 4, 'old text', 'malformed', 'x', now(), 'L1')"
        )
        ingest_source(con, SOURCES["meetings"], settings.landing_dir, log=lambda m: None)
        assert con.execute("SELECT raw_text FROM ingest.quarantine").fetchall() == [(None,)]
        assert con.execute("SELECT * FROM restricted.quarantine_raw").fetchall() == [
            ("L1", 4, "old text")
        ]


def test_the_working_database_is_the_only_home_of_record_text(settings):
    """The restricted working database is 0600 under a 0700 folder."""
    write_landing(settings, "meetings/m.jsonl", "not json\n")
    ingest_all(settings)
    assert settings.restricted_dir.stat().st_mode & 0o777 == 0o700
    assert settings.working_db_path.stat().st_mode & 0o777 == 0o600
    with duckdb.connect(str(settings.working_db_path), read_only=True) as con:
        assert con.execute("SELECT raw_text FROM restricted.quarantine_raw").fetchall() == [
            ("not json",)
        ]


def test_a_file_swapped_for_a_link_after_it_was_found_is_not_followed(settings, outside):
    path = write_landing(settings, "meetings/m.jsonl", meeting() + "\n")
    (landed,) = discover(settings.landing_dir, SOURCES["meetings"])
    assert landed.not_regular is None
    path.unlink()
    path.symlink_to(outside / "pseudonym.key")
    with open_working_db(settings) as con:
        ensure_tables(con)
        result = ingest_file(con, landed)
    assert result.status == "rejected" and "file:not_regular" in result.message
    assert SECRET not in everything_stored(settings)


def test_a_tool_export_cut_inside_a_quoted_field_is_malformed_too(settings):
    google = "surveys/exports/checkin_2026-03_mentors_google.csv"
    land(settings, *ROSTER, google, "surveys/mappings/checkin_2026-03_mentors_google.yaml")
    export = settings.landing_dir / google
    whole = export.read_text().rstrip("\n")
    export.write_text(whole + '\n18/03/2026 10:00:00,ana.almeida@example.org,Agree,Agree,9,"Bea is')
    result = exports_ingest(settings)[google]
    cut_line = whole.count("\n") + 2
    assert quarantine(settings, google)[cut_line] == "malformed"
    assert result.rows_read == result.rows_loaded + result.rows_quarantined > 1
    (detail,) = query(
        settings,
        "SELECT detail FROM ingest.quarantine WHERE path = ? AND line = ?",
        [google, cut_line],
    )[0]
    assert "cut short" in detail
