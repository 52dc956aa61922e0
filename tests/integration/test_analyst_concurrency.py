"""Two real processes: an analyst holds the published warehouse open while a run happens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

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
    time.sleep(0.5)  # let the re-opening reader see the new file a few times
    stop.touch()
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]

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
