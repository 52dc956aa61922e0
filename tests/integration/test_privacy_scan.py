"""Plays the attacker: the demo plus adversarial landing files (links out of landing/, personal
data in odd places), one real pipeline run, then a scan of everything published — every
table, column and comment of the published warehouse, every Parquet file, every page that is
not restricted — for every name, e-mail, note, comment, goal title and measure (free text the
participants write) and participant id of the landing files, for the lines of the files linked
to, and for the pseudonym secret. None may appear."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from sample_data.generator import generate
from tests.integration.conftest import demo_env, run_cli

SECRET = "pseudonym-secret-" + "c0ffee" * 8  # the HMAC key the run reads
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PERSONAL_CSV_COLUMNS = {"participant_id", "respondent_id", "full_name", "email", "comment"}
FREE_TEXT_JSON_FIELDS = ("note", "title", "measure")  # meetings' notes, goals' title and measure
MIN_LENGTH = 6  # shorter strings match by chance (a 5 in a score, a city name part)


def _adversarial_files(landing: Path, restricted: Path) -> set[str]:
    """Land the attacker's files; the personal strings they hold that the scan must not find."""
    roster = sorted((landing / "roster").glob("participants*.csv"))[0]
    person = next(csv.DictReader(roster.read_text(encoding="utf-8-sig").splitlines()))
    name, email, pid = person["full_name"], person["email"], person["participant_id"]
    meetings = landing / "meetings"
    (meetings / "meetings_2026-11-21_key.jsonl").symlink_to(restricted / "pseudonym.key")
    (meetings / "meetings_2026-11-21_passwd.jsonl").symlink_to("/etc/passwd")
    base = {
        "meeting_id": "mt-adv",
        "match_id": "M000051",
        "event_type": "completed",
        "occurred_at": "2026-11-10T18:00:00Z",
        "scheduled_start": "2026-11-10T17:00:00Z",
        "duration_minutes": 30,
    }
    notes = {
        "array": "Array note: Zelda Quartz cried about her layoff",
        "escaped": "Escaped-key note: Yorick Plum is leaving",
        "unknown": "Unknown-field note: Xavier Lune has debts",
        "python": "Python dict note: Wanda Fig is pregnant",
        "broken": "said the mentor shouted at her in front of the team",
    }
    lines = [
        json.dumps({**base, "event_id": "adv-1", "note": [notes["array"], name]}),
        json.dumps({**base, "event_id": "adv-2"})[:-1]
        + ', "no\\u0074e": '
        + json.dumps(notes["escaped"] + " " + email)
        + "}",
        json.dumps(
            {
                **base,
                "event_id": "adv-3",
                "notes": notes["unknown"],
                "mentee_email": email,
                email: 1,
            }
        ),
        str({"event_id": "adv-4", "note": notes["python"], "mentee_email": email}),
        f'{name} <{email}> {notes["broken"]} {{"event_id": "adv-5", "match_id": "{pid}',
    ]
    (meetings / "meetings_2026-11-21_adversarial.jsonl").write_text("\n".join(lines) + "\n")
    goal = {
        "event_id": "adv-g1",
        "goal_id": "goal-adv",
        "match_id": "M000051",
        "event_type": "set",
        "occurred_at": "2026-11-10T18:00:00Z",
        "title": "Goal title naming Tomas Reed's divorce",
        "measure": "Measure text: Una Vale stops crying at work",
        "horizon": "short_term",
        "note": notes["unknown"] + " (goals)",
        "mentee_email": email,
    }
    (landing / "goals" / "goals_2026-11-21_adversarial.jsonl").write_text(json.dumps(goal) + "\n")
    header = (
        "response_id,survey_id,instrument,respondent_id,match_id,role,submitted_at,guidance,"
        "networking,skills,feedback,communication,satisfaction,nps,comments"
    )
    comments = [
        "Renamed-column comment: my mentor Quentin Oak drinks at work",
        "Renamed-column comment on a broken row, Rosa Birch",
        "Comment cut short in its quotes: Sven Ash is",
    ]
    row = "r-adv-{n},checkin-2026-11,checkin," + pid + ",M000051,mentee,2026-11-10T12:00:00Z"
    rows = [
        row.format(n=1) + ",4,4,4,4,4,4,9," + comments[0],
        row.format(n=2) + ",4,4,4,4,4,4,9," + comments[1] + ",extra field",
        row.format(n=3) + ',4,4,4,4,4,4,9,"' + comments[2],
    ]
    (landing / "surveys" / "responses_2026-11-21_renamed.csv").write_text(
        header + "\n" + "\n".join(rows)
    )
    return {name, email, pid, *notes.values(), *comments, goal["title"], goal["measure"]}


def _landing_secrets(landing: Path) -> set[str]:
    """Every name, e-mail, note, comment, goal title and measure and participant id in the
    landing files."""
    found: set[str] = set()
    for path in landing.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        found |= set(EMAIL.findall(text))
        if path.suffix == ".csv":
            for row in csv.DictReader(text.splitlines()):
                found |= {v for k, v in row.items() if k in PERSONAL_CSV_COLUMNS and v}
        elif path.suffix == ".jsonl":
            for line in text.splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    found |= {
                        record[field]
                        for field in FREE_TEXT_JSON_FIELDS
                        if isinstance(record.get(field), str)
                    }
    return {s for s in found if len(s) >= MIN_LENGTH}


def _goal_texts(landing: Path) -> set[str]:
    """The goals' titles and measures in the landing files."""
    found: set[str] = set()
    for path in (landing / "goals").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                found |= {record.get("title"), record.get("measure")} - {None}
    return {s for s in found if isinstance(s, str) and len(s) >= MIN_LENGTH}


def _published_warehouse_text(path: Path) -> list[str]:
    texts = []
    with duckdb.connect(str(path), read_only=True) as con:
        texts += [
            c
            for (c,) in con.execute(
                "SELECT comment FROM duckdb_tables() UNION ALL "
                "SELECT comment FROM duckdb_columns() WHERE NOT internal"
            ).fetchall()
            if c
        ]
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND data_type NOT IN ('BIGINT', 'INTEGER', 'DOUBLE', 'BOOLEAN')"
        ).fetchall()
        for schema, table, column in columns:
            texts += [
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}"'
                ).fetchall()
                if v
            ]
    return texts


def _parquet_text(warehouse: Path) -> list[str]:
    texts = []
    with duckdb.connect() as con:
        for path in warehouse.rglob("*.parquet"):
            columns = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            for column, *_ in columns:
                texts += [
                    v
                    for (v,) in con.execute(
                        f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM read_parquet(?)',
                        [str(path)],
                    ).fetchall()
                    if v
                ]
            texts += [
                v.decode(errors="replace")
                for (v,) in con.execute(
                    "SELECT value FROM parquet_kv_metadata(?)", [str(path)]
                ).fetchall()
            ]
    return texts


def _public_pages_text(dashboards: Path) -> list[str]:
    restricted = {dashboards / "restricted", dashboards / "digest", dashboards / "operator"}
    pages = [
        p
        for p in dashboards.rglob("*")
        if p.is_file() and not any(p.is_relative_to(r) for r in restricted)
    ]
    assert any(p.suffix == ".html" for p in pages)
    return [p.read_text(errors="replace") for p in pages]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("privacy") / "data"
    env = demo_env(data_dir)
    landing, restricted = data_dir / "landing", data_dir / "restricted"
    generate(landing, profile="demo")
    restricted.mkdir(mode=0o700)
    key = restricted / "pseudonym.key"
    key.write_text(SECRET)
    key.chmod(0o600)
    planted = _adversarial_files(landing, restricted)
    completed = run_cli(env, "run")
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    return data_dir, planted


def test_nothing_personal_or_secret_is_published(attacked):
    data_dir, planted = attacked
    secrets = _landing_secrets(data_dir / "landing") | planted | {SECRET}
    secrets |= {line for line in Path("/etc/passwd").read_text().splitlines() if line}
    assert len(secrets) > 300 and planted <= secrets
    titles = _goal_texts(data_dir / "landing")
    assert len(titles) > 20 and titles <= secrets  # the goals' free text is scanned for

    for label, texts in (
        (
            "published warehouse",
            _published_warehouse_text(data_dir / "warehouse" / "mentoring.duckdb"),
        ),
        ("Parquet", _parquet_text(data_dir / "warehouse")),
        ("public pages", _public_pages_text(data_dir / "dashboards")),
    ):
        blob = "\n".join(texts)
        assert len(blob) > 1000, label
        leaked = sorted(s for s in secrets if s in blob)
        assert leaked == [], f"{label} leaks {leaked[:10]}"
    # The scan does find them where they are kept: the restricted working database.
    restricted = "\n".join(_published_warehouse_text(data_dir / "restricted" / "pipeline.duckdb"))
    assert len([kept for kept in planted if kept in restricted]) >= 3
    assert len([kept for kept in titles if kept in restricted]) > 20  # restricted.goal_texts


def test_no_published_table_has_a_row_per_response_or_person(attacked):
    data_dir, _ = attacked
    with duckdb.connect(str(data_dir / "warehouse" / "mentoring.duckdb"), read_only=True) as con:
        columns = con.execute(
            "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns"
        ).fetchall()
    identifying = {
        "response_id",
        "respondent_id",
        "respondent_key",
        "participant_id",
        "participant_key",
        "full_name",
        "email",
        "note",
        "comment",
    }
    # The one table with a row per person: the participant dimension, by pseudonymous key and
    # with no personal detail, every combination of its quasi-identifiers shared by k people.
    dimension = ("marts.participants", "participant_key")
    assert dimension in columns
    assert [c for c in columns if c[1] in identifying and c != dimension] == []
    tables = {table for table, _ in columns}
    assert not tables & {"core.survey_responses", "core.invitations", "core.participants"}
    with duckdb.connect(str(data_dir / "warehouse" / "mentoring.duckdb"), read_only=True) as con:
        (k,) = con.execute("SELECT min_group_size FROM core.run_info").fetchone()
        smallest = con.execute(
            "SELECT min(n) FROM (SELECT count(*) AS n FROM marts.participants "
            "GROUP BY role, program, department, location, tenure_band)"
        ).fetchone()[0]
    assert smallest >= k


def test_the_links_were_rejected_unopened_and_the_odd_records_accounted_for(attacked):
    data_dir, _ = attacked
    published = data_dir / "warehouse" / "mentoring.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        links = con.execute(
            "SELECT f.path, f.status, f.sha256, q.reason, q.raw_text FROM ingest.files f "
            "JOIN ingest.quarantine q USING (load_id) WHERE f.path LIKE '%_key.jsonl' "
            "OR f.path LIKE '%_passwd.jsonl' ORDER BY 1"
        ).fetchall()
        adversarial = dict(
            con.execute(
                "SELECT line, reason FROM ingest.quarantine "
                "WHERE path = 'meetings/meetings_2026-11-21_adversarial.jsonl'"
            ).fetchall()
        )
        renamed = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined, unknown_field_names "
            "FROM ingest.files WHERE path = 'surveys/responses_2026-11-21_renamed.csv'"
        ).fetchall()
        assert con.execute(
            "SELECT count(*) FROM ingest.quarantine WHERE raw_text IS NOT NULL"
        ).fetchall() == [(0,)]
    assert links == [
        ("meetings/meetings_2026-11-21_key.jsonl", "rejected", None, "file:not_regular", None),
        ("meetings/meetings_2026-11-21_passwd.jsonl", "rejected", None, "file:not_regular", None),
    ]
    assert adversarial == {1: "bad_type:note", 4: "malformed", 5: "malformed"}
    assert renamed == [(3, 1, 2, "comments")]
    # The record text is kept for whoever fixes the file, and shown by the command.
    env = demo_env(data_dir)
    shown = run_cli(
        env, "quarantine", "show", "meetings/meetings_2026-11-21_adversarial.jsonl", "4"
    )
    assert shown.returncode == 0 and "Python dict note" in shown.stdout
    assert os.stat(data_dir / "restricted" / "pipeline.duckdb").st_mode & 0o777 == 0o600
