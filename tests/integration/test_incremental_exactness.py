"""Incremental runs equal a build from scratch, bit for bit (issue 13).

One data root lands a history and then more days one run at a time, the awkward ways real
feeds deliver them: a day's files late, after a later day's; two days in reverse name order
in one run; roster changes (a match closed, targets changed, a person moved) and a late roster
file that must lose to a later-named one; an exact re-sent duplicate under a new name; files
of conflicting duplicate records; files of days after the as-of date, and a nightly run with
nothing new where only the as-of date moves. After each run a fresh data root, holding the
same landing files (same names, same mtimes) and the same pseudonym key, is built from scratch
for the same as-of date; every table of `marts` and `core`, in the working database and in the
published warehouse, must be identical.

The runs are the CLI's (`pipelines.cli.main(["run", ...])`), in this process, each data root
with its own real Dagster instance (DAGSTER_HOME under the root) kept across its runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from sample_data.generator import MANIFEST_NAME, generate, generate_day
from sample_data.landing import CSV_HEADERS
from tests.integration.warehouse_equality import differences

PROFILE = "small"  # the smallest with cohorts, roster endings, goals and survey waves
HISTORY_END = dt.date(2026, 3, 10)
TIMEZONE = "Europe/Lisbon"
COMPARED_SCHEMAS = ("core", "marts")
DETAILED_TABLES = 4  # differing tables whose rows a failure shows; the others are listed
# Columns that differ between two runs by nature; nothing else may. (ingest.* is not
# compared: load ids, ingested_at and which of two same-byte files counts as the duplicate
# are facts of each root's own runs, not of the data.)
EXCLUDED = {
    "core.run_info": {"built_at": "current_timestamp of the run that built the table"},
}


def day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


class Landing:
    """The incremental root's landing/: files arrive as writers deliver them (a hidden name,
    then a rename), each with a later mtime than the one before."""

    def __init__(self, landing_dir: Path, days_dir: Path):
        self.dir = landing_dir
        self.days_dir = days_dir
        self.clock_ns = max(p.stat().st_mtime_ns for p in landing_dir.rglob("*")) + 10**9

    def land(self, relative: str, data: bytes) -> Path:
        path = self.dir / relative
        temporary = path.with_name(f".{path.name}.part")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        os.utime(path, ns=(self.clock_ns, self.clock_ns))
        self.clock_ns += 10**9
        return path

    def day_files(self, date: dt.date) -> list[Path]:
        """The generator's files of one later day (written aside beforehand)."""
        folder = self.days_dir / date.isoformat()
        return sorted(p for p in folder.rglob("*.*") if p.name != MANIFEST_NAME)

    def land_day(self, date: dt.date) -> None:
        folder = self.days_dir / date.isoformat()
        for path in self.day_files(date):
            self.land(path.relative_to(folder).as_posix(), path.read_bytes())

    def roster_rows(self, kind: str) -> dict[str, dict[str, str]]:
        """The latest row per id of a roster kind, files in name order (as core resolves)."""
        latest: dict[str, dict[str, str]] = {}
        for path in sorted(self.dir.glob(f"roster/{kind}*.csv"), key=lambda p: p.name):
            with path.open(newline="", encoding="utf-8-sig") as handle:
                for row in csv.DictReader(handle):
                    latest[row[CSV_HEADERS[kind][0]]] = row
        return latest

    def land_roster(self, kind: str, name: str, rows: list[dict[str, str]]) -> None:
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_HEADERS[kind], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        self.land(f"roster/{name}", out.getvalue().encode())

    def land_jsonl(self, relative: str, records: list[dict]) -> None:
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        self.land(relative, lines.encode())


def run(monkeypatch: pytest.MonkeyPatch, capsys, data_dir: Path, as_of: dt.date) -> str:
    """`mentorpulse run --as-of D` on a data root, with that root's own Dagster instance."""
    with monkeypatch.context() as env:
        for name in list(os.environ):
            if name.startswith("MENTORPULSE_"):
                env.delenv(name)
        env.setenv("MENTORPULSE_DATA_DIR", str(data_dir))
        env.setenv("MENTORPULSE_TIMEZONE", TIMEZONE)
        env.setenv("MENTORPULSE_AS_OF", as_of.isoformat())  # restored after the run
        env.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))
        code = main(["run", "--as-of", as_of.isoformat()])
    output = capsys.readouterr()
    assert code == 0, (
        f"run of {data_dir} as of {as_of} failed (exit {code}):\n"
        f"{output.out[-4000:]}\n--- stderr ---\n{output.err[-4000:]}"
    )
    return output.out


def from_scratch(incremental: Path, fresh: Path) -> None:
    """A new data root with the incremental root's landing files (names and mtimes kept) and
    its pseudonym key, nothing else."""
    shutil.copytree(incremental / "landing", fresh / "landing", copy_function=shutil.copy2)
    restricted = fresh / "restricted"
    restricted.mkdir(mode=0o700)
    key = restricted / "pseudonym.key"
    shutil.copy2(incremental / "restricted" / "pseudonym.key", key)
    key.chmod(0o600)


def assert_same_as_from_scratch(incremental: Path, fresh: Path, step: str) -> None:
    problems = []
    for database in ("restricted/pipeline.duckdb", "warehouse/mentoring.duckdb"):
        found = differences(
            incremental / database,
            fresh / database,
            COMPARED_SCHEMAS,
            EXCLUDED,
            labels=("incremental", "from-scratch"),
        )
        problems += [f"[{database}] {problem}" for problem in found]
    # The first tables in full (their differing rows), the rest by their summary line only.
    shown = problems[:DETAILED_TABLES] + [p.split("\n")[0] for p in problems[DETAILED_TABLES:]]
    assert not problems, (
        f"after {step}, {len(problems)} tables of the incremental build differ from a build "
        f"from scratch of the same files ({incremental} vs {fresh}):\n\n" + "\n\n".join(shown)
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def other_target(row: dict[str, str]) -> str:
    return next(t for t in ("4", "3", "1") if t != row["target_meetings_per_month"])


def as_number(target: str) -> float | None:
    return float(target) if target else None


def test_incremental_runs_equal_a_build_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    root = tmp_path / "incremental" / "data"
    generate(root / "landing", profile=PROFILE, end_date=HISTORY_END)
    days_dir = tmp_path / "days"
    for n in range(11, 18):  # each later day's generator files, written aside until they land
        folder = days_dir / day(n).isoformat()
        folder.mkdir(parents=True)
        shutil.copy(root / "landing" / MANIFEST_NAME, folder)
        generate_day(folder, day(n), profile=PROFILE)
    landing = Landing(root / "landing", days_dir)

    # --- the edits, made from the generated files --------------------------------------
    # Roster edits touch matches open at the end of the history that no generated day changes.
    changed_by_days = {
        row["match_id"]
        for n in range(11, 18)
        for path in landing.day_files(day(n))
        if path.name.startswith("matches")
        for row in csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())
    }
    matches = landing.roster_rows("matches")
    open_matches = [m for m in sorted(matches) if not matches[m]["ended_on"]]
    closed, retargeted, late_retargeted = (
        matches[m] for m in [m for m in open_matches if m not in changed_by_days][:3]
    )
    roster_changes = [
        {**closed, "ended_on": "2026-03-11", "end_reason": "mentee_withdrew"},
        {**retargeted, "target_meetings_per_month": other_target(retargeted)},
    ]
    mentee = landing.roster_rows("participants")[retargeted["mentee_id"]]
    moved = {**mentee, "department": "Legal" if mentee["department"] != "Legal" else "Sales"}
    # Named before matches_2026-03-11_changes.csv: its row for the closed match must lose.
    late_roster = [
        {**closed, "target_meetings_per_month": other_target(closed)},
        {**late_retargeted, "target_meetings_per_month": other_target(late_retargeted)},
    ]

    day_11 = days_dir / "2026-03-11"
    day_11_meetings = read_jsonl(day_11 / "meetings" / "meetings_2026-03-11.jsonl")
    completed = [r for r in day_11_meetings if isinstance(r.get("duration_minutes"), int)][:2]
    new_event = {
        "event_id": "ev-exactness-1",
        "meeting_id": "mt-exactness-1",
        "match_id": retargeted["match_id"],
        "event_type": "scheduled",
        "occurred_at": "2026-03-13T09:00:00Z",
        "scheduled_start": "2026-03-19T10:00:00Z",
        "duration_minutes": 45,
        "channel": "video",
    }
    meeting_corrections = [
        *({**r, "duration_minutes": r["duration_minutes"] + 15} for r in completed),
        next(r for r in day_11_meetings if r not in completed),  # again, unchanged: exact
        new_event,
        {**new_event, "scheduled_start": "2026-03-20T10:00:00Z"},  # conflicts within the file
    ]
    late_version = {**new_event, "duration_minutes": 60}
    goal_corrections = [
        {**g, "progress_pct": g["progress_pct"] + 5 if g["progress_pct"] <= 95 else 50}
        for g in read_jsonl(day_11 / "goals" / "goals_2026-03-11.jsonl")
        if isinstance(g.get("progress_pct"), int | float)
    ][:2]

    # --- the deliveries, run by run ------------------------------------------------------
    def day_11_and_roster_changes():
        landing.land_day(day(11))
        landing.land_roster("matches", "matches_2026-03-11_changes.csv", roster_changes)
        landing.land_roster("participants", "participants_2026-03-11_changes.csv", [moved])

    def days_13_then_12_and_a_resent_file():
        landing.land_day(day(13))
        landing.land_day(day(12))
        resent = (landing.dir / "meetings" / "meetings_2026-03-11.jsonl").read_bytes()
        landing.land("meetings/meetings_2026-03-11_resend.jsonl", resent)

    def day_15_early_and_conflicting_duplicates():
        landing.land_day(day(15))  # after the as-of date: loaded, not yet seen
        landing.land_jsonl("meetings/meetings_2026-03-13_corrections.jsonl", meeting_corrections)
        landing.land_jsonl("goals/goals_2026-03-13_corrections.jsonl", goal_corrections)

    def day_14_late_a_late_roster_file_and_day_16_early():
        landing.land_day(day(14))  # late: day 15 is loaded already
        landing.land_roster("matches", "matches_2026-03-10_late.csv", late_roster)
        # Named before the corrections file that loaded ev-exactness-1: in name order, this
        # version comes first, so it must take the place of the one loaded in the last run.
        landing.land_jsonl("meetings/meetings_2026-03-12_late.jsonl", [late_version])
        landing.land_day(day(16))  # early again: the nightly run's as-of date reveals it

    def nothing_new():
        pass

    def day_17_and_a_resent_roster_file():
        landing.land_day(day(17))
        resent = (landing.dir / "roster" / "matches_2026-03-14.csv").read_bytes()
        landing.land("roster/matches_2026-03-14_resend.csv", resent)

    runs = [
        (HISTORY_END, nothing_new),  # the history, landed above
        (day(11), day_11_and_roster_changes),
        (day(13), days_13_then_12_and_a_resent_file),
        (day(14), day_15_early_and_conflicting_duplicates),
        (day(15), day_14_late_a_late_roster_file_and_day_16_early),
        (day(16), nothing_new),  # the nightly run: only the as-of date moves
        (day(17), day_17_and_a_resent_roster_file),
    ]
    for number, (as_of, deliver) in enumerate(runs, start=1):
        deliver()
        run(monkeypatch, capsys, root, as_of)
        if number == 1:
            continue  # the first run is itself a build from scratch
        fresh = tmp_path / f"from_scratch_{number}" / "data"
        from_scratch(root, fresh)
        run(monkeypatch, capsys, fresh, as_of)
        step = f"run {number} ({deliver.__name__}, as of {as_of})"
        assert_same_as_from_scratch(root, fresh, step)

    # The awkward deliveries happened as designed, so the equalities above were put to test.
    with duckdb.connect(str(root / "restricted" / "pipeline.duckdb"), read_only=True) as con:
        status = dict(con.execute("SELECT path, status FROM ingest.files").fetchall())
        conflicts = dict(
            con.execute(
                "SELECT path, count(*) FROM ingest.quarantine "
                "WHERE reason = 'conflicting_duplicate' AND path LIKE '%corrections%' GROUP BY path"
            ).fetchall()
        )
        roster = {
            match_id: (ended_on and ended_on.isoformat(), reason, target)
            for match_id, ended_on, reason, target in con.execute(
                "SELECT match_id, ended_on, end_reason, target_meetings_per_month "
                "FROM core.matches WHERE match_id IN (?, ?, ?)",
                [closed["match_id"], retargeted["match_id"], late_retargeted["match_id"]],
            ).fetchall()
        }
        late_duration = con.execute(
            "SELECT _source_path, duration_minutes FROM staging.meetings "
            "WHERE event_id = 'ev-exactness-1'"
        ).fetchall()
        department = con.execute(
            "SELECT department FROM core.participants JOIN restricted.participant_keys "
            "USING (participant_key) WHERE participant_id = ?",
            [moved["participant_id"]],
        ).fetchone()[0]
    assert status["meetings/meetings_2026-03-11_resend.jsonl"] == "duplicate_file"
    assert status["roster/matches_2026-03-14_resend.csv"] == "duplicate_file"
    # Three conflicts of the corrections file itself, and its ev-exactness-1, displaced by
    # the late file that comes before it in name order.
    assert conflicts == {
        "meetings/meetings_2026-03-13_corrections.jsonl": 4,
        "goals/goals_2026-03-13_corrections.jsonl": 2,
    }
    assert late_duration == [("meetings/meetings_2026-03-12_late.jsonl", 60)]
    target = as_number(closed["target_meetings_per_month"])
    assert roster[closed["match_id"]] == ("2026-03-11", "mentee_withdrew", target)
    assert roster[retargeted["match_id"]][2] == as_number(
        roster_changes[1]["target_meetings_per_month"]
    )
    assert roster[late_retargeted["match_id"]][2] == as_number(
        late_roster[1]["target_meetings_per_month"]
    )
    assert department == moved["department"]
