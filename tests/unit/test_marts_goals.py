"""marts.goal_status and marts.goal_attainment against hand-computed values.

D = 2024-06-30. Core goals are already folded (a goal set, re-set, then achieved arrives as one
row: first set_on, last set's attributes, status achieved).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from tests.unit.marts_harness import MartsHarness

D = "2024-06-30"
Z2 = 1.96 * 1.96  # 3.8416


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
def wh() -> MartsHarness:
    wh = MartsHarness(as_of=D)
    wh.add_match("ma", "2024-01-01", cohort="C1")
    wh.add_match("mb", "2024-02-01", cohort="C2")
    wh.add_match("mz", "2024-08-01", cohort="C1")  # matched after D: unknown

    # ma / C1
    # g1: set 01-10, re-set, achieved 03-10; category left NULL.
    wh.add_goal(
        "ma",
        "2024-01-10",
        "achieved",
        goal_id="g1",
        category=None,
        measure="count of talks",
        target_date="2024-04-01",
        progress_pct=60,
        achieved_on="2024-03-10",
    )
    # g2: open, target passed, blank measure.
    wh.add_goal(
        "ma",
        "2024-02-01",
        goal_id="g2",
        horizon="long_term",
        measure=" \t ",
        target_date="2024-06-01",
        progress_pct=40,
    )
    # g3: open with no target date, no progress event.
    wh.add_goal("ma", "2024-03-01", goal_id="g3", measure="x")

    # mb / C2
    wh.add_goal(
        "mb",
        "2024-02-03",
        "abandoned",
        goal_id="g4",
        measure="m",
        target_date="2024-05-01",
        progress_pct=20,
    )
    # g5: target date = D, not before D: not overdue.
    wh.add_goal("mb", "2024-02-04", goal_id="g5", horizon="long_term", measure="y", target_date=D)
    wh.add_goal("mb", "2024-02-05", "achieved", goal_id="g6", achieved_on="2024-02-15")

    # goals of an unknown match and of a match not on the roster
    wh.add_goal("mz", "2024-06-01", goal_id="g7")
    wh.add_goal("nowhere", "2024-06-01", goal_id="g8")
    return wh.run()


def test_only_goals_of_known_matches(wh: MartsHarness) -> None:
    ids = [r["goal_id"] for r in wh.rows("goal_status", order_by="goal_id")]
    assert ids == ["g1", "g2", "g3", "g4", "g5", "g6"]


def test_goal_reset_then_achieved(wh: MartsHarness) -> None:
    g = wh.one("goal_status", goal_id="g1")
    assert (g["match_id"], g["program"], g["cohort"]) == ("ma", "P", "C1")
    assert "title" not in g and "measure" not in g  # free text: restricted, not in the marts
    assert g["has_measure"] is True
    assert g["category"] == "other"  # default
    assert g["set_on"] == day("2024-01-10")
    assert g["status"] == "achieved"
    assert g["progress_pct"] == 100.0  # achieved, whatever the last progress said
    assert g["achieved_on"] == day("2024-03-10")
    # 01-10 -> 03-10 = 21 + 29 + 10 = 60 days
    assert g["days_to_achieve"] == 60
    assert g["is_overdue"] is False
    assert g["is_smart"] is True


def test_overdue_open_goal_with_blank_measure(wh: MartsHarness) -> None:
    g = wh.one("goal_status", goal_id="g2")
    assert g["status"] == "open"
    assert g["progress_pct"] == 40.0
    assert g["achieved_on"] is None
    assert g["days_to_achieve"] is None
    assert g["is_overdue"] is True  # open and 06-01 < D
    assert g["is_smart"] is False  # whitespace-only measure is blank


def test_open_goal_without_target_date_is_not_overdue(wh: MartsHarness) -> None:
    g = wh.one("goal_status", goal_id="g3")
    assert g["is_overdue"] is False  # false, never NULL
    assert g["is_smart"] is False  # measure but no target date
    assert g["progress_pct"] == 0.0  # no progress event


def test_abandoned_and_due_today(wh: MartsHarness) -> None:
    g4 = wh.one("goal_status", goal_id="g4")
    assert g4["is_overdue"] is False  # past target but not open
    assert g4["progress_pct"] == 20.0
    assert g4["is_smart"] is True
    g5 = wh.one("goal_status", goal_id="g5")
    assert g5["is_overdue"] is False  # target_date = D is not < D
    g6 = wh.one("goal_status", goal_id="g6")
    assert g6["days_to_achieve"] == 10
    assert g6["is_smart"] is False  # no measure


def wilson(p: float, n: int) -> tuple[float, float]:
    centre = (p + Z2 / (2 * n)) / (1 + Z2 / n)
    half = 1.96 * math.sqrt(p * (1 - p) / n + Z2 / (4 * n * n)) / (1 + Z2 / n)
    return centre - half, centre + half


def test_wilson_helper_matches_published_values() -> None:
    # Wilson 95% for 1 success in 1 trial: [1 / 4.8416, 1] = [0.2065, 1]
    low, high = wilson(1.0, 1)
    assert low == pytest.approx(1 / 4.8416, rel=1e-12)
    assert high == pytest.approx(1.0, rel=1e-12)
    # 2 of 3: centre (2/3 + 0.640267) / 2.280533 = 0.573082,
    #         half 1.96 * 0.425188 / 2.280533 = 0.365427
    low, high = wilson(2 / 3, 3)
    assert (low, high) == (pytest.approx(0.207655, abs=1e-6), pytest.approx(0.938510, abs=1e-6))


def ga(wh: MartsHarness, cohort: str, horizon: str) -> dict:
    return wh.one("goal_attainment", program="P", cohort=cohort, horizon=horizon)


def test_goal_attainment_groups(wh: MartsHarness) -> None:
    keys = {(r["cohort"], r["horizon"]) for r in wh.rows("goal_attainment")}
    assert keys == {
        (cohort, horizon)
        for cohort in ("C1", "C2", "(all)")
        for horizon in ("short_term", "long_term", "(all)")
    }


def test_cohort_all_horizons(wh: MartsHarness) -> None:
    r = ga(wh, "C1", "(all)")  # g1 achieved, g2 open+overdue, g3 open
    assert (r["goals_set"], r["goals_achieved"], r["goals_abandoned"]) == (3, 1, 0)
    assert (r["goals_open"], r["goals_overdue"]) == (2, 1)
    assert r["goals_open_undated"] == 1  # g3: can never be overdue, outside the rate's n
    # 1 / (1 + 0 + 1) = 0.5 on n = 2: centre (0.5 + 0.9604) / 2.9208 = 0.5,
    # half = 1.96 * sqrt(0.125 + 0.2401) / 2.9208 = 0.405471
    assert r["attainment_rate"] == 0.5
    assert r["attainment_ci_low"] == pytest.approx(wilson(0.5, 2)[0], rel=1e-12)
    assert r["attainment_ci_high"] == pytest.approx(wilson(0.5, 2)[1], rel=1e-12)
    assert r["attainment_ci_low"] == pytest.approx(0.094529, abs=1e-6)
    assert r["attainment_ci_high"] == pytest.approx(0.905471, abs=1e-6)
    assert r["median_days_to_achieve"] == 60.0
    assert r["smart_share"] == pytest.approx(1 / 3, rel=1e-15)  # only g1


def test_wilson_at_n_equal_one(wh: MartsHarness) -> None:
    achieved = ga(wh, "C1", "short_term")  # g1 achieved, g3 open not overdue: 1 of n = 1
    assert achieved["attainment_rate"] == 1.0
    # centre (1 + 1.9208) / 4.8416, half 1.96 * 0.98 / 4.8416 -> [1 / 4.8416, 1]
    assert achieved["attainment_ci_low"] == pytest.approx(1 / 4.8416, rel=1e-12)
    assert achieved["attainment_ci_high"] == pytest.approx(1.0, rel=1e-12)
    overdue = ga(wh, "C1", "long_term")  # g2 overdue: 0 of n = 1
    assert overdue["attainment_rate"] == 0.0
    assert overdue["attainment_ci_low"] == pytest.approx(0.0, abs=1e-15)
    assert overdue["attainment_ci_high"] == pytest.approx(3.8416 / 4.8416, rel=1e-12)
    assert overdue["median_days_to_achieve"] is None
    assert overdue["smart_share"] == 0.0


def test_no_rated_goal_gives_null_rate(wh: MartsHarness) -> None:
    r = ga(wh, "C2", "long_term")  # g5 open, due today: not overdue
    assert (r["goals_set"], r["goals_open"], r["goals_overdue"]) == (1, 1, 0)
    assert r["goals_open_undated"] == 0  # it has a target date
    assert r["attainment_rate"] is None
    assert r["attainment_ci_low"] is None
    assert r["attainment_ci_high"] is None
    assert r["smart_share"] == 1.0


def test_program_rollup_is_computed_from_goals(wh: MartsHarness) -> None:
    r = ga(wh, "(all)", "(all)")
    # 6 goals: achieved g1 g6, abandoned g4, open g2 g3 g5, overdue g2
    assert (r["goals_set"], r["goals_achieved"], r["goals_abandoned"]) == (6, 2, 1)
    assert (r["goals_open"], r["goals_overdue"]) == (3, 1)
    assert r["goals_open_undated"] == 1  # g3 (g2 and g5 have target dates)
    assert r["attainment_rate"] == 0.5  # 2 / (2 + 1 + 1)
    assert r["median_days_to_achieve"] == 35.0  # median of 60 and 10
    assert r["smart_share"] == 0.5  # g1 g4 g5 of 6

    st = ga(wh, "(all)", "short_term")  # g1 g3 g4 g6: 2 achieved, 1 abandoned
    assert st["attainment_rate"] == pytest.approx(2 / 3, rel=1e-15)
    assert st["attainment_ci_low"] == pytest.approx(wilson(2 / 3, 3)[0], rel=1e-12)
    assert st["attainment_ci_high"] == pytest.approx(wilson(2 / 3, 3)[1], rel=1e-12)
    assert st["smart_share"] == 0.5  # g1 g4 of 4
