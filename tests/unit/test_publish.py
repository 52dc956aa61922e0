"""Publishing: an explicit allowlist of tables, no record text, and Parquet as one set per
publication, swapped in atomically and named by the warehouse it came with."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.publish import (
    COLUMNS_KEY,
    DESCRIPTION_KEY,
    PUBLISHED_TABLES,
    TABLE_KEY,
    VERSION_KEY,
    parquet_name,
    publish,
)
from assets.resources import open_working_db
from assets.warehouse.outcomes import build_outcome_marts
from assets.warehouse.pseudonyms import sync_participant_keys
from tests import dbt_compiled
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
        dbt_compiled.build(con)
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
    # The set holds every table of the warehouse it came with, with their descriptions.
    with duckdb.connect(str(working.published_path), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables()"
        ).fetchall()
        assert files == {parquet_name(schema, table) for schema, table, _ in tables}
        for schema, table, comment in tables:
            path = working.warehouse_dir / folder / parquet_name(schema, table)
            in_parquet = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
            assert in_parquet == con.execute(f"SELECT * FROM {schema}.{table}").fetchall()
            metadata = {
                k.decode(): v.decode()
                for k, v in con.execute(
                    "SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]
                ).fetchall()
            }
            assert metadata[TABLE_KEY] == f"{schema}.{table}"
            assert metadata[DESCRIPTION_KEY] == comment and comment
            described = con.execute(
                "SELECT column_name, comment FROM duckdb_columns() "
                "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
            assert json.loads(metadata[COLUMNS_KEY]) == dict(described)
        assert (working.warehouse_dir / folder / "core.matches.parquet").is_file()
        assert (working.warehouse_dir / folder / "ingest.quarantine.parquet").is_file()
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


def test_every_published_table_declares_its_key(working):
    """A primary key (NOT NULL key columns) or a unique key on each published table, as a
    DuckDB constraint, and the same key listed in ingest.table_keys."""
    publish_once(working)
    tables = {
        f"{s}.{t}"
        for s, t in published(working, "SELECT schema_name, table_name FROM duckdb_tables()")
    }
    constraints = published(
        working,
        "SELECT schema_name || '.' || table_name, constraint_type, constraint_column_names "
        "FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
    )
    declared = {table: (kind, columns) for table, kind, columns in constraints}
    assert set(declared) == tables
    listed = published(working, "SELECT table_name, key_kind, key_columns FROM ingest.table_keys")
    assert {t: (k, c) for t, k, c in listed} == declared
    not_null = set(
        published(
            working,
            "SELECT schema_name || '.' || table_name, constraint_column_names[1] "
            "FROM duckdb_constraints() WHERE constraint_type = 'NOT NULL'",
        )
    )
    for table, (kind, columns) in declared.items():
        if kind == "PRIMARY KEY":
            assert {(table, c) for c in columns} <= not_null, table


def test_a_duplicate_key_fails_the_publish_and_keeps_the_warehouse(working):
    publish_once(working)
    before = published(working, "SELECT version FROM ingest.publication")
    with open_working_db(working) as con:
        con.execute("INSERT INTO marts.program_health SELECT * FROM marts.program_health LIMIT 1")
        with pytest.raises(duckdb.ConstraintException):
            publish(con, working)
    assert published(working, "SELECT version FROM ingest.publication") == before


def test_published_warehouses_are_kept_by_as_of_date(working):
    """history/<as_of>/ holds each as-of date's warehouse and Parquet set; the newest run of a
    date replaces it; only the newest MENTORPULSE_KEEP_PUBLISHED dates stay."""
    kept = dataclasses.replace(working, keep_published=2)
    days = [dt.date(2026, 3, 1), dt.date(2026, 3, 8), dt.date(2026, 3, 8), dt.date(2026, 3, 15)]
    versions = {}
    for day in days:
        versions[day] = publish_once(dataclasses.replace(kept, as_of=day)).version
    history = working.warehouse_dir / "history"
    assert sorted(p.name for p in history.iterdir()) == ["2026-03-08", "2026-03-15"]
    for day in days[1:]:
        folder = history / day.isoformat()
        with duckdb.connect(str(folder / "mentoring.duckdb"), read_only=True) as con:
            assert con.execute("SELECT version, as_of FROM ingest.publication").fetchall() == [
                (versions[day], day)
            ]
        assert (folder / "parquet" / "match_cadence.parquet").is_file()
        assert oct(os.stat(folder / "mentoring.duckdb").st_mode & 0o777) == "0o644"
    # Last week's opens beside today's, and the current warehouse is today's.
    assert published(working, "SELECT version FROM ingest.publication") == [(versions[days[-1]],)]
    # The old Parquet sets went from warehouse/, the kept ones are whole in history/.
    assert not (working.warehouse_dir / f"parquet-{versions[days[0]]}").exists()
    with duckdb.connect() as con:
        old = history / "2026-03-08" / "parquet" / "match_cadence.parquet"
        assert con.execute(f"SELECT count(*) FROM read_parquet('{old}')").fetchall()[0][0] > 0

    publish_once(dataclasses.replace(working, keep_published=0, as_of=dt.date(2026, 3, 22)))
    assert not (history / "2026-03-22").exists()
