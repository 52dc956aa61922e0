"""What a match does, one month at a time: meetings, goals and survey answers.

A match carries a small state from month to month (next meeting, open goals, counters);
each (match, month) draws from its own seeded random stream. Every event emitted while
simulating a month happens in that month or later, so a month's files can be written as soon
as the month has been simulated.
"""

from __future__ import annotations

import random
from typing import Protocol

from sample_data.clock import DAY, HOUR, UTC_Z, Month, date_text, format_timestamp, weekday
from sample_data.texts import (
    CANCEL_NOTES,
    GOAL_MEASURES,
    GOAL_TITLES,
    MEETING_NOTES,
    NEGATIVE_COMMENTS,
    NEUTRAL_COMMENTS,
    POSITIVE_COMMENTS,
    TOPICS,
)
from sample_data.world import (
    CHANNELS,
    FADING,
    MONTH_DAYS,
    NEVER_STARTED,
    SPORADIC,
    STEADY,
    MatchPlan,
    World,
)

OUTCOMES = ("completed", "rescheduled", "cancelled", "no_show")
OUTCOME_WEIGHTS = {
    STEADY: (0.85, 0.07, 0.05, 0.03),
    SPORADIC: (0.68, 0.08, 0.16, 0.08),
    FADING: (0.68, 0.06, 0.17, 0.09),
    NEVER_STARTED: (0.0, 0.0, 0.6, 0.4),
}
GOAL_FATES = ("achieved", "open", "abandoned")
GOAL_FATE_WEIGHTS = {
    STEADY: (0.65, 0.23, 0.12),
    SPORADIC: (0.45, 0.33, 0.22),
    FADING: (0.22, 0.43, 0.35),
    NEVER_STARTED: (0.05, 0.70, 0.25),
}
FIRST_GOALS_SHARE = {STEADY: 0.92, SPORADIC: 0.7, FADING: 0.8, NEVER_STARTED: 0.3}
CATEGORIES = ("skill", "network", "career", "wellbeing", "other")
CATEGORY_WEIGHTS = (0.35, 0.2, 0.3, 0.1, 0.05)
RESPONSE_SHARE = {STEADY: 0.8, SPORADIC: 0.68, FADING: 0.62, NEVER_STARTED: 0.45}
MOOD = {STEADY: 4.25, SPORADIC: 3.7, FADING: 3.55, NEVER_STARTED: 2.8}
ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")
WITHDRAWALS = {"mentor_withdrew": "mentor", "mentee_withdrew": "mentee"}
RECENT = 45 * DAY  # a meeting this recent makes survey answers happier


class Sink(Protocol):
    def emit(self, kind: str, at: int, record: dict | tuple) -> None: ...


class Goal:
    __slots__ = (
        "goal_id",
        "horizon",
        "category",
        "title_index",
        "set_day",
        "target_day",
        "progress",
        "fate",
        "due_at",
        "reset_at",
    )


class MatchState:
    """The little a match remembers between months."""

    __slots__ = (
        "plan",
        "next_at",
        "next_lead",
        "fade",
        "meetings",
        "meeting_events",
        "held",
        "last_held_at",
        "goals",
        "goals_set",
        "goal_events",
        "last_goal_at",
        "responses",
    )

    def __init__(self, plan: MatchPlan):
        self.plan = plan
        self.next_at = plan.first_meeting_at  # when the next meeting gets scheduled
        self.next_lead = 0  # days between scheduling it and its start
        self.fade = 1.0  # fading pairs stretch their gaps
        self.meetings = self.meeting_events = self.held = 0
        self.last_held_at: int | None = None
        self.goals: list[Goal] = []  # open goals only
        self.goals_set = self.goal_events = self.last_goal_at = 0
        self.responses = 0


class Activity:
    def __init__(self, world: World, sink: Sink):
        self.world = world
        self.sink = sink
        self.rng = random.Random()  # re-seeded for every (match, month)

    def simulate_month(self, state: MatchState, month: Month) -> None:
        plan = state.plan
        self.rng.seed(f"{self.world.seed}|month|{plan.match_id}|{month.key}")
        if month.first_day <= plan.matched_day <= month.last_day:
            self._start(state)
        self._meetings(state, month)
        if plan.ended_day is not None and month.first_day <= plan.ended_day <= month.last_day:
            self._close_goals(state)
        self._surveys(state, month)

    def _start(self, state: MatchState) -> None:
        rng = self.rng
        state.next_lead = rng.randint(1, 10)
        no_meeting_ahead = state.plan.first_meeting_at is None
        if no_meeting_ahead and rng.random() < FIRST_GOALS_SHARE[NEVER_STARTED]:
            # the mentee fills in goals in the tool, though the pair never meets
            set_at = state.plan.matched_day * DAY + rng.randint(2 * 24, 15 * 24) * HOUR
            self._set_goals(state, set_at, rng.randint(1, 2))

    # --- meetings ---

    def _meetings(self, state: MatchState, month: Month) -> None:
        plan, rng = state.plan, self.rng
        while state.next_at is not None and state.next_at < month.end:
            scheduled_at = state.next_at
            start = self._start_time(plan, scheduled_at, state.next_lead)
            if start >= plan.meetings_until:
                state.next_at = None
                withdrawing = WITHDRAWALS.get(plan.end_reason or "")
                if withdrawing and rng.random() < 0.5:
                    self._cancel_for_withdrawal(state, scheduled_at, start, withdrawing)
                return
            start = self._meeting(state, scheduled_at, start)
            self._plan_next(state, scheduled_at, start)

    def _start_time(self, plan: MatchPlan, after: int, lead_days: int) -> int:
        """A working-hours slot (pair's local time) lead_days after `after`."""
        rng = self.rng
        day = after // DAY + lead_days
        if weekday(day) >= 5 and rng.random() < 0.9:
            day += 7 - weekday(day)
        local_minute = rng.randrange(8 * 60, 17 * 60 + 1, 15)
        start = day * DAY + (local_minute - plan.offset_minutes) * 60
        if start <= after:  # a same-day meeting
            start = after + rng.randint(2, 10) * 1800
        return start

    def _working_time(self, plan: MatchPlan, day: int) -> int:
        """Some second of the pair's working day: when people book meetings."""
        local_second = self.rng.randrange(8 * HOUR, 18 * HOUR)
        return day * DAY + local_second - plan.offset_minutes * 60

    def _meeting(self, state: MatchState, scheduled_at: int, start: int) -> int:
        """Emit one meeting's events; returns its (possibly moved) start."""
        plan, rng = state.plan, self.rng
        state.meetings += 1
        meeting_id = f"mt-{plan.match_id}-{state.meetings}"
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS[plan.archetype])[0]
        channel = plan.channel if rng.random() < 0.85 else rng.choice(CHANNELS)
        planned_minutes = rng.choice((30, 45, 45, 60, 60, 90))
        if outcome != "completed" or rng.random() > 0.04:  # a few meetings are logged ad hoc
            self._meeting_event(
                state,
                meeting_id,
                "scheduled",
                scheduled_at,
                scheduled_start=plan.timestamp(start),
                duration_minutes=planned_minutes if rng.random() < 0.7 else None,
                channel=channel if rng.random() < 0.9 else None,
                initiated_by=self._role() if rng.random() < 0.8 else None,
            )
        if outcome == "rescheduled":
            scheduled_at += int((start - scheduled_at) * rng.uniform(0.2, 0.95))
            start = self._start_time(plan, start, rng.randint(1, 8))
            self._meeting_event(
                state,
                meeting_id,
                "rescheduled",
                scheduled_at,
                scheduled_start=plan.timestamp(start),
                initiated_by=self._role(),
            )
            outcome = "completed" if rng.random() < 0.85 else "cancelled"
        if outcome == "completed":
            self._complete(state, meeting_id, start, planned_minutes, channel)
        elif outcome == "cancelled":
            at = scheduled_at + int((start - scheduled_at) * rng.uniform(0.3, 1.0))
            note = self._text(plan, CANCEL_NOTES) if rng.random() < 0.1 else None
            role = self._role() if rng.random() < 0.85 else None
            self._meeting_event(state, meeting_id, "cancelled", at, initiated_by=role, note=note)
        else:
            at = start + rng.randint(15, 60) * 60
            start_text = plan.timestamp(start)
            self._meeting_event(state, meeting_id, "no_show", at, scheduled_start=start_text)
        return start

    def _complete(
        self, state: MatchState, meeting_id: str, start: int, planned: int, channel: str
    ) -> None:
        plan, rng = state.plan, self.rng
        duration = max(10, min(240, planned + rng.randint(-15, 20)))
        delay_roll = rng.random()  # most log right away, some the next days
        if delay_roll < 0.7:
            delay = rng.randint(0, 3600)
        elif delay_roll < 0.95:
            delay = rng.randint(3600, DAY)
        else:
            delay = rng.randint(DAY, 5 * DAY)
        done_at = start + duration * 60 + delay
        topics = rng.sample(TOPICS, rng.randint(1, 3)) if rng.random() < 0.7 else None
        note = self._text(plan, MEETING_NOTES) if rng.random() < 0.12 else None
        self._meeting_event(
            state,
            meeting_id,
            "completed",
            done_at,
            scheduled_start=plan.timestamp(start),
            duration_minutes=duration,
            channel=channel if rng.random() < 0.95 else None,
            topics=topics,
            note=note,
        )
        state.held += 1
        state.last_held_at = start
        self._after_meeting(state, done_at)

    def _cancel_for_withdrawal(
        self, state: MatchState, scheduled_at: int, start: int, role: str
    ) -> None:
        """The withdrawing side cancels the meeting that was already in the calendar."""
        plan = state.plan
        cancelled_at = max(scheduled_at + HOUR, plan.ended_day * DAY + 10 * HOUR)
        if scheduled_at >= plan.ended_day * DAY or cancelled_at >= start:
            return
        state.meetings += 1
        meeting_id = f"mt-{plan.match_id}-{state.meetings}"
        start_text = plan.timestamp(start)
        self._meeting_event(
            state, meeting_id, "scheduled", scheduled_at, scheduled_start=start_text
        )
        self._meeting_event(state, meeting_id, "cancelled", cancelled_at, initiated_by=role)

    def _plan_next(self, state: MatchState, scheduled_at: int, start: int) -> None:
        plan, rng = state.plan, self.rng
        if plan.archetype == NEVER_STARTED:
            state.next_at = None  # one attempt, then nothing
            return
        gap_days = MONTH_DAYS / plan.pace
        if plan.archetype == STEADY:
            gap_days *= rng.uniform(0.8, 1.2)
            if rng.random() < 0.01:
                gap_days = 0.1  # a second session the same day
        elif plan.archetype == SPORADIC:
            gap_days *= rng.lognormvariate(0, 0.6)
            if rng.random() < 0.15:
                gap_days = rng.uniform(3, 7)  # a burst
        else:
            if state.meetings >= 3:
                state.fade *= rng.uniform(1.2, 1.5)
            gap_days *= rng.uniform(0.85, 1.2) * state.fade
        desired = start + int(gap_days * DAY)
        if _is_holiday(desired // DAY) and rng.random() < 0.6:
            desired += rng.randint(5, 15) * DAY  # summer and year-end slow everyone down
        state.next_lead = 0 if rng.random() < 0.03 else rng.randint(1, 14)
        booking_day = (desired - state.next_lead * DAY) // DAY
        state.next_at = max(scheduled_at + HOUR, self._working_time(plan, booking_day))

    def _meeting_event(
        self, state: MatchState, meeting_id: str, event_type: str, at: int, **fields: object
    ) -> None:
        plan = state.plan
        state.meeting_events += 1
        record = {
            "event_id": f"ev-{plan.match_id}-{state.meeting_events}",
            "meeting_id": meeting_id,
            "match_id": plan.match_id,
            "event_type": event_type,
            "occurred_at": plan.timestamp(at),
        }
        record.update((name, value) for name, value in fields.items() if value is not None)
        self.sink.emit("meetings", at, record)

    # --- goals ---

    def _after_meeting(self, state: MatchState, at: int) -> None:
        """Goals move after meetings: set after the first, then progress, reach, drop."""
        rng = self.rng
        if state.held == 1 and state.goals_set == 0:
            if rng.random() < FIRST_GOALS_SHARE[state.plan.archetype]:
                self._set_goals(state, at + rng.randint(1, 72) * HOUR, rng.randint(1, 3))
            return
        # updated within two days, never before the last update (progress only grows)
        at = max(at + rng.randint(1, 48) * HOUR, state.last_goal_at + 60)
        for goal in list(state.goals):
            at += 60
            if goal.reset_at is not None and at >= goal.reset_at:
                self._reset_goal(state, goal, at)
            elif goal.due_at is not None and at >= goal.due_at:
                self._goal_event(state, goal, goal.fate, at)
                state.goals.remove(goal)
            elif rng.random() < 0.5:
                goal.progress = min(95, goal.progress + rng.randint(5, 30))
                value = goal.progress + 0.5 if rng.random() < 0.1 else goal.progress
                self._goal_event(state, goal, "progress", at, progress_pct=value)
        new_goal_share = 0.3 if state.goals_set else 0.05  # a next goal, or a late first one
        if not state.goals and state.goals_set < 6 and rng.random() < new_goal_share:
            self._set_goals(state, at + HOUR, 1)

    def _set_goals(self, state: MatchState, at: int, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            state.goals_set += 1
            goal = Goal()
            goal.goal_id = f"goal-{state.plan.match_id}-{state.goals_set}"
            goal.horizon = "long_term" if rng.random() < 0.25 else "short_term"
            goal.category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
            goal.title_index = rng.randrange(len(GOAL_TITLES[goal.category]))
            goal.set_day = at // DAY
            span_days = (
                rng.randint(45, 120) if goal.horizon == "short_term" else rng.randint(150, 330)
            )
            goal.target_day = goal.set_day + span_days if rng.random() < 0.8 else None
            goal.progress = 0
            goal.fate = rng.choices(GOAL_FATES, GOAL_FATE_WEIGHTS[state.plan.archetype])[0]
            if goal.fate == "achieved":
                goal.due_at = at + int(span_days * rng.uniform(0.5, 1.3)) * DAY
            elif goal.fate == "abandoned":
                goal.due_at = at + rng.randint(30, 150) * DAY
            else:
                goal.due_at = None
            goal.reset_at = at + rng.randint(20, 60) * DAY if rng.random() < 0.06 else None
            state.goals.append(goal)
            has_measure = rng.random() < 0.75
            self._goal_set_event(state, goal, at, has_measure, with_category=rng.random() < 0.9)
            at += rng.randint(1, 10) * 60

    def _reset_goal(self, state: MatchState, goal: Goal, at: int) -> None:
        """A second `set` event: a sharper title, a later target date, now measurable."""
        goal.reset_at = None
        goal.title_index = (goal.title_index + 1) % len(GOAL_TITLES[goal.category])
        goal.target_day = (goal.target_day or goal.set_day + 90) + self.rng.randint(30, 75)
        self._goal_set_event(state, goal, at, has_measure=True, with_category=True)

    def _goal_set_event(
        self, state: MatchState, goal: Goal, at: int, has_measure: bool, with_category: bool
    ) -> None:
        measures = GOAL_MEASURES[goal.category]
        self._goal_event(
            state,
            goal,
            "set",
            at,
            title=GOAL_TITLES[goal.category][goal.title_index],
            horizon=goal.horizon,
            category=goal.category if with_category else None,
            target_date=date_text(goal.target_day) if goal.target_day is not None else None,
            measure=measures[goal.title_index % len(measures)] if has_measure else None,
        )

    def _close_goals(self, state: MatchState) -> None:
        """When a match ends, some open goals are marked abandoned; the rest stay open."""
        rng, plan = self.rng, state.plan
        at = max(plan.ended_day * DAY + rng.randint(9, 18) * HOUR, state.last_goal_at + 60)
        for goal in state.goals:
            if goal.fate == "abandoned" or rng.random() < 0.35:
                self._goal_event(state, goal, "abandoned", at)
                at += 60
        state.goals = []

    def _goal_event(
        self, state: MatchState, goal: Goal, event_type: str, at: int, **fields
    ) -> None:
        plan = state.plan
        state.goal_events += 1
        state.last_goal_at = max(state.last_goal_at, at)
        record = {
            "event_id": f"g-{plan.match_id}-{state.goal_events}",
            "goal_id": goal.goal_id,
            "match_id": plan.match_id,
            "event_type": event_type,
            "occurred_at": plan.timestamp(at),
        }
        record.update((name, value) for name, value in fields.items() if value is not None)
        self.sink.emit("goals", at, record)

    # --- surveys ---

    def _surveys(self, state: MatchState, month: Month) -> None:
        plan = state.plan
        if month.first_day <= _next_weekday(plan.matched_day + 7) <= month.last_day:
            self._survey_wave(state, "intake", _next_weekday(plan.matched_day + 7), month)
        if month.month in plan.program.checkin_months:
            wave_day = month.last_weekday()
            ended = plan.ended_day is not None and plan.ended_day <= wave_day
            if plan.matched_day + 21 <= wave_day and not ended:
                self._survey_wave(state, "checkin", wave_day, month)
        if plan.ended_day is not None:
            closing_day = _next_weekday(plan.ended_day + 2)
            if month.first_day <= closing_day <= month.last_day:
                self._survey_wave(state, "closing", closing_day, month)

    def _survey_wave(self, state: MatchState, instrument: str, day: int, month: Month) -> None:
        plan, rng = state.plan, self.rng
        sent_at = day * DAY + 9 * HOUR
        survey_id = f"{instrument}-{month.label}"
        recent = state.last_held_at is not None and sent_at - state.last_held_at < RECENT
        for role, person in (("mentor", plan.mentor), ("mentee", plan.mentee)):
            participant = self.world.participant_id(person)
            invitation = (
                survey_id,
                participant,
                plan.match_id,
                role,
                format_timestamp(sent_at, UTC_Z),
            )
            self.sink.emit("invitations", sent_at, invitation)
            share = RESPONSE_SHARE[plan.archetype] + (0.04 if role == "mentor" else 0)
            if instrument != "intake" and not recent:
                share -= 0.15
            if instrument == "closing":
                share -= 0.05
            if rng.random() < share:
                if instrument == "intake":  # expectations, before any experience
                    mood = 3.9 + plan.mood + plan.program.mood / 2
                else:
                    mood = MOOD[plan.archetype] + plan.program.mood + plan.mood
                    mood += (0.1 if role == "mentor" else 0) - (0 if recent else 0.6)
                submitted_at = sent_at + int(min(20 * DAY, rng.expovariate(1 / (2.5 * DAY))))
                self._respond(state, survey_id, instrument, participant, role, submitted_at, mood)

    def _respond(
        self,
        state: MatchState,
        survey_id: str,
        instrument: str,
        participant: str,
        role: str,
        submitted_at: int,
        mood: float,
    ) -> None:
        plan, rng = state.plan, self.rng
        recent = state.last_held_at is not None and submitted_at - state.last_held_at < RECENT
        offsets = {
            "guidance": 0.1,
            "networking": plan.program.networking - 0.1,
            "skills": 0.0,
            "feedback": -0.05,
            "communication": 0.25 if recent else -0.5,
            "satisfaction": 0.0,
        }
        attempts = 2 if rng.random() < 0.03 else 1  # some resubmit, later, a bit differently
        for _ in range(attempts):
            state.responses += 1
            scores = []
            for item in ITEMS:
                blank_share = (
                    0.35 if instrument == "intake" and item in ("networking", "feedback") else 0.05
                )
                score = min(5, max(1, round(rng.gauss(mood + offsets[item], 0.65))))
                scores.append("" if rng.random() < blank_share else str(score))
            nps = min(10, max(0, round(rng.gauss((mood - 1) * 2.55 + 0.4, 1.3))))
            comment_share = 0.4 if instrument == "closing" else 0.18
            comment = self._comment(plan, mood) if rng.random() < comment_share else ""
            row = (
                f"r-{plan.match_id}-{state.responses}",
                survey_id,
                instrument,
                participant,
                plan.match_id,
                role,
                plan.timestamp(submitted_at),
                *scores,
                "" if rng.random() < 0.08 else str(nps),
                comment,
            )
            self.sink.emit("responses", submitted_at, row)
            submitted_at += rng.randint(HOUR, 4 * DAY)

    # --- text ---

    def _role(self) -> str:
        return "mentor" if self.rng.random() < 0.5 else "mentee"

    def _text(self, plan: MatchPlan, choices: tuple[str, ...]) -> str:
        text = self.rng.choice(choices)
        if "{" in text:  # names make notes and comments personal data
            mentor = self.world.first_name(plan.mentor)
            mentee = self.world.first_name(plan.mentee)
            text = text.format(mentor=mentor, mentee=mentee)
        return text

    def _comment(self, plan: MatchPlan, mood: float) -> str:
        if mood >= 4:
            return self._text(plan, POSITIVE_COMMENTS)
        if mood >= 3:
            return self._text(plan, NEUTRAL_COMMENTS)
        return self._text(plan, NEGATIVE_COMMENTS)


def _is_holiday(day: int) -> bool:
    date = date_text(day)
    return date[5:7] == "08" or date[5:] >= "12-18" or date[5:] <= "01-06"


def _next_weekday(day: int) -> int:
    while weekday(day) >= 5:
        day += 1
    return day
