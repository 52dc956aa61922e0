"""The run summary of `mentorpulse run`: only what this run did, plus every file still rejected."""

from __future__ import annotations

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.resources import open_working_db
from pipelines.cli import _report, main
from tests.conftest import write_landing

MEETING = '{"event_id":"e1","meeting_id":"m1","match_id":"X1","event_type":"completed","occurred_at":"2026-02-01T18:00:00Z","duration_minutes":30}\n'


def _ingest(settings, run_id: str) -> None:
    with open_working_db(settings) as con:
        ingest_source(
            con, SOURCES["meetings"], settings.landing_dir, log=lambda m: None, run_id=run_id
        )


def test_a_summary_lists_its_own_files_and_every_file_still_rejected(settings, capsys):
    write_landing(settings, "meetings/a.jsonl", MEETING)
    write_landing(settings, "meetings/empty.jsonl", "")
    _ingest(settings, "run-1")
    write_landing(settings, "meetings/b.jsonl", MEETING.replace("e1", "e2"))
    _ingest(settings, "run-2")

    _report(settings, "run-2", [], [])
    out = capsys.readouterr().out
    assert "Files ingested in this run: 1 " in out  # b.jsonl only, not run-1's files
    (rejected,) = [line for line in out.splitlines() if "empty.jsonl" in line]
    assert "file:empty" in rejected
    assert "Still rejected from earlier runs" in out

    # Removed from landing/, it is no longer listed; nothing new: the summary says so.
    (settings.landing_dir / "meetings/empty.jsonl").unlink()
    _report(settings, "run-3", [], [])
    out = capsys.readouterr().out
    assert "empty.jsonl" not in out and "No new files" in out


def test_the_summary_advice_to_show_a_quarantined_record_works(settings, capsys):
    write_landing(settings, "meetings/a.jsonl", MEETING + "{not json\n")
    _ingest(settings, "run-1")
    _report(settings, "run-1", [], [])
    out = capsys.readouterr().out
    assert "`mentorpulse quarantine show FILE LINE` prints a record" in out

    assert main(["quarantine", "show", "meetings/a.jsonl", "2"]) == 0
    shown = capsys.readouterr().out
    assert "rule malformed" in shown and "{not json" in shown
