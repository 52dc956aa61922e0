"""marts.program_health against hand-computed values.

D = 2024-06-30, k = 2: D - 30 = 2024-05-31, the 90-day window (D - 90, D] = [04-02, 06-30].
"""

from __future__ import annotations

import pytest

from tests.unit.marts_harness import MartsHarness

D = "2024-06-30"


@pytest.fixture(scope="module")
def wh() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=2)

    # --- P / C1 ---
    wh.add_match("a1", "2024-01-01", cohort="C1")
    wh.add_meeting("a1", "2024-06-20")  # 10 days ago: on_track
    wh.add_match("a2", "2024-02-01", cohort="C1")
    wh.add_meeting("a2", "2024-03-01")  # 121 days ago: lapsed
    wh.add_match("a3", "2024-06-25", cohort="C1")  # 5 days, nothing held: too_early
    wh.add_match("a4", "2024-01-01", cohort="C1", ended_on="2024-03-01")  # ended
    # --- P / C2 ---
    wh.add_match("b1", "2024-05-15", cohort="C2")
    wh.add_meeting("b1", "2024-06-01")  # 29 days ago: on_track
    wh.add_match("b2", "2024-06-05", cohort="C2")  # 25 days, nothing held: not_started
    wh.add_match("b3", "2024-04-01", cohort="C2")
    wh.add_meeting("b3", "2024-06-28")  # on_track
    wh.add_match("late", "2024-07-02", cohort="C3")  # unknown: no C3 row

    # goals: matched_on + 30 decides coverage
    wh.add_goal("a1", "2024-01-20", "achieved", achieved_on="2024-03-01")  # <= 01-31: covered
    wh.add_goal("a2", "2024-03-15", "abandoned")  # > 03-02: not covered
    wh.add_goal("a4", "2023-12-20")  # before matching: covered; open, no target date
    wh.add_goal("a3", "2024-06-26")  # a3 is too young to be judged (06-25 > 05-31)
    wh.add_goal("b3", "2024-05-01", target_date="2024-06-15")  # = 04-01 + 30: covered; overdue

    # responses (survey s1)
    wh.add_response("a1", "u1", submitted_on="2024-06-01", satisfaction=5)
    wh.add_response("a1", "u2", role="mentor", submitted_on="2024-04-02", satisfaction=4)
    wh.add_response("a2", "u3", submitted_on="2024-04-01", satisfaction=1)  # = D - 90: out
    wh.add_response("a2", "u4", role="mentor", submitted_on="2024-06-10")  # no satisfaction
    wh.add_response("b1", "v1", submitted_on="2024-06-15", satisfaction=3)
    wh.add_response("b3", "v2", submitted_on="2024-06-15", nps=9)  # no satisfaction
    wh.add_response("late", "w1", submitted_on="2024-06-15", satisfaction=1)  # unknown match

    # invitations (survey s1)
    wh.add_invitation("a1", "u1", sent_on="2024-05-20")  # responded
    wh.add_invitation("a1", "u2", role="mentor", sent_on="2024-04-01")  # = D - 90: out
    wh.add_invitation("a2", "u3", sent_on="2024-05-20")  # responded (the reply's date is free)
    wh.add_invitation("a2", "u4", role="mentor", sent_on="2024-06-01")  # responded
    wh.add_invitation("a3", "u6", sent_on="2024-06-26")  # no response
    wh.add_invitation("b1", "v1", sent_on="2024-06-10")  # responded
    wh.add_invitation("b2", "v3", sent_on="2024-06-10")  # no response

    # --- Q: cadence only ---
    wh.add_match("q1", "2024-06-10", program="Q")
    wh.add_meeting("q1", "2024-06-20")
    # --- R: every component NULL ---
    wh.add_match("r1", "2024-06-25", program="R")  # too_early
    return wh.run()


def health(wh: MartsHarness, program: str, cohort: str) -> dict:
    return wh.one("program_health", program=program, cohort=cohort)


def test_rows(wh: MartsHarness) -> None:
    keys = {(r["program"], r["cohort"]) for r in wh.rows("program_health")}
    assert keys == {
        ("P", "C1"),
        ("P", "C2"),
        ("P", "(all)"),
        ("Q", "C1"),
        ("Q", "(all)"),
        ("R", "C1"),
        ("R", "(all)"),
    }


def test_cohort_c1(wh: MartsHarness) -> None:
    r = health(wh, "P", "C1")
    assert r["active_matches"] == 3  # a1, a2, a3 (a4 ended)
    assert r["on_track_share"] == 0.5  # a1 of {a1, a2}; a3 too_early left out
    assert r["goal_attainment_rate"] == 0.5  # a1 achieved / (a1 + a2 abandoned)
    assert r["goal_coverage"] == pytest.approx(2 / 3, rel=1e-15)  # a1, a4 of a1, a2, a4
    assert r["satisfaction_respondents"] == 2  # u1 (5) and u2 (4); u3 is outside the window
    # 4.5 from 2 respondents >= k, but C2's lone respondent is NULL by size and C1 is the only
    # other cohort with a value: (all) - C1 would give C2 away, so C1 is NULL too.
    assert r["satisfaction_mean"] is None
    assert r["response_rate_90d"] == 0.75  # u1, u3, u4 of u1, u3, u4, u6
    # satisfaction as published (NULL) leaves the score:
    # 100 * (0.35 * 0.5 + 0.25 * 0.5 + 0.15 * 0.75) / (0.35 + 0.25 + 0.15)
    #   = 100 * (0.175 + 0.125 + 0.1125) / 0.75 = 55.0
    assert r["health_score"] == pytest.approx(55.0, rel=1e-12)
    assert r["health_band"] == "red"


def test_cohort_c2_with_a_missing_component(wh: MartsHarness) -> None:
    r = health(wh, "P", "C2")
    assert r["active_matches"] == 3
    assert r["on_track_share"] == pytest.approx(2 / 3, rel=1e-15)  # b1, b3 of b1, b2, b3
    assert r["goal_attainment_rate"] == 0.0  # b3 overdue: 0 / 1
    assert r["goal_coverage"] == 0.5  # b3 of b1, b3 (b2 is too young)
    # one respondent answered satisfaction (v2 answered nps only): fewer than k = 2
    assert r["satisfaction_respondents"] == 1
    assert r["satisfaction_mean"] is None
    assert r["response_rate_90d"] == 0.5  # v1 of v1, v3
    # 100 * (0.35 * 2/3 + 0.25 * 0 + 0.15 * 0.5) / (0.35 + 0.25 + 0.15)
    #   = 100 * 0.308333 / 0.75 = 41.111
    expected = 100 * (0.35 * 2 / 3 + 0.15 * 0.5) / 0.75
    assert r["health_score"] == pytest.approx(expected, rel=1e-12)
    assert r["health_score"] == pytest.approx(41.1111, abs=1e-4)
    assert r["health_band"] == "red"


def test_program_rollup_is_computed_from_records(wh: MartsHarness) -> None:
    r = health(wh, "P", "(all)")
    assert r["active_matches"] == 6
    assert r["on_track_share"] == 0.6  # a1, b1, b3 of a1, a2, b1, b2, b3 (not avg of rows)
    assert r["goal_attainment_rate"] == pytest.approx(1 / 3, rel=1e-15)  # 1 / (1 + 1 + 1)
    assert r["goal_coverage"] == 0.6  # a1, a4, b3 of a1, a2, a4, b1, b3
    assert r["satisfaction_respondents"] == 3
    assert r["satisfaction_mean"] == 4.0  # 5, 4, 3: the rollup itself is never a sibling
    assert r["response_rate_90d"] == pytest.approx(4 / 6, rel=1e-15)
    # 100 * (0.35 * 0.6 + 0.25 / 3 + 0.25 * 0.75 + 0.15 * 2/3) = 58.0833
    expected = 100 * (0.35 * 0.6 + 0.25 / 3 + 0.25 * 0.75 + 0.15 * 2 / 3)
    assert r["health_score"] == pytest.approx(expected, rel=1e-12)
    assert r["health_score"] == pytest.approx(58.0833, abs=1e-4)
    assert r["health_band"] == "red"


def test_only_cadence_known(wh: MartsHarness) -> None:
    r = health(wh, "Q", "C1")
    assert (r["active_matches"], r["on_track_share"]) == (1, 1.0)
    assert r["goal_attainment_rate"] is None  # no goal_attainment row
    assert r["goal_coverage"] is None  # q1 matched after D - 30
    assert (r["satisfaction_respondents"], r["satisfaction_mean"]) == (0, None)
    assert r["response_rate_90d"] is None
    assert r["health_score"] == pytest.approx(100.0, rel=1e-12)  # 0.35 * 1 / 0.35
    assert r["health_band"] == "green"


def test_all_components_missing(wh: MartsHarness) -> None:
    for cohort in ("C1", "(all)"):
        r = health(wh, "R", cohort)
        assert r["active_matches"] == 1
        assert r["on_track_share"] is None  # its only active match is too_early
        assert r["health_score"] is None
        assert r["health_band"] is None


# --- satisfaction: size, then the complementary rule over a program's cohorts (k = 3) -------
@pytest.fixture(scope="module")
def suppression() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=3)

    def cohort(program: str, name: str, respondents: int) -> None:
        match = f"{program}-{name}"
        wh.add_match(match, "2024-01-01", program=program, cohort=name)
        wh.add_meeting(match, "2024-06-25")  # on_track: the score has a cadence part
        for i in range(respondents):
            wh.add_response(match, f"{match}-{i}", submitted_on="2024-06-10", satisfaction=4)

    # S: X (1) and Y (2) hidden by size; 3 together is k: Z and W stay
    for name, size in [("X", 1), ("Y", 2), ("Z", 4), ("W", 5)]:
        cohort("S", name, size)
    # T: T1 and T2 (1 each, 2 < 3 together) -> the smallest shown, T3 and T4 tie: T3
    for name, size in [("T1", 1), ("T2", 1), ("T3", 4), ("T4", 4)]:
        cohort("T", name, size)
    # U: U1 (2) alone -> U2; U3 has no satisfaction answer (no group, not a sibling)
    for name, size in [("U1", 2), ("U2", 6), ("U3", 0)]:
        cohort("U", name, size)
    wh.add_response("U-U3", "U-U3-x", submitted_on="2024-06-10", nps=5)
    # V: V2 has 3 respondents in the window and 2 more before it; V1 one
    cohort("V", "V1", 1)
    cohort("V", "V2", 3)
    for i in range(2):
        wh.add_response("V-V2", f"V-V2-old-{i}", submitted_on="2024-03-01", satisfaction=1)
    return wh.run()


def hidden(wh: MartsHarness, program: str) -> set[str]:
    return {
        r["cohort"]
        for r in wh.rows("program_health", program=program)
        if r["satisfaction_respondents"] > 0 and r["satisfaction_mean"] is None
    }


def test_small_cohorts_reaching_k_together_are_enough(suppression: MartsHarness) -> None:
    assert hidden(suppression, "S") == {"X", "Y"}
    assert health(suppression, "S", "Z")["satisfaction_mean"] == 4.0
    assert health(suppression, "S", "(all)")["satisfaction_respondents"] == 12


def test_small_cohorts_under_k_together_hide_one_more(suppression: MartsHarness) -> None:
    assert hidden(suppression, "T") == {"T1", "T2", "T3"}  # T3: the tie goes to the name
    assert health(suppression, "T", "T4")["satisfaction_mean"] == 4.0


def test_score_uses_satisfaction_as_published(suppression: MartsHarness) -> None:
    assert hidden(suppression, "U") == {"U1", "U2"}
    u2 = health(suppression, "U", "U2")
    assert (u2["satisfaction_respondents"], u2["satisfaction_mean"]) == (6, None)
    # only the cadence part is left: 100 * 0.35 * 1 / 0.35 (with satisfaction 4 it would be
    # 100 * (0.35 + 0.25 * 0.75) / 0.6 = 89.58)
    assert u2["health_score"] == pytest.approx(100.0, rel=1e-12)
    u3 = health(suppression, "U", "U3")
    assert (u3["satisfaction_respondents"], u3["satisfaction_mean"]) == (0, None)
    assert health(suppression, "U", "(all)")["satisfaction_mean"] == 4.0


def test_respondents_count_the_window_only(suppression: MartsHarness) -> None:
    # V1 (1) alone -> V2 (3 in the window; the 2 of March are outside it)
    assert health(suppression, "V", "V2")["satisfaction_respondents"] == 3
    assert hidden(suppression, "V") == {"V1", "V2"}
    assert health(suppression, "V", "(all)")["satisfaction_respondents"] == 4
