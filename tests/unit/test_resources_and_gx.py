"""The working-database lock wait, settings errors, and the Great Expectations gate."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.expectations import validate_batch
from assets.resources import open_working_db
from assets.settings import SettingsError, load_settings

_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from assets.settings import load_settings
    from assets.resources import open_working_db
    with open_working_db(load_settings()) as con:
        print("locked", flush=True)
        time.sleep(float(sys.argv[1]))
    """
)


def test_a_second_writer_waits_for_the_lock_instead_of_failing(settings):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, "2"], env=os.environ, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with open_working_db(settings, wait_seconds=60) as con:
        assert con.execute("SELECT 1").fetchall() == [(1,)]
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert waited > 0.5  # it really waited for the other process to let go


def test_a_writer_gives_up_after_its_wait(settings):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, "5"], env=os.environ, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    try:
        with pytest.raises(Exception, match="lock"), open_working_db(settings, wait_seconds=0.5):
            pass
    finally:
        holder.wait(timeout=30)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("AS_OF", "2026-13-01", "YYYY-MM-DD"),
        ("TIMEZONE", "Mars/Olympus", "IANA"),
        ("MIN_GROUP_SIZE", "five", "whole number"),
        ("LAPSE_DAYS", "0", "at least 1"),
        ("DEFAULT_TARGET_PER_MONTH", "40", "<= 31"),
    ],
)
def test_bad_settings_name_the_variable(name, value, words):
    with pytest.raises(SettingsError, match=f"MENTORPULSE_{name}") as error:
        load_settings({f"MENTORPULSE_{name}": value})
    assert words in str(error.value)


def test_pseudonym_key_file_is_created_private_and_stable(settings):
    first = settings.pseudonym_key()
    assert (settings.restricted_dir / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert settings.pseudonym_key() == first and len(first) == 64


def _meetings_frame(**changes) -> pl.DataFrame:
    row = {c.name: None for c in SOURCES["meetings"].columns}
    row.update(
        event_id="e1",
        meeting_id="m1",
        match_id="X1",
        event_type="completed",
        occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        duration_minutes=30,
    )
    row.update(changes)
    return pl.DataFrame([row])


def test_gx_gate_passes_clean_rows():
    outcome = validate_batch(SOURCES["meetings"], _meetings_frame())
    assert outcome.success and outcome.evaluated > 10 and outcome.failed == []


def test_gx_gate_names_the_failed_expectations():
    outcome = validate_batch(
        SOURCES["meetings"], _meetings_frame(channel="zoom", duration_minutes=999)
    )
    assert not outcome.success
    failed = {(f["expectation"], f["column"]) for f in outcome.failed}
    assert failed == {
        ("expect_column_values_to_be_in_set", "channel"),
        ("expect_column_values_to_be_between", "duration_minutes"),
    }
    assert outcome.as_metadata()["expectations_failed"] == 2


def test_validation_batches_are_bounded_and_skip_empty_files():
    from assets.ingest.assets import GX_BATCH_ROWS, _validation_batches
    from assets.ingest.loader import FileResult

    sizes = [GX_BATCH_ROWS // 2, GX_BATCH_ROWS // 2, 0, 10, GX_BATCH_ROWS * 2, 5]
    results = [
        FileResult(f"f{i}", "meetings", "loaded", rows_loaded=n) for i, n in enumerate(sizes)
    ]
    batches = [[r.path for r in batch] for batch in _validation_batches(results)]
    assert batches == [["f0", "f1"], ["f3"], ["f4"], ["f5"]]
