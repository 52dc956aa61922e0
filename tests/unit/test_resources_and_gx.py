"""The run lock and the working-database lock wait, one Settings per run, settings errors, and
the Great Expectations gate."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time

import dagster as dg
import polars as pl
import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.expectations import validate_batch
from assets.resources import WarehouseResource, open_working_db, run_config_for
from assets.run_lock import RunLockTimeout, file_lock, run_lock
from assets.settings import RUN_PARAMETERS, SettingsError, load_settings

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


_HOLD_RUN_LOCK = textwrap.dedent(
    """
    import sys, time
    from assets.run_lock import run_lock
    from assets.settings import load_settings
    with run_lock(load_settings(), "r-holder"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[1]))
    """
)


def _run_lock_holder(seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_RUN_LOCK, str(seconds)],
        env=os.environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_run_waiting_for_the_run_lock_sleeps_says_for_whom_and_gives_up(settings):
    holder = _run_lock_holder(30)
    said: list[str] = []
    try:
        started = time.process_time()
        with (
            pytest.raises(RunLockTimeout, match="Gave up after 2s waiting for run r-holder") as err,
            file_lock(settings.run_lock_path, "me", wait_seconds=2, log=said.append),
        ):
            pass
        assert time.process_time() - started < 0.5  # slept, did not spin
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert f"pid {holder.pid}" in str(err.value) and "MENTORPULSE_LOCK_WAIT_SECONDS" in str(
        err.value
    )
    (line,) = said
    assert line.startswith(f"Waiting for run r-holder / pid {holder.pid} on ")
    assert f"holding {settings.run_lock_path}" in line


def test_the_run_lock_of_a_killed_run_is_free_at_once(settings):
    holder = _run_lock_holder(60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    said: list[str] = []
    with file_lock(settings.run_lock_path, "me", wait_seconds=5, log=said.append):
        assert settings.run_lock_path.read_text() == "me"
    assert said == []


def test_the_run_lock_is_reentrant_in_one_process(settings):
    with run_lock(settings, "outer"), run_lock(settings, "inner", log=None):
        assert "run outer" in settings.run_lock_path.read_text()


def test_every_step_of_a_run_sees_one_settings_fixed_at_its_start(settings, monkeypatch):
    """Two steps get the very same object, with the run config's values; the run is tagged."""
    monkeypatch.delenv("MENTORPULSE_AS_OF")  # production default: "today" is computed once
    seen = []

    @dg.asset
    def first(warehouse: WarehouseResource):
        seen.append(warehouse.settings())

    @dg.asset(deps=[first])
    def second(warehouse: WarehouseResource):
        seen.append(warehouse.settings())

    job = dg.Definitions(
        assets=[first, second],
        resources={"warehouse": WarehouseResource()},
        jobs=[dg.define_asset_job("both")],
    ).resolve_job_def("both")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_config={"resources": {"warehouse": {"config": {"lapse_days": 30}}}},
        )
        tags = instance.get_run_by_id(result.run_id).tags
    assert result.success
    assert len(seen) == 2 and seen[0] is seen[1]
    assert seen[0].lapse_days == 30 and seen[0].timezone == "Europe/Lisbon"
    assert tags["mentorpulse/as_of"] == seen[0].as_of.isoformat()
    assert "lapse_days=30" in tags["mentorpulse/parameters"]
    assert tags["mentorpulse/pid"] == str(os.getpid())


def test_run_config_round_trips_the_settings(settings):
    config = run_config_for(settings)["resources"]["warehouse"]["config"]
    assert set(config) == set(RUN_PARAMETERS) and config["as_of"] == "2026-03-15"
    assert WarehouseResource(**config).settings() == settings


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


def test_gx_gate_sees_a_list_column_and_its_missing_values():
    """Lists reach GX as their text (cheaper for its pandas engine): present, nulls kept."""
    lists = pl.concat(
        [_meetings_frame(topics=["career", "skills"]), _meetings_frame(event_id="e2")]
    )
    assert validate_batch(SOURCES["meetings"], lists).success
    outcome = validate_batch(SOURCES["meetings"], lists.drop("topics"))
    assert not outcome.success
    assert {(f["expectation"], f["column"]) for f in outcome.failed} == {
        ("expect_column_to_exist", "topics")
    }


def test_validation_batches_are_bounded_and_skip_empty_files():
    from assets.ingest.assets import GX_BATCH_ROWS, _validation_batches
    from assets.ingest.loader import FileResult

    sizes = [GX_BATCH_ROWS // 2, GX_BATCH_ROWS // 2, 0, 10, GX_BATCH_ROWS * 2, 5]
    results = [
        FileResult(f"f{i}", "meetings", "loaded", rows_loaded=n) for i, n in enumerate(sizes)
    ]
    batches = [[r.path for r in batch] for batch in _validation_batches(results)]
    assert batches == [["f0", "f1"], ["f3"], ["f4"], ["f5"]]
