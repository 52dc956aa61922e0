"""Seeded sample data for Mentor Pulse: the landing files of DATA_CONTRACT.md.

`generate` writes a whole history, month by month: the outer loop walks calendar months, the
inner one the matches active in that month, and each month's files are written (then
forgotten) before the next month starts. Memory holds the active matches' small states and
one month of events, never the whole history.

`generate_day` replays the same seeded world without writing and lands only one later day,
so its events continue the history without colliding with it.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sample_data.activity import Activity, MatchState
from sample_data.clock import Month, day_number, month_of, to_date
from sample_data.landing import (
    ALL_KINDS,
    EVENT_KINDS,
    BadRecords,
    LandingWriter,
    MonthBuckets,
    to_csv_line,
)
from sample_data.world import PROFILES, MatchPlan, Profile, World

__all__ = [
    "DEFAULT_END_DATE",
    "PROFILES",
    "GenerationSummary",
    "KindCount",
    "Profile",
    "generate",
    "generate_day",
]

DEFAULT_END_DATE = datetime.date(2026, 11, 20)  # the demo's as-of date
BAD_RECORD_SHARE = 0.008  # of each file's records; re-deliveries and unknown matches on top
MANIFEST_NAME = ".sample_data.json"  # a dot name: the pipeline ignores it (in flight)
CLOSING_SURVEY_DAYS = 4  # a match is forgotten once its closing survey went out
LATE_ACTIVITY_DAYS = 45  # events may follow an ending by this much (late logs, answers)


@dataclass(frozen=True)
class KindCount:
    files: int
    records: int  # data rows (CSV) or lines (JSONL) written, bad ones included


@dataclass(frozen=True)
class GenerationSummary:
    profile: str
    seed: int
    first_date: datetime.date
    end_date: datetime.date
    counts: dict[str, KindCount]  # by kind: participants, matches, meetings, goals, ...
    bad_records: int
    bad_records_by_reason: dict[str, int]
    duplicate_files: int  # byte-identical re-sends under another name
    bom_files: int

    @property
    def total_files(self) -> int:
        return sum(count.files for count in self.counts.values())

    @property
    def total_records(self) -> int:
        return sum(count.records for count in self.counts.values())

    def __str__(self) -> str:
        lines = [
            f"Sample data: profile {self.profile}, seed {self.seed}, "
            f"{self.first_date} .. {self.end_date}",
            f"{'kind':<14}{'files':>8}{'records':>14}",
        ]
        for kind, count in self.counts.items():
            lines.append(f"{kind:<14}{count.files:>8,}{count.records:>14,}")
        lines.append(f"{'total':<14}{self.total_files:>8,}{self.total_records:>14,}")
        share = self.bad_records / self.total_records if self.total_records else 0.0
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in self.bad_records_by_reason.items())
        lines.append(f"deliberately bad records: {self.bad_records:,} ({share:.2%})")
        if reasons:
            lines.append(f"  {reasons}")
        lines.append(
            f"duplicate files: {self.duplicate_files}, files starting with a BOM: {self.bom_files}"
        )
        return "\n".join(lines)


def generate(
    landing_dir: Path,
    profile: str = "demo",
    seed: int = 7,
    end_date: datetime.date = DEFAULT_END_DATE,
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Write the landing files of a whole history ending at end_date (included).

    Meant for an empty landing_dir (files of the same name are replaced, others kept). Also
    leaves a small manifest (a dot file, ignored by the pipeline) for `generate_day`.
    """
    landing_dir = Path(landing_dir)
    world = World(_profile(profile), seed, end_date)
    run = _Run(world, landing_dir, world.first_day, world.last_day, progress)
    run.spoil(BadRecords(seed, BAD_RECORD_SHARE))
    run.execute(world.months[-1])
    manifest = {"profile": profile, "seed": seed, "end_date": end_date.isoformat()}
    (landing_dir / MANIFEST_NAME).write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return run.summary(profile, seed)


def generate_day(
    landing_dir: Path,
    day: datetime.date,
    profile: str = "demo",
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Write one more day of activity after a history written by `generate`.

    The world is the one `generate` built (its end date is read from the manifest it left
    in landing_dir; without one, the history is taken to end the day before). Only clean
    records are written: meetings, goals, invitations and responses that happen that day,
    and the roster changes of that day. Days are meant to land in order.
    """
    landing_dir = Path(landing_dir)
    history_end = _history_end(landing_dir, profile, seed, day)
    if day <= history_end:
        raise ValueError(f"{day} is inside the history, which ends {history_end}")
    world = World(_profile(profile), seed, history_end)
    run = _Run(world, landing_dir, day_number(day), day_number(day), progress)
    run.execute(month_of(day.year * 12 + day.month - 1))
    return run.summary(profile, seed)


def _profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]


def _history_end(landing_dir: Path, profile: str, seed: int, day: datetime.date) -> datetime.date:
    manifest_path = landing_dir / MANIFEST_NAME
    if not manifest_path.exists():
        return day - datetime.timedelta(days=1)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if (manifest["profile"], manifest["seed"]) != (profile, seed):
        raise ValueError(
            f"{landing_dir} holds profile {manifest['profile']!r} with seed {manifest['seed']}, "
            f"not {profile!r} with seed {seed}: the new day would not fit its roster"
        )
    return datetime.date.fromisoformat(manifest["end_date"])


class _Roster:
    """Roster rows grouped by the file (kind, date) they land in."""

    def __init__(self, world: World, first_day: int, last_day: int):
        self.world = world
        self.first_day, self.last_day = first_day, last_day
        self.listed: set[int] = set()  # people already in a participants file
        # Within one file a later row for the same id replaces the earlier one.
        self.files: dict[tuple[str, int], dict[str, tuple]] = defaultdict(dict)

    def _add(self, kind: str, change_day: int, file_day: int, row: tuple) -> None:
        if self.first_day <= change_day <= self.last_day:
            self.files[kind, file_day][row[0]] = row

    def add_match(self, plan: MatchPlan, file_day: int) -> None:
        for person in (plan.mentor, plan.mentee):
            if person not in self.listed:
                self.listed.add(person)
                row = self.world.participant_row(person, plan.program)
                self._add("participants", plan.matched_day, file_day, row)
        self._add("matches", plan.matched_day, file_day, self.world.match_row(plan, ended=False))

    def end_match(self, plan: MatchPlan, file_day: int) -> None:
        self._add("matches", plan.ended_day, file_day, self.world.match_row(plan, ended=True))

    def move_mentee(self, plan: MatchPlan, file_day: int) -> None:
        row = self.world.participant_row(plan.mentee, plan.program, moved=True)
        self._add("participants", plan.moved_day, file_day, row)

    def take(self, through_day: int) -> list[tuple[str, int, list[tuple]]]:
        ready = sorted(key for key in self.files if key[1] <= through_day)
        return [(kind, day, list(self.files.pop((kind, day)).values())) for kind, day in ready]


class _Run:
    """One pass over the world's months, writing what falls in [first_day, last_day]."""

    def __init__(
        self,
        world: World,
        landing_dir: Path,
        first_day: int,
        last_day: int,
        progress: Callable[[str], None] | None,
    ):
        self.world = world
        self.first_day, self.last_day = first_day, last_day
        self.progress = progress
        self.buckets = MonthBuckets(first_day, last_day)
        self.activity = Activity(world, self.buckets)
        self.writer = LandingWriter(landing_dir)
        self.roster = _Roster(world, first_day, last_day)
        self.bad: BadRecords | None = None
        self.upcoming: list[MatchPlan] = []  # planned, not matched yet
        self.active: dict[str, MatchState] = {}
        self.roster_changes_ahead: list[MatchPlan] = []  # endings and moves still to come
        self.bom_from: int | None = None  # month key from which a file gets the BOM
        self.resend_from: int | None = None  # month key from which a file is re-sent
        self.duplicate_files = self.bom_files = 0

    def spoil(self, bad: BadRecords) -> None:
        """Add deliberately bad records, one BOM file and one re-sent file (histories only)."""
        self.bad = bad
        months = self.world.months
        self.bom_from = months[len(months) // 2].key
        self.resend_from = months[len(months) // 3].key

    def execute(self, last_month: Month) -> None:
        for key in range(self.world.months[0].key, last_month.key + 1):
            month = month_of(key)
            for cohort in self.world.cohorts_in(month):
                self.upcoming.extend(self.world.plan_match(cohort, i) for i in range(cohort.size))
            while due := self._take_due(month):
                self._activate(due, month)
            for state in self.active.values():
                self.activity.simulate_month(state, month)
            self._roster_changes(month)
            self._retire(month)
            self._write(month)

    def _take_due(self, month: Month) -> list[MatchPlan]:
        due = [plan for plan in self.upcoming if plan.matched_day <= month.last_day]
        if due:
            self.upcoming = [plan for plan in self.upcoming if plan.matched_day > month.last_day]
        return sorted(due, key=lambda plan: (plan.matched_day, plan.number, plan.is_rematch))

    def _activate(self, plans: list[MatchPlan], month: Month) -> None:
        for plan in plans:
            at_kickoff = plan.matched_day == plan.cohort.kickoff_day and not plan.is_rematch
            # cohort kickoffs get their own roster files; later changes go in the month's
            self.roster.add_match(plan, plan.matched_day if at_kickoff else self._file_day(month))
            if plan.end_reason == "rematched":
                self.upcoming.append(self.world.plan_rematch(plan))
            if plan.ended_day is not None or plan.moved_day is not None:
                self.roster_changes_ahead.append(plan)
            # a replayed day only needs the matches alive around it
            ends = plan.ended_day if plan.ended_day is not None else self.last_day
            if plan.matched_day <= self.last_day and ends + LATE_ACTIVITY_DAYS >= self.first_day:
                self.active[plan.match_id] = MatchState(plan)

    def _roster_changes(self, month: Month) -> None:
        file_day = self._file_day(month)
        still_ahead = []
        for plan in self.roster_changes_ahead:
            if plan.moved_day is not None and month.first_day <= plan.moved_day <= month.last_day:
                self.roster.move_mentee(plan, file_day)
            if plan.ended_day is not None and month.first_day <= plan.ended_day <= month.last_day:
                self.roster.end_match(plan, file_day)
            elif max(plan.ended_day or 0, plan.moved_day or 0) > month.last_day:
                still_ahead.append(plan)
        self.roster_changes_ahead = still_ahead

    def _retire(self, month: Month) -> None:
        for match_id, state in list(self.active.items()):
            ended = state.plan.ended_day
            if ended is not None and ended + CLOSING_SURVEY_DAYS <= month.last_day:
                del self.active[match_id]

    def _file_day(self, month: Month) -> int:
        return min(month.last_day, self.last_day)

    def _write(self, month: Month) -> None:
        for kind, day, rows in self.roster.take(month.last_day):
            self.writer.write(kind, day, map(to_csv_line, rows))
        file_day = self._file_day(month)
        written = {}
        for kind in EVENT_KINDS:
            records = self.buckets.take(kind, month.key)
            if self.bad is not None:
                records = self.bad.apply(kind, file_day, records)
            written[kind] = len(records)
            if not records:
                continue
            bom = kind == "responses" and _reached(self.bom_from, month)
            path = self.writer.write(kind, file_day, (payload for _, payload in records), bom)
            if bom:
                self.bom_files += 1
                self.bom_from = None
            if kind == "meetings" and _reached(self.resend_from, month):
                self.writer.resend(kind, path, len(records))
                self.duplicate_files += 1
                self.resend_from = None
        if self.progress and (any(written.values()) or file_day == self.last_day):
            self.progress(
                f"{month.label}: {written['meetings']:,} meeting events, "
                f"{written['goals']:,} goal events, {written['invitations']:,} invitations, "
                f"{written['responses']:,} responses; {len(self.active):,} matches in play"
            )

    def summary(self, profile: str, seed: int) -> GenerationSummary:
        counts = {
            kind: KindCount(self.writer.files[kind], self.writer.records[kind])
            for kind in ALL_KINDS
        }
        by_reason = dict(sorted(self.bad.counts.items())) if self.bad else {}
        return GenerationSummary(
            profile=profile,
            seed=seed,
            first_date=to_date(self.first_day),
            end_date=to_date(self.last_day),
            counts=counts,
            bad_records=sum(by_reason.values()),
            bad_records_by_reason=by_reason,
            duplicate_files=self.duplicate_files,
            bom_files=self.bom_files,
        )


def _reached(from_month_key: int | None, month: Month) -> bool:
    return from_month_key is not None and month.key >= from_month_key
