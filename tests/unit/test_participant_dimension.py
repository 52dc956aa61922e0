"""Play the attacker against marts.participants (issue 23), as tests/unit/test_disclosure_attack.py
does against the survey marts: the dimension is built on adversarial people (a lone person in
a pilot program, a department of two, one-person locations, someone mentoring and mentored,
people in two programs, blanks), once at k and once at k = 1 (the truth: every person at full
detail). The attacker knows a target's true role, program, department, location and tenure and
reads only what is published: every published row whose values could be the target's (equal,
or coarsened from them) is a candidate. Fewer than k candidates is a disclosure. The attacker is
shown to work on the truth itself (the dimension without coarsening).

And marts.cohorts: dates, live or finished, and the cohorts in date order."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from tests.unit.marts_harness import MartsHarness

K = 5
D = "2024-06-30"
QUASI = ("role", "program", "department", "location", "tenure_band")
WIDER = {"<1y": "<3y", "1-3y": "<3y", "3-5y": "3y+", "5y+": "3y+"}


def _people(wh: MartsHarness) -> None:
    rng = random.Random(23)
    departments = ["Sales"] * 6 + ["Engineering"] * 8 + ["Data"] * 3 + ["Legal"] + [None]
    locations = ["Lisbon"] * 8 + ["London"] * 6 + ["Dubai", "Oslo", "Lima", ""]
    joined = [
        dt.date(2024, 3, 1),  # <1y
        dt.date(2022, 1, 1),  # 1-3y
        dt.date(2020, 1, 1),  # 3-5y
        dt.date(2010, 1, 1),  # 5y+
        None,
    ]
    participants = []
    n = 0
    for program, cohort, pairs in (("Big", "C1", 60), ("Big", "C2", 40), ("Pilot", "P1", 1)):
        for _ in range(pairs):
            n += 1
            match_id = f"m{n:03d}"
            wh.add_match(match_id, f"2024-0{1 + n % 5}-01", program=program, cohort=cohort)
            for role in ("mentor", "mentee"):
                participants.append(
                    {
                        "participant_key": f"{role}-{match_id}",
                        "department": rng.choice(departments),
                        "location": rng.choice(locations),
                        "joined_on": rng.choice(joined),
                    }
                )
    # Someone mentoring in one match and mentored in another; someone in both programs.
    wh.insert(
        "matches",
        [
            {
                "match_id": "m-both",
                "program": "Big",
                "cohort": "C2",
                "mentor_key": "mentee-m001",
                "mentee_key": "mentee-m002",
                "matched_on": dt.date(2024, 3, 1),
                "ended_on": None,
                "end_reason": None,
                "target_meetings_per_month": None,
            },
            {
                "match_id": "m-two-programs",
                "program": "Pilot",
                "cohort": "P1",
                "mentor_key": "mentor-m003",
                "mentee_key": "mentee-m004",
                "matched_on": dt.date(2024, 3, 1),
                "ended_on": None,
                "end_reason": None,
                "target_meetings_per_month": None,
            },
        ],
    )
    wh.insert("participants", participants)


def build(k: int) -> list[dict]:
    wh = MartsHarness(as_of=D, min_group_size=k)
    _people(wh)
    wh.run()
    return wh.rows("participants")


@pytest.fixture(scope="module")
def published() -> list[dict]:
    return build(K)


@pytest.fixture(scope="module")
def truth() -> dict[str, dict]:
    return {row["participant_key"]: row for row in build(1)}


def could_be(published_row: dict, true_row: dict) -> bool:
    """Could this published row be the person with these true values?"""
    for column in QUASI:
        shown, true = published_row[column], true_row[column]
        if shown == true:
            continue
        if column in ("department", "location") and shown == "(other)":
            continue
        if column == "tenure_band" and (shown == "(any)" or WIDER.get(true) == shown):
            continue
        return False
    return True


def candidates(published: list[dict], target: dict) -> int:
    return sum(could_be(row, target) for row in published)


def test_the_truth_has_small_groups_the_attacker_finds(truth) -> None:
    """Without coarsening the attacker would single people out: the test data is adversarial."""
    full = list(truth.values())
    exposed = [t for t in full if candidates(full, t) < K]
    assert len(exposed) > len(full) / 3
    assert any(t["program"] == "Pilot" for t in exposed)
    assert {t["role"] for t in full} == {"mentor", "mentee", "both"}
    assert "(several)" in {t["program"] for t in full}


def test_every_published_combination_has_k_people(published) -> None:
    groups = Counter(tuple(row[c] for c in QUASI) for row in published)
    assert groups and min(groups.values()) >= K
    for row in published:
        assert row["group_size"] == groups[tuple(row[c] for c in QUASI)]


def test_no_one_is_recovered_under_k(published, truth) -> None:
    shown = {row["participant_key"]: row for row in published}
    for key, target in truth.items():
        if key not in shown:
            continue  # left out: nothing about them is published
        assert could_be(shown[key], target), key  # coarsened, never changed
        assert candidates(published, target) >= K, target
    # Most people are kept, much of them at full or near-full detail.
    assert len(shown) > 0.9 * len(truth)
    assert any(row["location"] not in ("(other)", "(unknown)") for row in published)
    # The pilot (one pair) is too small to publish in any form.
    assert all(row["program"] != "Pilot" for row in published)


def test_cohorts_in_date_order_with_dates_and_status() -> None:
    wh = MartsHarness(as_of=D)
    wh.add_match("a1", "2024-03-01", cohort="Spring", ended_on="2024-05-31")
    wh.add_match("a2", "2024-03-04", cohort="Spring", ended_on="2024-06-15")
    wh.add_match("b1", "2023-10-02", cohort="Autumn", ended_on="2024-04-01")
    wh.add_match("c1", "2024-06-03", cohort="Summer")
    wh.add_match("c2", "2024-06-10", cohort="Summer", ended_on="2024-08-01")  # after D: live
    wh.add_match("z1", "2024-09-01", cohort="Winter")  # not known at D
    wh.run()
    rows = wh.rows("cohorts", order_by="cohort_order")
    assert [
        (r["cohort"], r["starts_on"], r["ends_on"], r["status"], r["matches"]) for r in rows
    ] == [
        ("Autumn", dt.date(2023, 10, 2), dt.date(2024, 4, 1), "finished", 1),
        ("Spring", dt.date(2024, 3, 1), dt.date(2024, 6, 15), "finished", 2),
        ("Summer", dt.date(2024, 6, 3), None, "live", 2),
    ]
    assert [r["cohort_order"] for r in rows] == [1, 2, 3]
