"""Publishing: an explicit allowlist of tables, no record text, and Parquet as one set per
publication, swapped in atomically and named by the warehouse it came with."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.publish import PUBLISHED_TABLES, VERSION_KEY, publish
from assets.resources import open_working_db
from assets.warehouse.outcomes import build_outcome_marts
from assets.warehouse.pseudonyms import sync_participant_keys
from assets.warehouse.sql_runner import all_sql_tables, run_sql_table
from tests.conftest import copy_examples, write_landing


@pytest.fixture
def working(settings):
    """The examples ingested and every core and mart table built, in the working database."""
    copy_examples(settings)
    write_landing(settings, "meetings/z.jsonl", "not json\n")  # one quarantined record
    with open_working_db(settings) as con:
        for source in SOURCES.values():
            ingest_source(con, source, settings.landing_dir, log=lambda m: None)
        sync_participant_keys(con, settings.pseudonym_key())
        for table in all_sql_tables():
            run_sql_table(con, table)
        build_outcome_marts(con, settings)  # the outcome marts are Python (outcomes.py)
    return settings


def publish_once(settings):
    with open_working_db(settings) as con:
        return publish(con, settings)


def published(settings, sql):
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_only_the_allowlist_and_the_marts_are_published(working):
    with open_working_db(working) as con:
        marts = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
            ).fetchall()
        }
        assert con.execute("SELECT count(*) FROM core.survey_responses").fetchall()[0][0] > 0
    publish_once(working)
    tables = {
        f"{s}.{t}"
        for s, t in published(working, "SELECT schema_name, table_name FROM duckdb_tables()")
    }
    assert tables == set(PUBLISHED_TABLES) | {f"marts.{t}" for t in marts}
    for withheld in ("core.survey_responses", "core.invitations", "core.participants"):
        assert withheld not in tables
    assert published(working, "SELECT count(*), count(raw_text) FROM ingest.quarantine") == [(1, 0)]
    uncommented = published(
        working,
        "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL AND NOT internal",
    )
    assert uncommented == []


def parquet_set(settings) -> tuple[str, set[str], set[str]]:
    """(folder the link points to, its files, the versions their metadata name)."""
    folder = os.readlink(settings.parquet_dir)
    files = {p.name for p in (settings.warehouse_dir / folder).iterdir()}
    with duckdb.connect() as con:
        versions = {
            v.decode()
            for (v,) in con.execute(
                "SELECT value FROM parquet_kv_metadata(?) WHERE key = ?",
                [str(settings.warehouse_dir / folder / "*.parquet"), VERSION_KEY],
            ).fetchall()
        }
    return folder, files, versions


def test_parquet_is_one_set_named_by_the_warehouse(working):
    first = publish_once(working)
    folder, files, versions = parquet_set(working)
    assert folder == f"parquet-{first.version}" and versions == {first.version}
    assert len(files) == first.parquet_files > 5
    assert published(
        working, "SELECT version, parquet_dir, parquet_files FROM ingest.publication"
    ) == [(first.version, folder, first.parquet_files)]
    # The set holds exactly the marts of the warehouse it came with.
    with duckdb.connect(str(working.published_path), read_only=True) as con:
        for table in (name.removesuffix(".parquet") for name in files):
            in_parquet = con.execute(
                f"SELECT count(*) FROM read_parquet('{working.warehouse_dir / folder / table}.parquet')"
            ).fetchall()
            assert in_parquet == con.execute(f"SELECT count(*) FROM marts.{table}").fetchall()
    # Read through the link, as a BI tool does.
    assert (working.parquet_dir / "match_cadence.parquet").is_file()

    second = publish_once(working)
    third = publish_once(working)
    assert parquet_set(working)[2] == {third.version}
    # The previous set stays for readers still on it; older ones go.
    kept = sorted(p.name for p in working.warehouse_dir.glob("parquet-*"))
    assert kept == [f"parquet-{second.version}", f"parquet-{third.version}"]


_KILLED_EXPORT = textwrap.dedent(
    """
    import os
    from assets import publish
    from assets.resources import open_working_db
    from assets.settings import load_settings

    real_fsync = publish._fsync
    def die_after_two(path, count=[0]):
        real_fsync(path)
        count[0] += path.suffix == ".parquet"
        if count[0] == 2:
            os._exit(3)  # killed in the middle of the export: no clean-up runs
    publish._fsync = die_after_two
    settings = load_settings()
    with open_working_db(settings) as con:
        publish.publish(con, settings)
    """
)


def test_a_killed_export_leaves_the_last_set_whole_and_is_cleaned_next_time(working):
    before = publish_once(working)
    killed = subprocess.run([sys.executable, "-c", _KILLED_EXPORT], env=os.environ, check=False)
    assert killed.returncode == 3
    leftovers = [p.name for p in working.warehouse_dir.glob(".*")]
    assert any(name.endswith(".building") for name in leftovers)
    # Readers still see the whole earlier set, and the warehouse that names it.
    folder, files, versions = parquet_set(working)
    assert versions == {before.version} and len(files) == before.parquet_files
    assert published(working, "SELECT version FROM ingest.publication") == [(before.version,)]

    after = publish_once(working)
    assert [p.name for p in working.warehouse_dir.glob(".*")] == []
    assert parquet_set(working)[2] == {after.version}


def test_a_plain_parquet_folder_of_an_older_layout_is_replaced(working):
    old = working.parquet_dir
    old.mkdir(parents=True)
    (old / "match_cadence.parquet").write_text("old")
    (old / ".nps.parquet.part").write_text("partial")
    publish_once(working)
    assert (
        old.is_symlink()
        and not (working.warehouse_dir / "parquet-legacy" / ".nps.parquet.part").exists()
    )
    publish_once(working)
    assert not (working.warehouse_dir / "parquet-legacy").exists()
