"""Disclosure control cross-checked against a plain-Python reading of METRICS.md.

Many random small groups go through the SQL fixed point (the disclosure_control dbt macro)
and through the reference below; the suppressed flags must agree row for row, for each of its
users: feedback_scores and nps (one survey_id per random survey, so they share one warehouse
run), survey_change (one program per random case), program_health, monthly_trends and
program_health_by_month satisfaction (a program per case; no role split, so rule (1) has
nothing to do).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Callable

import polars as pl
import pytest

from tests.unit.marts_harness import MartsHarness

K = 3
COHORTS = ("C1", "C2", "C3", "C4")
ROLES = ("mentor", "mentee")
ALL = "(all)"
SIZES = [0, 1, 1, 2, 2, 3, 3, 4, 5, 6]

Key = tuple[str, ...]
_IDS = itertools.count()


def response(match: str, person: str, day: str, **columns) -> dict:
    """A core.survey_responses row (inserted in bulk: one insert per fixture keeps it fast)."""
    at = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    return {
        "response_id": f"r{next(_IDS)}",
        "survey_id": "s",
        "instrument": "checkin",
        "respondent_key": person,
        "match_id": match,
        "role": "mentee",
        "submitted_at": at,
        "submitted_on": at.date(),
        "has_comment": False,
        **columns,
    }


def reference_suppression(
    size: dict[Key, int], k: int, cohort_at: int, role_at: int | None, *, union_rule: bool = True
) -> dict[Key, bool]:
    """size: group key -> respondents (> 0); cohort_at/role_at: where cohort and role are in
    the key. Returns group key -> suppressed. union_rule=False is the rule before issue 15
    (rule (2) only for exactly one suppressed cohort), to show the data exercises the change."""

    def replaced(key: Key, at: int, value: str | None) -> Key:
        return (*key[:at], value, *key[at + 1 :])

    suppressed = {key: n < k for key, n in size.items()}
    changed = True
    while changed:
        changed = False
        # (1) role siblings: one of mentor/mentee suppressed, the other exists -> suppress it
        if role_at is not None:
            for key in [key for key in suppressed if key[role_at] in ROLES]:
                other = replaced(key, role_at, ROLES[1 - ROLES.index(key[role_at])])
                if suppressed[key] and other in suppressed and not suppressed[other]:
                    suppressed[other] = True
                    changed = True
        # (2) real-cohort siblings: exactly one suppressed, or several with < k respondents
        # together, and an unsuppressed one exists -> suppress the smallest (then its name)
        families: dict[Key, list[Key]] = defaultdict(list)
        for key in suppressed:
            if key[cohort_at] != ALL:
                families[replaced(key, cohort_at, None)].append(key)
        for members in families.values():
            hidden = [key for key in members if suppressed[key]]
            shown = [key for key in members if not suppressed[key]]
            small_union = union_rule and sum(size[key] for key in hidden) < k
            if hidden and shown and (len(hidden) == 1 or small_union):
                suppressed[min(shown, key=lambda key: (size[key], key[cohort_at]))] = True
                changed = True
    return suppressed


def group_sizes(people: list[tuple[Key, str]], rollups: Callable[[Key], list[Key]]) -> dict:
    """people: (finest key, person) -> distinct people per group, rollups included."""
    members: dict[Key, set[str]] = defaultdict(set)
    for key, person in people:
        for group in rollups(key):
            members[group].add(person)
    return {group: len(found) for group, found in members.items()}


def cohort_and_role_rollups(cohort_at: int, role_at: int) -> Callable[[Key], list[Key]]:
    def rollups(key: Key) -> list[Key]:
        found = []
        for cohort in (key[cohort_at], ALL):
            for role in (key[role_at], ALL):
                group = list(key)
                group[cohort_at], group[role_at] = cohort, role
                found.append(tuple(group))
        return found

    return rollups


def check_against_reference(
    actual: dict[Key, bool], size: dict[Key, int], cohort_at: int, role_at: int | None
) -> None:
    assert actual == reference_suppression(size, K, cohort_at, role_at)
    # the random groups exercise the rules: suppression beyond size alone, and the
    # "several small cohorts under k together" case of rule (2)
    assert sum(actual.values()) > sum(n < K for n in size.values())
    assert actual != reference_suppression(size, K, cohort_at, role_at, union_rule=False)


# --- feedback_scores and nps: (survey, cohort, role) ------------------------------------
@pytest.fixture(scope="module")
def random_surveys() -> tuple[MartsHarness, list[tuple[Key, str]]]:
    rng = random.Random(20240630)
    wh = MartsHarness(as_of="2024-06-30", min_group_size=K)
    for cohort in COHORTS:
        wh.add_match(f"m-{cohort}", "2024-01-01", cohort=cohort)
    people, rows = [], []
    for n in range(80):
        survey = f"s{n:02d}"
        for cohort in rng.sample(COHORTS, rng.randint(1, len(COHORTS))):
            for role in ROLES:
                for i in range(rng.choice(SIZES)):
                    person = f"{survey}-{cohort}-{role}-{i}"
                    rows.append(
                        response(
                            f"m-{cohort}",
                            person,
                            "2024-06-01",
                            survey_id=survey,
                            role=role,
                            guidance=4,
                            nps=9,
                        )
                    )
                    people.append(((survey, cohort, role), person))
    wh.insert("survey_responses", pl.DataFrame(rows))
    return wh.run(), people


@pytest.mark.parametrize("table", ["feedback_scores", "nps"])
def test_surveys_match_the_reference(random_surveys, table: str) -> None:
    wh, people = random_surveys
    actual = {(r["survey_id"], r["cohort"], r["role"]): r["suppressed"] for r in wh.rows(table)}
    check_against_reference(actual, group_sizes(people, cohort_and_role_rollups(1, 2)), 1, 2)


# --- survey_change: (program, cohort, role) -----------------------------------------------
@pytest.fixture(scope="module")
def random_changes() -> tuple[MartsHarness, list[tuple[Key, str]]]:
    rng = random.Random(2024)
    wh = MartsHarness(as_of="2024-06-30", min_group_size=K)
    people, rows = [], []
    for n in range(60):
        program = f"p{n:02d}"
        for cohort in rng.sample(COHORTS, rng.randint(1, len(COHORTS))):
            match = f"{program}-{cohort}"
            wh.add_match(match, "2024-01-01", program=program, cohort=cohort)
            for role in ROLES:
                for i in range(rng.choice(SIZES)):
                    person = f"{match}-{role}-{i}"
                    for instrument, day in [("intake", "2024-01-15"), ("closing", "2024-06-15")]:
                        rows.append(
                            response(
                                match,
                                person,
                                day,
                                role=role,
                                survey_id=instrument,
                                instrument=instrument,
                                skills=rng.randint(1, 5),
                            )
                        )
                    people.append(((program, cohort, role), person))
    wh.insert("survey_responses", pl.DataFrame(rows))
    return wh.run(), people


def test_survey_change_matches_the_reference(random_changes) -> None:
    wh, people = random_changes
    actual = {
        (r["program"], r["cohort"], r["role"]): r["suppressed"]
        for r in wh.rows("survey_change", item="skills")
    }
    check_against_reference(actual, group_sizes(people, cohort_and_role_rollups(1, 2)), 1, 2)


# --- program_health and monthly_trends satisfaction: (program, cohort) ---------------------
@pytest.fixture(scope="module")
def random_programs() -> tuple[MartsHarness, list[tuple[Key, str]]]:
    rng = random.Random(90)
    wh = MartsHarness(as_of="2024-06-30", min_group_size=K)
    people, rows = [], []
    for n in range(80):
        program = f"p{n:02d}"
        for cohort in rng.sample(COHORTS, rng.randint(1, len(COHORTS))):
            match = f"{program}-{cohort}"
            wh.add_match(match, "2024-01-01", program=program, cohort=cohort)
            for i in range(rng.choice(SIZES)):
                person = f"{match}-{i}"
                rows.append(response(match, person, "2024-06-10", satisfaction=3))
                people.append(((program, cohort), person))
    wh.insert("survey_responses", pl.DataFrame(rows))
    return wh.run(), people


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ("program_health", {}),
        ("monthly_trends", {"month_end": "2024-06-30"}),
        ("program_health_by_month", {"month_end": "2024-06-30"}),
    ],
)
def test_satisfaction_matches_the_reference(random_programs, table: str, where: dict) -> None:
    wh, people = random_programs
    rows = [r for r in wh.rows(table, **where) if r["satisfaction_respondents"] > 0]
    actual = {(r["program"], r["cohort"]): r["satisfaction_mean"] is None for r in rows}
    size = group_sizes(people, lambda key: [key, (key[0], ALL)])
    assert {(r["program"], r["cohort"]): r["satisfaction_respondents"] for r in rows} == size
    check_against_reference(actual, size, 1, None)
