"""The seeded world: profiles, programs, cohorts, people and match plans.

Everything here is a pure function of (profile, seed, history end): a match's plan is drawn
from its own random stream, so it does not depend on the order matches are visited in.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from sample_data.clock import (
    DAY,
    HOUR,
    NO_OFFSET,
    UTC_MILLIS,
    UTC_Z,
    WITH_OFFSET,
    Month,
    date_text,
    day_number,
    format_timestamp,
    month_of,
    weekday,
)
from sample_data.names import DEPARTMENTS, LOCATIONS, NAME_PAIRS, person_name

STEADY, FADING, SPORADIC, NEVER_STARTED = "steady", "fading", "sporadic", "never_started"
ARCHETYPES = (STEADY, FADING, SPORADIC, NEVER_STARTED)
MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class Profile:
    name: str
    matches: int  # first matches of mentees; rematches come on top
    months: int  # calendar months of history at least, the as-of month included
    description: str = ""


PROFILES: dict[str, Profile] = {
    "demo": Profile("demo", 400, 12, "a few hundred matches over a year; the demo"),
    "small": Profile("small", 150, 6, "fast; CI smoke runs"),
    "medium": Profile("medium", 5_000, 18, "a mid-sized company"),
    "large": Profile("large", 50_000, 36, "benchmark scale: millions of meeting events"),
}


@dataclass(frozen=True)
class Program:
    name: str
    kickoff_months: tuple[int, ...]
    checkin_months: tuple[int, ...]  # months that end with a check-in survey wave
    length_months: int
    weight: float  # share of the profile's matches
    archetype_weights: tuple[float, float, float, float]  # in ARCHETYPES order
    steady_trend: float  # steady share gained (+) or lost (-) from first to last cohort
    targets: tuple[int | None, ...]  # drawn uniformly; None = blank (the default target)
    mood: float  # survey score offset
    networking: float  # networking item offset
    departments: tuple[str, ...]


ALL_MONTHS = tuple(range(1, 13))
# Programs differ on purpose, so dashboards have a story: Women in Leadership runs well,
# Engineering Mentoring improves cohort after cohort, New Manager Circle (ambitious
# targets) slips.
PROGRAMS = (
    Program(
        name="Engineering Mentoring",
        kickoff_months=(1, 4, 7, 10),
        checkin_months=ALL_MONTHS,
        length_months=9,
        weight=0.45,
        archetype_weights=(0.42, 0.28, 0.18, 0.12),
        steady_trend=0.15,
        targets=(None, None, None, 2, 2, 1, 3),
        mood=0.0,
        networking=-0.4,
        departments=("Engineering",) * 3 + ("Product", "Data", "Design", "Security"),
    ),
    Program(
        name="Women in Leadership",
        kickoff_months=(3, 9),
        checkin_months=(3, 6, 9, 12),
        length_months=12,
        weight=0.25,
        archetype_weights=(0.60, 0.14, 0.18, 0.08),
        steady_trend=0.0,
        targets=(None, 1, 1, 2),
        mood=0.25,
        networking=0.4,
        departments=DEPARTMENTS,
    ),
    Program(
        name="New Manager Circle",
        kickoff_months=(2, 6, 10),
        checkin_months=ALL_MONTHS,
        length_months=6,
        weight=0.30,
        archetype_weights=(0.36, 0.30, 0.18, 0.16),
        steady_trend=-0.12,
        targets=(2, 3, 3, 4, None),
        mood=-0.15,
        networking=0.0,
        departments=DEPARTMENTS,
    ),
)

SEASONS = {12: "Winter", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring", 5: "Spring"}
SEASONS |= {6: "Summer", 7: "Summer", 8: "Summer", 9: "Autumn", 10: "Autumn", 11: "Autumn"}
CHANNELS = ("video", "video", "video", "video", "in_person", "in_person", "phone", "chat")
FIRST_MEETING_DAYS = {STEADY: (1, 10), FADING: (2, 14), SPORADIC: (5, 30), NEVER_STARTED: (7, 25)}
TIMESTAMP_STYLES = (UTC_Z, UTC_MILLIS, WITH_OFFSET, NO_OFFSET)
TIMESTAMP_STYLE_WEIGHTS = (0.62, 0.1, 0.25, 0.03)  # each match's tools write one way
BLANK_REASON_SHARE = 0.05  # early endings recorded without a reason (unknown_reason)


@dataclass(frozen=True)
class Cohort:
    program: Program
    name: str
    kickoff_day: int
    number_in_program: int
    trend_position: float  # 0 for the program's first cohort in the history, 1 for its last
    first_match: int  # ordinal of its first match across the world
    size: int


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """Everything decided about a match up front; activity follows from it."""

    match_id: str
    number: int
    program: Program
    cohort: Cohort
    mentor: int  # person numbers (see World.participant_id)
    mentee: int
    matched_day: int
    target: int | None
    archetype: str
    pace: float  # meetings a month the pair actually aims for
    first_meeting_at: int | None  # when the first meeting gets scheduled
    meetings_until: int  # no meeting starts after this second
    ended_day: int | None
    end_reason: str | None
    timestamp_style: int
    offset_minutes: int
    channel: str
    mood: float  # the pair's own survey score offset
    moved_day: int | None  # the mentee changes department that day
    is_rematch: bool

    def timestamp(self, epoch: int) -> str:
        return format_timestamp(epoch, self.timestamp_style, self.offset_minutes)


class World:
    def __init__(self, profile: Profile, seed: int, history_end: datetime.date):
        self.profile = profile
        self.seed = seed
        self.last_day = day_number(history_end)
        end_key = history_end.year * 12 + history_end.month - 1
        start_key = end_key - profile.months + 1
        while not any(start_key % 12 + 1 in p.kickoff_months for p in PROGRAMS):
            start_key -= 1  # begin with a kickoff, not with empty months
        self.months = [month_of(key) for key in range(start_key, end_key + 1)]
        self.first_day = self.months[0].first_day
        self.cohorts = self._schedule_cohorts()
        self.mentee_count = sum(cohort.size for cohort in self.cohorts)
        self._mentor_pools = self._mentor_pools_by_program()
        self._name_step = _coprime_step(len(NAME_PAIRS), 7919)
        self._name_shift = random.Random(f"{seed}|names").randrange(len(NAME_PAIRS))

    def rng(self, *scope: object) -> random.Random:
        return random.Random("|".join(map(str, (self.seed, *scope))))

    def _schedule_cohorts(self) -> list[Cohort]:
        kickoffs = []
        for month in self.months:
            for program_index, program in enumerate(PROGRAMS):
                if month.month in program.kickoff_months:
                    kickoff = _kickoff_day(month, program_index)
                    if kickoff <= self.last_day:
                        kickoffs.append((kickoff, program, month))
        cohorts_per_program = {p.name: sum(k[1] is p for k in kickoffs) for p in PROGRAMS}
        total_weight = sum(p.weight for p in PROGRAMS if cohorts_per_program[p.name])
        cohorts, first_match, seen = [], 0, dict.fromkeys(cohorts_per_program, 0)
        for kickoff, program, month in sorted(kickoffs, key=lambda k: (k[0], k[1].name)):
            count = cohorts_per_program[program.name]
            program_matches = round(self.profile.matches * program.weight / total_weight)
            number = seen[program.name]
            size = program_matches // count + (number < program_matches % count)
            seen[program.name] += 1
            name = f"{month.year}-{SEASONS[month.month]}"
            position = number / (count - 1) if count > 1 else 0.0
            cohorts.append(Cohort(program, name, kickoff, number, position, first_match, size))
            first_match += size
        return cohorts

    def _mentor_pools_by_program(self) -> dict[str, tuple[int, int]]:
        """(first person number, pool size) of each program's mentors."""
        pools, first = {}, self.mentee_count
        for program in PROGRAMS:
            matches = sum(c.size for c in self.cohorts if c.program is program)
            size = max(2, math.ceil(matches / 2.5))  # a mentor meets ~2.5 mentees over time
            pools[program.name] = (first, size)
            first += size
        return pools

    def cohorts_in(self, month: Month) -> list[Cohort]:
        return [c for c in self.cohorts if month.first_day <= c.kickoff_day <= month.last_day]

    # --- people ---

    @staticmethod
    def participant_id(person: int) -> str:
        return f"U{100_000 + person}"

    def participant_row(self, person: int, program: Program, moved: bool = False) -> tuple:
        """participants.csv row: id, full_name, email, department, location, joined_on."""
        rng = self.rng("person", person)
        full_name, local_part = self._name(person)
        repeat = person // len(NAME_PAIRS)  # a second "Ana Silva" is ana.silva2@
        email = f"{local_part}{repeat + 1 if repeat else ''}@example.com"
        department = self.department(person, program)
        joined = self.first_day - rng.randint(120, 15 * 365)
        has_email, has_department, has_location, has_joined = (rng.random() for _ in range(4))
        if moved:  # a later roster file re-lists the person with a new department
            department = rng.choice([d for d in DEPARTMENTS if d != department])
        return (
            self.participant_id(person),
            full_name,
            email if has_email > 0.03 else "",
            department if has_department > 0.02 else "",
            self._location(person)[0] if has_location > 0.03 else "",
            date_text(joined) if has_joined > 0.1 else "",
        )

    def department(self, person: int, program: Program) -> str:
        """The department a person is listed with first (their program's mix)."""
        return self.rng("department", person).choice(program.departments)

    def _name(self, person: int) -> tuple[str, str]:
        # Name pairs are handed out by a seeded bijection: no name repeats within a round,
        # so e-mail addresses stay unique without remembering the ones given out.
        return person_name((person * self._name_step + self._name_shift) % len(NAME_PAIRS))

    def _location(self, person: int) -> tuple[str, int]:
        # Half the people work at one of three hubs, so some pairs share a location.
        rng = self.rng("location", person)
        return rng.choice(LOCATIONS[:3] if rng.random() < 0.5 else LOCATIONS)

    def first_name(self, person: int) -> str:
        return self._name(person)[0].split(" ")[0]

    # --- matches ---

    def plan_match(self, cohort: Cohort, index: int) -> MatchPlan:
        number = cohort.first_match + index
        match_id = f"M{number + 1:06d}"
        rng = self.rng("match", match_id)
        matched_day = cohort.kickoff_day
        if rng.random() < 0.1:  # matched late; the pair appears in a later roster file
            matched_day += rng.randint(3, 28)
        program = cohort.program
        steady, fading, sporadic, never = program.archetype_weights
        drift = program.steady_trend * cohort.trend_position
        weights = (max(0.05, steady + drift), max(0.05, fading - drift), sporadic, never)
        mentor = self._pick_mentor(self.rng("mentor", match_id), cohort)
        steady_factor = self.pairing_factor(mentor, number, program)
        weights = (weights[0] * steady_factor, weights[1] / steady_factor, *weights[2:])
        archetype = rng.choices(ARCHETYPES, weights)[0]
        return self._plan(
            rng, match_id, number, cohort, mentor, number, matched_day, archetype, False
        )

    def pairing_factor(self, mentor: int, mentee: int, program: Program) -> float:
        """How a pairing goes with how it lasts (the Outcomes page's match-design panel):
        a mentor from the mentee's department keeps a steadier rhythm, a pair in different
        locations a looser one. Scales the steady weight and the pace up (> 1) or down."""
        factor = 1.0
        if self.department(mentor, program) == self.department(mentee, program):
            factor *= 1.25
        if self._location(mentor)[0] != self._location(mentee)[0]:
            factor *= 0.8
        return factor

    def plan_rematch(self, first: MatchPlan) -> MatchPlan:
        """The mentee's second match, with another mentor, after a `rematched` ending."""
        match_id = f"{first.match_id}-2"
        rng = self.rng("match", match_id)
        matched_day = first.ended_day + rng.randint(3, 14)
        archetype = rng.choices(ARCHETYPES, (0.65, 0.12, 0.15, 0.08))[0]
        mentor = self._pick_mentor(self.rng("mentor", match_id), first.cohort)
        if mentor == first.mentor:  # the next mentor of the pool instead
            pool_start, pool_size = self._mentor_pools[first.program.name]
            mentor = pool_start + (mentor - pool_start + 1) % pool_size
        return self._plan(
            rng,
            match_id,
            first.number,
            first.cohort,
            mentor,
            first.mentee,
            matched_day,
            archetype,
            True,
        )

    def _plan(
        self,
        rng: random.Random,
        match_id: str,
        number: int,
        cohort: Cohort,
        mentor: int,
        mentee: int,
        matched_day: int,
        archetype: str,
        is_rematch: bool,
    ) -> MatchPlan:
        program = cohort.program
        target = rng.choice(program.targets)
        pairing = self.pairing_factor(mentor, mentee, program) ** 0.5
        pace = (target or 2) * rng.uniform(0.9, 1.15) * pairing
        program_end = cohort.kickoff_day + round(program.length_months * MONTH_DAYS)
        program_end = max(program_end, matched_day + 90) + rng.randint(-7, 10)
        ended_day, end_reason, last_meeting_day = _ending(rng, archetype, matched_day, program_end)
        if is_rematch and end_reason == "rematched":
            end_reason = "completed"
        low, high = FIRST_MEETING_DAYS[archetype]
        first_meeting_at = (matched_day + rng.randint(low, high)) * DAY + rng.randint(7, 19) * HOUR
        if archetype == NEVER_STARTED and rng.random() < 0.6:
            first_meeting_at = None  # most never even schedule; the rest cancel or miss it
        style = rng.choices(TIMESTAMP_STYLES, TIMESTAMP_STYLE_WEIGHTS)[0]
        moved_day = None
        if rng.random() < 0.04:
            moved_day = matched_day + rng.randint(
                20, max(21, (ended_day or program_end) - matched_day)
            )
        return MatchPlan(
            match_id=match_id,
            number=number,
            program=program,
            cohort=cohort,
            mentor=mentor,
            mentee=mentee,
            matched_day=matched_day,
            target=target,
            archetype=archetype,
            pace=pace,
            first_meeting_at=first_meeting_at,
            meetings_until=(last_meeting_day + 1) * DAY,
            ended_day=ended_day,
            end_reason=end_reason,
            timestamp_style=style,
            offset_minutes=self._location(mentee)[1],
            channel=rng.choice(CHANNELS),
            mood=rng.gauss(0, 0.35),
            moved_day=moved_day,
            is_rematch=is_rematch,
        )

    def _pick_mentor(self, rng: random.Random, cohort: Cohort) -> int:
        """Mentors of a cohort come from a window of the program's pool; windows of
        successive cohorts overlap, so mentors return and most have several mentees."""
        first, pool = self._mentor_pools[cohort.program.name]
        window = min(pool, max(1, math.ceil(cohort.size / 1.6)))
        start = cohort.number_in_program * window // 2
        return first + (start + rng.randrange(window)) % pool

    def recorded_end_reason(self, plan: MatchPlan) -> str:
        """The reason the roster records: a few early endings are recorded without one."""
        early = plan.end_reason != "completed"
        if early and self.rng("reason", plan.match_id).random() < BLANK_REASON_SHARE:
            return ""
        return plan.end_reason or ""

    def match_row(self, plan: MatchPlan, ended: bool) -> tuple:
        """matches.csv row; `ended` re-lists the match with its ending."""
        return (
            plan.match_id,
            plan.program.name,
            plan.cohort.name,
            self.participant_id(plan.mentor),
            self.participant_id(plan.mentee),
            date_text(plan.matched_day),
            date_text(plan.ended_day) if ended else "",
            self.recorded_end_reason(plan) if ended else "",
            plan.target or "",
        )


def _ending(
    rng: random.Random, archetype: str, matched: int, program_end: int
) -> tuple[int, str, int]:
    """(ended_on, end_reason, last day a meeting may start) as day numbers."""
    span = program_end - matched
    roll = rng.random()
    if archetype == NEVER_STARTED:
        last_meeting = matched + 30
        if roll < 0.45:
            return matched + rng.randint(45, 90), "no_engagement", last_meeting
        if roll < 0.7:
            return matched + rng.randint(18, 40), "rematched", last_meeting
        if roll < 0.8:
            return matched + rng.randint(20, 60), "mentee_withdrew", last_meeting
        return program_end, "no_engagement", last_meeting
    if archetype == FADING:
        last_meeting = matched + rng.randint(50, max(51, min(200, span - 30)))
        if roll < 0.35:
            ended, reason = last_meeting + rng.randint(65, 110), "no_engagement"
        elif roll < 0.55:
            ended, reason = last_meeting + rng.randint(14, 60), "mentee_withdrew"
        elif roll < 0.65:
            ended, reason = last_meeting + rng.randint(14, 60), "mentor_withdrew"
        else:
            ended, reason = program_end, "no_engagement"  # lapsed until the program closes
        return min(ended, program_end), reason, last_meeting
    withdraw_share = 0.06 if archetype == STEADY else 0.12
    if roll < withdraw_share:
        ended = matched + rng.randint(45, max(46, span - 30))
        return ended, rng.choice(("mentor_withdrew", "mentee_withdrew")), ended
    if archetype == STEADY and roll < withdraw_share + 0.03:
        ended = matched + rng.randint(20, 75)
        return ended, "rematched", ended
    if roll > 0.975:
        ended = matched + rng.randint(30, max(31, span))
        return ended, "other", ended  # e.g. parental leave
    return program_end, "completed", program_end - 2


def _kickoff_day(month: Month, program_index: int) -> int:
    """First Monday on or after the 2nd, later for later programs (kickoffs differ)."""
    day = month.first_day + 1 + 2 * program_index
    while weekday(day) != 0:
        day += 1
    return day


def _coprime_step(size: int, step: int) -> int:
    while math.gcd(size, step) != 1:
        step += 1
    return step
