"""marts.match_retention, match_closures, match_design and survey_reliability, hand-computed.

Durations are t = end - matched_on in days (end = ended_on if <= D, else D). A match closed
early when it ended by D with an end_reason other than completed (blank included); the others
are censored at t.
"""

from __future__ import annotations

import math

import pytest

from tests.dbt_compiled import data_tests, run_test
from tests.unit.marts_harness import MartsHarness

Z = 1.96


def wilson(p: float, n: int) -> tuple[float, float]:
    c = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    h = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return c - h, c + h


def loglog(survival: float, variance_sum: float) -> tuple[float, float]:
    se = math.sqrt(variance_sum) / abs(math.log(survival))
    return survival ** math.exp(Z * se), survival ** math.exp(-Z * se)


# --- retention and closures ---------------------------------------------------------------
# D = 2024-12-31; program P, matched 2024-01-01 unless said (2024 is a leap year).
#   C1: m1 t=10 mentee_withdrew | m2 t=10 completed (censored, tied with m1's closure)
#       m3 t=20 no_engagement   | m4 t=20 blank reason ("")
#       m5 active, t=365        | m6 t=90 completed | m7 t=100 rematched
#       mx matched after D: unknown, counts nowhere
#   C2 (matched 2024-06-01): n1 t=30 NULL reason | n2 t=10 completed
#   program Q / C3: q1 matched 2024-10-01, its ending (2025-01-15) is after D: active, t=91
D_RETENTION = "2024-12-31"


@pytest.fixture(scope="module")
def ends() -> MartsHarness:
    wh = MartsHarness(as_of=D_RETENTION)
    start = "2024-01-01"
    wh.add_match("m1", start, ended_on="2024-01-11", end_reason="mentee_withdrew")
    wh.add_match("m2", start, ended_on="2024-01-11", end_reason="completed")
    wh.add_match("m3", start, ended_on="2024-01-21", end_reason="no_engagement")
    wh.add_match("m4", start, ended_on="2024-01-21", end_reason="")
    wh.add_match("m5", start)
    wh.add_match("m6", start, ended_on="2024-03-31", end_reason="completed")
    wh.add_match("m7", start, ended_on="2024-04-10", end_reason="rematched")
    wh.add_match("mx", "2025-02-01", ended_on="2025-02-02", end_reason="other")
    wh.add_match("n1", "2024-06-01", cohort="C2", ended_on="2024-07-01")
    wh.add_match("n2", "2024-06-01", cohort="C2", ended_on="2024-06-11", end_reason="completed")
    wh.add_match(
        "q1",
        "2024-10-01",
        program="Q",
        cohort="C3",
        ended_on="2025-01-15",
        end_reason="mentor_withdrew",
    )
    return wh.run()


def retention(wh: MartsHarness, cohort: str, day: int, program: str = "P") -> dict:
    return wh.one("match_retention", program=program, cohort=cohort, day=day)


def test_kaplan_meier_product_with_tied_closure_and_censoring(ends: MartsHarness) -> None:
    # C1 closure times: t=10 n=7 d=1 (m2 censored at 10 is still at risk) -> 6/7;
    # t=20 n=5 d=2 -> 3/5. S(30) = 18/35 = 0.514286; v = 1/(7*6) + 2/(5*3) = 11/70.
    # se = sqrt(11/70) / |ln(18/35)| = 0.396412 / 0.664976 = 0.596130;
    # ci = S^exp(+-1.96 se): [0.514286^3.216891, 0.514286^0.310859] = [0.117754, 0.813252].
    row = retention(ends, "C1", 30)
    assert (row["matches"], row["at_risk"], row["closed_early"]) == (7, 3, 3)
    assert row["survival"] == pytest.approx(18 / 35, abs=1e-12)
    assert row["ci_low"] == pytest.approx(0.117754, abs=1e-5)
    assert row["ci_high"] == pytest.approx(0.813252, abs=1e-5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(loglog(18 / 35, 11 / 70), abs=1e-12)


def test_no_closure_between_horizons_keeps_the_estimate(ends: MartsHarness) -> None:
    day30, day90 = retention(ends, "C1", 30), retention(ends, "C1", 90)
    assert day90["survival"] == day30["survival"]
    assert (day90["ci_low"], day90["ci_high"]) == (day30["ci_low"], day30["ci_high"])
    assert day90["at_risk"] == 3  # t = 90 is still at risk at day 90


def test_later_closure_multiplies_in(ends: MartsHarness) -> None:
    # t=100: n=2 (m5, m7), d=1 -> S(180) = 18/35 * 1/2 = 9/35; v = 11/70 + 1/(2*1) = 23/35.
    for day in (180, 365):
        row = retention(ends, "C1", day)
        assert (row["at_risk"], row["closed_early"]) == (1, 4)
        assert row["survival"] == pytest.approx(9 / 35, abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(loglog(9 / 35, 23 / 35))


def test_rollup_is_computed_from_the_matches(ends: MartsHarness) -> None:
    # (all) of P, 9 matches: t=10 n=9 d=1; t=20 n=6 d=2; t=30 n=4 d=1 (n1).
    # S(30) = 8/9 * 4/6 * 3/4 = 4/9; v = 1/72 + 2/24 + 1/12 = 13/72.
    row = retention(ends, "(all)", 30)
    assert (row["matches"], row["at_risk"], row["closed_early"]) == (9, 4, 4)
    assert row["survival"] == pytest.approx(4 / 9, abs=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(loglog(4 / 9, 13 / 72))


def test_survival_reaching_zero_then_no_match_at_risk(ends: MartsHarness) -> None:
    # C2: n2 censored at 10; n1 closes at 30 as the only one at risk: S(30) = 0, no interval.
    day30 = retention(ends, "C2", 30)
    assert (day30["at_risk"], day30["closed_early"], day30["survival"]) == (1, 1, 0.0)
    assert (day30["ci_low"], day30["ci_high"]) == (None, None)
    day90 = retention(ends, "C2", 90)
    assert (day90["at_risk"], day90["survival"], day90["ci_low"]) == (0, None, None)


def test_no_closure_gives_one_without_interval_and_future_endings_wait(
    ends: MartsHarness,
) -> None:
    row = retention(ends, "C3", 90, program="Q")
    assert (row["matches"], row["at_risk"], row["closed_early"]) == (1, 1, 0)
    assert (row["survival"], row["ci_low"], row["ci_high"]) == (1.0, None, None)
    assert retention(ends, "C3", 180, program="Q")["survival"] is None  # t = 91 < 180


def test_one_row_per_group_and_horizon(ends: MartsHarness) -> None:
    keys = {(r["program"], r["cohort"], r["day"]) for r in ends.rows("match_retention")}
    groups = {("P", "C1"), ("P", "C2"), ("P", "(all)"), ("Q", "C3"), ("Q", "(all)")}
    assert keys == {(p, c, d) for p, c in groups for d in (30, 90, 180, 365)}


def test_closures_by_reason_with_wilson(ends: MartsHarness) -> None:
    row = ends.one("match_closures", program="P", cohort="C1")
    assert (row["matches"], row["ended"], row["completed"], row["closed_early"]) == (7, 6, 2, 4)
    reasons = ("mentor_withdrew", "mentee_withdrew", "no_engagement", "rematched", "other")
    assert [row[r] for r in reasons] == [0, 1, 1, 1, 0]
    assert row["unknown_reason"] == 1  # "" is blank
    assert row["early_closure_rate"] == pytest.approx(4 / 6)
    # Wilson, p = 2/3, n = 6: c = 0.986800 / 1.640267 = 0.601608, h = 0.301621.
    assert row["early_closure_ci_low"] == pytest.approx(0.299987, abs=1e-5)
    assert row["early_closure_ci_high"] == pytest.approx(0.903229, abs=1e-5)
    assert row["median_days_to_early_closure"] == 20.0  # t = 10, 20, 20, 100


def test_closures_rollup_and_null_cases(ends: MartsHarness) -> None:
    rollup = ends.one("match_closures", program="P", cohort="(all)")
    assert (rollup["matches"], rollup["ended"], rollup["closed_early"]) == (9, 8, 5)
    assert rollup["unknown_reason"] == 2  # "" and NULL
    assert (rollup["early_closure_ci_low"], rollup["early_closure_ci_high"]) == pytest.approx(
        wilson(5 / 8, 8)
    )
    assert rollup["median_days_to_early_closure"] == 20.0  # 10, 20, 20, 30, 100
    active = ends.one("match_closures", program="Q", cohort="C3")
    assert (active["ended"], active["closed_early"]) == (0, 0)
    assert active["early_closure_rate"] is None
    assert active["early_closure_ci_low"] is None
    assert active["median_days_to_early_closure"] is None


# --- design ---------------------------------------------------------------------------------
# D = 2024-06-30. Mentor A: d1 (P, 01-01 .. 03-01 no_engagement), d2 (P, 02-01, active),
# d4 (Q, 03-01, active), d5 (P, 03-01 .. 04-01 rematched). Mentor B (no roster row): d3
# (P, 01-15 .. 02-15 completed). Mentor loads on matched_on: d1 1; d2 2 (d1 still active);
# d4 and d5 3 (d2, and each other; d1 ended 03-01, not after it); d3 1.
D_DESIGN = "2024-06-30"


@pytest.fixture(scope="module")
def design() -> MartsHarness:
    wh = MartsHarness(as_of=D_DESIGN)
    people = [
        ("A", "Sales", "Paris"),
        ("a1", " Sales ", "paris"),  # same department once trimmed; location differs by case
        ("a2", "Ops", ""),  # blank location: unknown
        ("a3", "Sales", "Paris"),
        ("a4", "Sales", "Paris"),
    ]
    wh.insert(
        "participants",
        [{"participant_key": k, "department": d, "location": loc} for k, d, loc in people],
    )
    matches = [
        ("d1", "P", "A", "a1", "2024-01-01", "2024-03-01", "no_engagement"),
        ("d2", "P", "A", "a2", "2024-02-01", None, None),
        ("d3", "P", "B", "b1", "2024-01-15", "2024-02-15", "completed"),
        ("d4", "Q", "A", "a3", "2024-03-01", None, None),
        ("d5", "P", "A", "a4", "2024-03-01", "2024-04-01", "rematched"),
    ]
    wh.insert(
        "matches",
        [
            {
                "match_id": m,
                "program": p,
                "cohort": "C1",
                "mentor_key": mentor,
                "mentee_key": mentee,
                "matched_on": start,
                "ended_on": end,
                "end_reason": reason,
            }
            for m, p, mentor, mentee, start, end, reason in matches
        ],
    )
    # d1: 60 active days, 2 held -> 2 / (60 / 30.4375) / 2 = 0.5072917; d5: 31 days, 0 held.
    wh.add_meeting("d1", "2024-01-20")
    wh.add_meeting("d1", "2024-02-20")
    wh.add_goal("d1", "2024-01-05", "achieved", achieved_on="2024-02-01")
    wh.add_goal("d1", "2024-01-05", "abandoned")
    wh.add_goal("d5", "2024-03-05", target_date="2024-05-01")  # open, overdue: decided
    wh.add_goal("d5", "2024-03-05")  # open, no target date: not decided
    return wh.run()


def level(wh: MartsHarness, attribute: str, value: str, program: str = "P") -> dict:
    return wh.one("match_design", program=program, attribute=attribute, level=value)


def test_department_levels(design: MartsHarness) -> None:
    same = level(design, "department", "same")  # d1, d5
    assert (same["matches"], same["ended"], same["closed_early"]) == (2, 2, 2)
    assert same["early_closure_rate"] == 1.0
    # Wilson, p = 1, n = 2: c = 1.9604 / 2.9208 = 0.671186, h = 0.9604 / 2.9208 = 0.328814.
    assert same["early_closure_ci_low"] == pytest.approx(0.342372, abs=1e-5)
    assert same["early_closure_ci_high"] == pytest.approx(1.0, abs=1e-12)
    assert same["cadence_attainment_mean"] == pytest.approx((2 / (60 / 30.4375) / 2 + 0) / 2)
    assert same["goals_decided"] == 3
    assert same["goal_attainment_rate"] == pytest.approx(1 / 3)
    assert (same["goal_attainment_ci_low"], same["goal_attainment_ci_high"]) == pytest.approx(
        wilson(1 / 3, 3)
    )
    different = level(design, "department", "different")  # d2
    assert (different["matches"], different["ended"], different["early_closure_rate"]) == (
        1,
        0,
        None,
    )
    assert different["goals_decided"] == 0 and different["goal_attainment_rate"] is None
    unknown = level(design, "department", "unknown")  # d3: mentor B has no roster row
    assert (unknown["matches"], unknown["closed_early"], unknown["early_closure_rate"]) == (
        1,
        0,
        0.0,
    )


def test_location_is_case_sensitive_and_blank_is_unknown(design: MartsHarness) -> None:
    rows = {
        r["level"]: r["matches"]
        for r in design.rows("match_design", program="P", attribute="location")
    }
    assert rows == {"same": 1, "different": 1, "unknown": 2}  # d5 | d1 | d2, d3


def test_mentor_load_counts_matches_active_on_matched_on(design: MartsHarness) -> None:
    loads = {
        r["level"]: r["matches"]
        for r in design.rows("match_design", program="P", attribute="mentor_load")
    }
    assert loads == {"1": 2, "2": 1, "3+": 1}  # d1, d3 | d2 | d5
    everywhere = {
        r["level"]: r["matches"]
        for r in design.rows("match_design", program="(all)", attribute="mentor_load")
    }
    assert everywhere == {"1": 2, "2": 1, "3+": 2}  # d4 of program Q joins 3+


def test_no_row_for_an_empty_level(design: MartsHarness) -> None:
    q = design.rows("match_design", program="Q", attribute="department")
    assert [(r["level"], r["matches"]) for r in q] == [("same", 1)]  # d4 only


# --- reliability ---------------------------------------------------------------------------
# Survey w, five mentees answering all six items:
#   r1 1 1 1 1 1 1 (6) | r2 2 2 2 2 2 1 (11) | r3 3 3 3 3 3 3 (18) | r4 4 4 4 4 4 5 (25)
#   r5 5 5 5 5 5 5 (30)
# items 1-5: variance 2.5 each; item 6 (1, 1, 3, 5, 5): 16/4 = 4; sum of item variances 16.5.
# totals: deviations -12, -7, 0, 7, 12 -> 386/4 = 96.5. alpha = 6/5 * (1 - 16.5/96.5) = 192/193.
ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")
ANSWERS = [(1,) * 6, (2,) * 5 + (1,), (3,) * 6, (4,) * 5 + (5,), (5,) * 6]


@pytest.fixture(scope="module")
def reliability() -> MartsHarness:
    wh = MartsHarness(as_of="2024-06-30")
    for i in range(5):
        wh.add_match(f"r{i}", "2024-01-01")
    wh.add_match("later", "2024-08-01")  # unknown match
    for i, answers in enumerate(ANSWERS):
        wh.add_response(f"r{i}", f"p{i}", survey_id="w", **dict(zip(ITEMS, answers, strict=True)))
        # survey v: every answer the same, so the total does not vary
        wh.add_response(f"r{i}", f"p{i}", survey_id="v", **dict.fromkeys(ITEMS, 3))
    # a mentor who skipped satisfaction: not a complete case, but the group has a row
    wh.add_response("r0", "boss", survey_id="w", role="mentor", **dict.fromkeys(ITEMS[:5], 1))
    wh.add_response("later", "px", survey_id="w", **dict.fromkeys(ITEMS, 1))
    # survey u: four respondents only (< k)
    for i, answers in enumerate(ANSWERS[:4]):
        wh.add_response(f"r{i}", f"p{i}", survey_id="u", **dict(zip(ITEMS, answers, strict=True)))
    return wh.run()


def test_cronbach_alpha_hand_computed(reliability: MartsHarness) -> None:
    for role in ("mentee", "(all)"):
        row = reliability.one("survey_reliability", program="P", survey_id="w", role=role)
        assert (row["n_complete"], row["n_respondents"]) == (5, 5)
        assert row["alpha"] == pytest.approx(192 / 193, abs=1e-12)


def test_alpha_null_cases(reliability: MartsHarness) -> None:
    mentor = reliability.one("survey_reliability", program="P", survey_id="w", role="mentor")
    assert (mentor["n_complete"], mentor["n_respondents"], mentor["alpha"]) == (0, 0, None)
    flat = reliability.one("survey_reliability", program="P", survey_id="v", role="mentee")
    assert (flat["n_complete"], flat["alpha"]) == (5, None)  # s_T^2 = 0
    small = reliability.one("survey_reliability", program="P", survey_id="u", role="mentee")
    assert (small["n_complete"], small["n_respondents"], small["alpha"]) == (4, 4, None)


def test_reliability_has_no_program_rollup(reliability: MartsHarness) -> None:
    assert {r["program"] for r in reliability.rows("survey_reliability")} == {"P"}
    assert len(reliability.rows("survey_reliability")) == 3 + 2 + 2  # w: 3 roles; v, u: 2


# --- blocking checks -------------------------------------------------------------------------
def _outcome_checks():
    tables = {"marts.match_retention", "marts.match_closures"}
    return [c for c in data_tests() if c.table in tables]


def test_outcome_checks_pass_on_good_marts_and_catch_a_rising_curve() -> None:
    wh = MartsHarness(as_of=D_RETENTION)
    wh.add_match("a", "2024-01-01", ended_on="2024-01-11", end_reason="other")
    wh.add_match("b", "2024-01-01", ended_on="2024-03-01", end_reason="rematched")
    wh.add_match("c", "2024-01-01")
    wh.run()
    checks = _outcome_checks()
    assert {c.name for c in checks} >= {"survival_is_a_curve", "closures_add_up"}
    assert [(c.name, run_test(wh.con, c)[0]) for c in checks] == [(c.name, 0) for c in checks]
    wh.con.execute(
        "UPDATE marts.match_retention SET survival = 0.9 WHERE cohort = 'C1' AND day = 365"
    )
    curve = next(c for c in checks if c.name == "survival_is_a_curve")
    failures, sample = run_test(wh.con, curve)
    assert failures >= 1 and "P/C1/365" in sample
