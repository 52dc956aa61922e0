"""Complementary suppression cross-checked against a plain-Python reading of METRICS.md.

Many random small surveys (one survey_id each, so they share one warehouse run) go through the
SQL fixed point and through the reference below; the suppressed flags must agree row for row.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from tests.unit.marts_harness import MartsHarness

K = 3
COHORTS = ("C1", "C2", "C3", "C4")
ROLES = ("mentor", "mentee")
ALL = "(all)"


def reference_suppression(answers: list[tuple[str, str, str, str]], k: int) -> dict:
    """answers: (survey_id, cohort, role, respondent) -> {(survey, cohort, role): suppressed}."""
    respondents: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for survey, cohort, role, person in answers:
        for c in (cohort, ALL):
            for r in (role, ALL):
                respondents[(survey, c, r)].add(person)
    size = {key: len(people) for key, people in respondents.items()}
    suppressed = {key: n < k for key, n in size.items()}

    changed = True
    while changed:
        changed = False
        # (1) per (survey, cohort incl. (all)): one of mentor/mentee suppressed, the other exists
        for survey, cohort in {(s, c) for s, c, _ in suppressed}:
            pair = [(survey, cohort, r) for r in ROLES if (survey, cohort, r) in suppressed]
            flags = [suppressed[key] for key in pair]
            if len(pair) == 2 and flags.count(True) == 1:
                suppressed[pair[flags.index(False)]] = True
                changed = True
        # (2) per (survey, role incl. (all)): exactly one real cohort suppressed, another exists
        for survey, role in {(s, r) for s, _, r in suppressed}:
            real = [key for key in suppressed if key[0] == survey and key[2] == role]
            real = [key for key in real if key[1] != ALL]
            if sum(suppressed[key] for key in real) == 1 and len(real) > 1:
                open_rows = [key for key in real if not suppressed[key]]
                pick = min(open_rows, key=lambda key: (size[key], key[1]))
                suppressed[pick] = True
                changed = True
    return suppressed


@pytest.fixture(scope="module")
def random_surveys() -> tuple[MartsHarness, list[tuple[str, str, str, str]]]:
    rng = random.Random(20240630)
    wh = MartsHarness(as_of="2024-06-30", min_group_size=K)
    for cohort in COHORTS:
        wh.add_match(f"m-{cohort}", "2024-01-01", cohort=cohort)
    answers = []
    for n in range(60):
        survey = f"s{n:02d}"
        for cohort in rng.sample(COHORTS, rng.randint(1, len(COHORTS))):
            for role in ROLES:
                for i in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 5, 6])):
                    person = f"{survey}-{cohort}-{role}-{i}"
                    wh.add_response(
                        f"m-{cohort}", person, survey_id=survey, role=role, guidance=4, nps=9
                    )
                    answers.append((survey, cohort, role, person))
    return wh.run(), answers


@pytest.mark.parametrize("table", ["feedback_scores", "nps"])
def test_sql_fixed_point_matches_the_reference(random_surveys, table: str) -> None:
    wh, answers = random_surveys
    expected = reference_suppression(answers, K)
    actual = {(r["survey_id"], r["cohort"], r["role"]): r["suppressed"] for r in wh.rows(table)}
    assert actual == expected
    # the random surveys do exercise the rules: some rows are suppressed beyond size alone
    assert sum(actual.values()) > sum(
        1 for key, flag in actual.items() if flag and _size(answers, key) < K
    )


def _size(answers: list[tuple[str, str, str, str]], key: tuple[str, str, str]) -> int:
    survey, cohort, role = key
    return len(
        {
            person
            for s, c, r, person in answers
            if s == survey and cohort in (c, ALL) and role in (r, ALL)
        }
    )
