"""Real processes: analysts read the published warehouse and its Parquet while runs and
publishes happen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

from assets.publish import VERSION_KEY, publish
from assets.resources import open_working_db
from tests.conftest import copy_examples, write_landing

# Observes the published file in a loop, either through one connection held open all along
# ("hold") or through a new connection each time ("reopen"), until told to stop.
_READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    path, mode, out, stop = sys.argv[1:5]
    query = '''SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts'),
                      (SELECT count(*) FROM ingest.files),
                      (SELECT sum(meetings_held) FROM marts.match_cadence)'''
    seen, errors = [], []
    con = duckdb.connect(path, read_only=True) if mode == 'hold' else None
    print('ready', flush=True)
    import os
    while not os.path.exists(stop):
        try:
            if mode == 'reopen':
                with duckdb.connect(path, read_only=True) as fresh:
                    seen.append(fresh.execute(query).fetchall()[0])
            else:
                seen.append(con.execute(query).fetchall()[0])
        except Exception as error:
            errors.append(repr(error))
        time.sleep(0.02)
    json.dump({'seen': [list(s) for s in seen], 'errors': errors}, open(out, 'w'))
    """
)


# Reads the Parquet set in a loop as a careful reader does: resolve warehouse/parquet once, then
# read every file of that folder (data and the version in its metadata); and, as a BI tool
# does, one file through the link.
_PARQUET_READER = textwrap.dedent(
    """
    import glob, json, os, sys, time, duckdb
    link, out, stop, version_key = sys.argv[1:5]
    seen, errors = [], []
    con = duckdb.connect()
    print('ready', flush=True)
    while not os.path.exists(stop):
        try:
            folder = os.path.realpath(link)
            files = sorted(glob.glob(os.path.join(folder, '*.parquet')))
            versions = con.execute(
                'SELECT DISTINCT value FROM parquet_kv_metadata($files) WHERE key = $key',
                {'files': files, 'key': version_key},
            ).fetchall()
            rows = con.execute('SELECT count(*) FROM read_parquet($files, union_by_name = true)',
                               {'files': files}).fetchall()[0][0]
            con.execute('SELECT count(*) FROM read_parquet($f)',
                        {'f': os.path.join(link, 'match_cadence.parquet')}).fetchall()
            seen.append([os.path.basename(folder), len(files), sorted(v.decode() for (v,) in versions), rows])
        except Exception as error:
            errors.append(repr(error))
        time.sleep(0.01)
    json.dump({'seen': seen, 'errors': errors}, open(out, 'w'))
    """
)


def _run_pipeline(env: dict) -> subprocess.CompletedProcess:
    mentorpulse = Path(sys.executable).with_name("mentorpulse")
    return subprocess.run(
        [str(mentorpulse), "run"], env=env, capture_output=True, text=True, timeout=600
    )


def test_reader_neither_blocks_a_run_nor_sees_a_half_built_state(settings, tmp_path):
    env = {**os.environ}
    copy_examples(settings)
    first = _run_pipeline(env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    published = str(settings.published_path)
    with duckdb.connect(published, read_only=True) as con:
        before = con.execute(
            "SELECT count(*) FROM ingest.files UNION ALL SELECT sum(meetings_held) FROM marts.match_cadence"
        ).fetchall()

    stop = tmp_path / "stop"
    readers = {}
    for mode in ("hold", "reopen"):
        out = tmp_path / f"{mode}.json"
        process = subprocess.Popen(
            [sys.executable, "-c", _READER, published, mode, str(out), str(stop)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        readers[mode] = (process, out)
    parquet_out = tmp_path / "parquet.json"
    parquet_reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PARQUET_READER,
            str(settings.parquet_dir),
            str(parquet_out),
            str(stop),
            VERSION_KEY,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parquet_reader.stdout.readline().strip() == "ready"

    write_landing(
        settings,
        "meetings/meetings_2026-02-20.jsonl",
        json.dumps(
            {
                "event_id": "new-1",
                "meeting_id": "mt-new",
                "match_id": "X1",
                "event_type": "completed",
                "occurred_at": "2026-02-10T18:00:00Z",
                "scheduled_start": "2026-02-10T17:00:00Z",
                "duration_minutes": 30,
            }
        ),
    )
    second = _run_pipeline(env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    versions = []
    for _ in range(4):  # publish again and again while the Parquet reader reads
        with open_working_db(settings) as con:
            versions.append(publish(con, settings).version)
        time.sleep(0.2)
    time.sleep(0.5)  # let the re-opening reader see the new file a few times
    stop.touch()

    parquet_reader.wait(timeout=60)
    parquet = json.loads(parquet_out.read_text())
    assert parquet["errors"] == []
    with duckdb.connect(published, read_only=True) as con:
        (tables_count,) = con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0]
    for folder, files, file_versions, rows in parquet["seen"]:
        # Every observation is one whole set: a file per published table, all of the folder's
        # version.
        assert (files, file_versions) == (tables_count, [folder.removeprefix("parquet-")])
        assert rows > 0
    seen_versions = {folder for folder, *_ in parquet["seen"]}
    assert {f"parquet-{v}" for v in versions[-2:]} <= seen_versions

    results = {}
    for mode, (process, out) in readers.items():
        process.wait(timeout=60)
        results[mode] = json.loads(out.read_text())
        assert results[mode]["errors"] == []
        assert len(results[mode]["seen"]) > 5

    # The held connection saw one unchanging snapshot: the state before the run.
    marts_tables, files_before, held_before = results["hold"]["seen"][0]
    assert [files_before, held_before] == [before[0][0], before[1][0]]
    assert {tuple(s) for s in results["hold"]["seen"]} == {
        (marts_tables, files_before, held_before)
    }
    # The re-opening reader saw only complete states: the old one, then the new one.
    states = [tuple(s) for s in results["reopen"]["seen"]]
    after = (marts_tables, files_before + 1, held_before + 1)
    assert set(states) <= {(marts_tables, files_before, held_before), after}
    assert states[-1] == after
