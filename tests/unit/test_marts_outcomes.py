"""marts.match_retention, match_closures, match_design and survey_reliability: hand cases from
METRICS.md ("Outcomes"), and each statistic compared with the library on the same inputs
(statsmodels CumIncidenceRight, survdiff, multipletests; scipy f.ppf).

Durations are t = end - matched_on in days (end = ended_on if <= D, else D). A match closed
early when it ended by D with an end_reason other than completed (blank included), completed
when it ended as completed; active matches are censored at t. Early closure and completion are
competing ends: the estimate is the cumulative incidence of early closure (Aalen-Johansen).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from scipy.stats import f as f_dist
from statsmodels.duration.survfunc import CumIncidenceRight, survdiff
from statsmodels.stats.multitest import multipletests

from assets.warehouse import outcomes
from assets.warehouse.checks import CHECKS, run_check
from tests.unit.marts_harness import MartsHarness

Z = 1.96


def wilson(p: float, n: int) -> tuple[float, float]:
    c = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    h = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return c - h, c + h


def incidence_by_the_book(durations, status, day):
    """METRICS.md "Match ends", term by term in exact fractions: (F(day), v, some n_i = d_i).
    status: 0 censored, 1 early, 2 completed."""
    times = sorted(set(durations))
    rows = []  # (t_i, n_i, d_i, e_i, S(t_i-), F_i)
    survival, cumulative = Fraction(1), Fraction(0)
    for t in times:
        n = sum(1 for x in durations if x >= t)
        d = sum(1 for x, s in zip(durations, status, strict=True) if x == t and s != 0)
        e = sum(1 for x, s in zip(durations, status, strict=True) if x == t and s == 1)
        before = survival
        cumulative += before * Fraction(e, n)
        survival *= 1 - Fraction(d, n)
        rows.append((t, n, d, e, before, cumulative))
    upto = [r for r in rows if r[0] <= day]
    big_f = upto[-1][5] if upto else Fraction(0)
    emptied = any(n == d for _, n, d, _, _, _ in upto)
    if emptied:
        return big_f, None, True
    v = Fraction(0)
    for _, n, d, e, before, fi in upto:
        a = Fraction(d, n * (n - d))
        v += big_f**2 * a - 2 * big_f * fi * a + fi**2 * a
        v += before**2 * Fraction(e * (n - e), n**3)
        v += -2 * big_f * before * Fraction(e, n**2) + 2 * fi * before * Fraction(e, n**2)
    return big_f, v, False


def loglog(estimate: float, v: float) -> tuple[float, float]:
    s = math.sqrt(v) / (estimate * abs(math.log(estimate)))
    return estimate ** math.exp(Z * s), estimate ** math.exp(-Z * s)


# --- retention and closures ---------------------------------------------------------------
# D = 2024-12-31; program P, matched 2024-01-01 unless said (2024 is a leap year).
#   C1: m1 t=10 mentee_withdrew | m2 t=10 completed (a competing end, tied with m1's closure)
#       m3 t=20 no_engagement   | m4 t=20 blank reason ("")
#       m5 active, t=365        | m6 t=90 completed | m7 t=100 rematched
#       mx matched after D: unknown, counts nowhere
#   C2 (matched 2024-06-01): n1 t=30 NULL reason | n2 t=10 completed
#   program Q / C3: q1 matched 2024-10-01, its ending (2025-01-15) is after D: active, t=91
D_RETENTION = "2024-12-31"
C1 = ([10, 10, 20, 20, 365, 90, 100], [1, 2, 1, 1, 0, 2, 1])


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


def test_cumulative_incidence_with_a_competing_completion(ends: MartsHarness) -> None:
    # C1: t=10 n=7 d=2 e=1 -> F = 1/7, S = 5/7; t=20 n=5 d=2 e=2 -> F += 5/7 * 2/5 = 3/7.
    # (1 - Kaplan-Meier, treating m2 as censored, would give 1 - 6/7 * 3/5 = 17/35 > 3/7.)
    row = retention(ends, "C1", 30)
    assert (row["matches"], row["at_risk"], row["closed_early"], row["completed"]) == (7, 3, 3, 1)
    assert row["early_closure"] == pytest.approx(3 / 7, abs=1e-12)
    assert row["survival"] == pytest.approx(4 / 7, abs=1e-12)
    big_f, v, _ = incidence_by_the_book(*C1, 30)
    assert big_f == Fraction(3, 7)
    low, high = loglog(3 / 7, float(v))
    assert (row["early_closure_ci_low"], row["early_closure_ci_high"]) == pytest.approx(
        (low, high), abs=1e-12
    )
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((1 - high, 1 - low), abs=1e-12)
    assert 0 < low < 3 / 7 < high < 1


def test_later_closure_adds_in_and_horizons_between_keep_the_estimate(ends: MartsHarness) -> None:
    # t=90: m6 completes (n=3): S = 2/7; t=100: n=2 e=1 -> F += 2/7 * 1/2 = 4/7.
    assert retention(ends, "C1", 90)["early_closure"] == retention(ends, "C1", 30)["early_closure"]
    assert retention(ends, "C1", 90)["at_risk"] == 3  # t = 90 is still at risk at day 90
    for day in (180, 365):
        row = retention(ends, "C1", day)
        assert (row["at_risk"], row["closed_early"], row["completed"]) == (1, 4, 2)
        assert row["early_closure"] == pytest.approx(4 / 7, abs=1e-12)
        big_f, v, _ = incidence_by_the_book(*C1, day)
        assert (row["early_closure_ci_low"], row["early_closure_ci_high"]) == pytest.approx(
            loglog(float(big_f), float(v)), abs=1e-12
        )


def test_rollup_is_computed_from_the_matches(ends: MartsHarness) -> None:
    # (all) of P, 9 matches: t=10 n=9 d=3 e=1 -> 1/9; t=20 n=6 d=2 e=2 -> += 6/9 * 2/6;
    # t=30 n=4 d=1 e=1 -> += 4/9 * 1/4: F(30) = 4/9.
    row = retention(ends, "(all)", 30)
    assert (row["matches"], row["at_risk"], row["closed_early"]) == (9, 4, 4)
    assert row["early_closure"] == pytest.approx(4 / 9, abs=1e-12)
    assert retention(ends, "(all)", 365)["early_closure"] == pytest.approx(5 / 9, abs=1e-12)


def test_emptied_risk_set_has_no_interval_and_no_estimate_beyond_follow_up(
    ends: MartsHarness,
) -> None:
    # C2: n2 completes at 10 (S = 1/2); n1 closes at 30 as the only one at risk (n = d = 1):
    # F(30) = 1/2 with no standard error, so no interval; nobody was followed 90 days.
    day30 = retention(ends, "C2", 30)
    assert (day30["at_risk"], day30["closed_early"], day30["early_closure"]) == (1, 1, 0.5)
    assert (day30["early_closure_ci_low"], day30["early_closure_ci_high"]) == (None, None)
    assert (day30["ci_low"], day30["ci_high"]) == (None, None)
    day90 = retention(ends, "C2", 90)
    assert (day90["at_risk"], day90["early_closure"], day90["survival"]) == (0, None, None)


def test_no_closure_gives_zero_without_interval_and_future_endings_wait(
    ends: MartsHarness,
) -> None:
    row = retention(ends, "C3", 90, program="Q")
    assert (row["matches"], row["at_risk"], row["closed_early"]) == (1, 1, 0)
    assert (row["early_closure"], row["survival"]) == (0.0, 1.0)
    assert (row["early_closure_ci_low"], row["ci_low"], row["ci_high"]) == (None, None, None)
    assert retention(ends, "C3", 180, program="Q")["early_closure"] is None  # t = 91 < 180


def test_one_row_per_group_and_horizon(ends: MartsHarness) -> None:
    keys = {(r["program"], r["cohort"], r["day"]) for r in ends.rows("match_retention")}
    groups = {("P", "C1"), ("P", "C2"), ("P", "(all)"), ("Q", "C3"), ("Q", "(all)")}
    assert keys == {(p, c, d) for p, c in groups for d in (30, 90, 180, 365)}


def test_closures_rate_is_the_one_year_incidence_and_share_of_ended_keeps_the_ratio(
    ends: MartsHarness,
) -> None:
    row = ends.one("match_closures", program="P", cohort="C1")
    assert (row["matches"], row["ended"], row["completed"], row["closed_early"]) == (7, 6, 2, 4)
    reasons = ("mentor_withdrew", "mentee_withdrew", "no_engagement", "rematched", "other")
    assert [row[r] for r in reasons] == [0, 1, 1, 1, 0]
    assert row["unknown_reason"] == 1  # "" is blank
    year = retention(ends, "C1", 365)
    assert row["early_closure_rate"] == year["early_closure"] == pytest.approx(4 / 7)
    assert (row["early_closure_ci_low"], row["early_closure_ci_high"]) == (
        year["early_closure_ci_low"],
        year["early_closure_ci_high"],
    )
    assert row["early_share_of_ended"] == pytest.approx(4 / 6)
    # Wilson, p = 2/3, n = 6: c = 0.986800 / 1.640267 = 0.601608, h = 0.301621.
    assert row["early_share_ci_low"] == pytest.approx(0.299987, abs=1e-5)
    assert row["early_share_ci_high"] == pytest.approx(0.903229, abs=1e-5)
    assert row["median_days_to_early_closure"] == 20.0  # t = 10, 20, 20, 100


def test_closures_rollup_and_too_early_to_tell(ends: MartsHarness) -> None:
    rollup = ends.one("match_closures", program="P", cohort="(all)")
    assert (rollup["matches"], rollup["ended"], rollup["closed_early"]) == (9, 8, 5)
    assert rollup["unknown_reason"] == 2  # "" and NULL
    assert rollup["early_closure_rate"] == pytest.approx(5 / 9)
    assert (rollup["early_share_ci_low"], rollup["early_share_ci_high"]) == pytest.approx(
        wilson(5 / 8, 8)
    )
    assert rollup["median_days_to_early_closure"] == 20.0  # 10, 20, 20, 30, 100
    young = ends.one("match_closures", program="P", cohort="C2")  # nobody followed a year
    assert (young["ended"], young["closed_early"], young["early_share_of_ended"]) == (2, 1, 0.5)
    assert young["early_closure_rate"] is None and young["early_closure_ci_low"] is None
    active = ends.one("match_closures", program="Q", cohort="C3")
    assert (active["ended"], active["closed_early"]) == (0, 0)
    assert active["early_closure_rate"] is None
    assert (active["early_share_of_ended"], active["early_share_ci_low"]) == (None, None)
    assert active["median_days_to_early_closure"] is None


def _random_matches(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 500, size)
    status = rng.choice([0, 1, 2], size, p=[0.4, 0.35, 0.25])
    return t, status


@pytest.mark.parametrize("seed", range(8))
def test_cumulative_incidence_equals_statsmodels_and_the_formula(seed: int) -> None:
    t, status = _random_matches(seed, 40 + 30 * seed)
    with np.errstate(divide="ignore", invalid="ignore"):  # the last time empties the risk set
        fitted = CumIncidenceRight(t.astype(float), status)
    for result in outcomes.cumulative_incidence(t, status):
        at_risk = int((t >= result.day).sum())
        assert result.at_risk == at_risk
        if at_risk == 0:
            assert result.estimate is None
            continue
        upto = np.searchsorted(fitted.times, result.day, side="right") - 1
        library_f = fitted.cinc[0][upto] if upto >= 0 else 0.0
        library_se = fitted.cinc_se[0][upto] if upto >= 0 else 0.0
        assert result.estimate == pytest.approx(library_f, abs=1e-13)
        big_f, v, emptied = incidence_by_the_book(t.tolist(), status.tolist(), result.day)
        assert result.estimate == pytest.approx(float(big_f), abs=1e-13)
        if emptied or big_f in (0, 1):
            assert result.ci_low is None and result.ci_high is None
            continue
        assert math.sqrt(float(v)) == pytest.approx(library_se, rel=1e-9)
        assert (result.ci_low, result.ci_high) == pytest.approx(
            loglog(library_f, library_se**2), abs=1e-12
        )
        assert 0 < result.ci_low <= result.estimate <= result.ci_high < 1


# --- design ---------------------------------------------------------------------------------
# D = 2025-03-01. Mentor A: d1 (P, 2024-01-01 .. 03-01 no_engagement, t=60), d2 (P, 02-01,
# active, t=394), d4 (Q, 03-01, active, t=365), d5 (P, 03-01 .. 04-01 rematched, t=31).
# Mentor B (no roster row): d3 (P, 01-15 .. 02-15 completed, t=31). Mentor loads on
# matched_on: d1 1; d2 2 (d1 still active); d4 and d5 3 (d2, and each other; d1 ended 03-01,
# not after it); d3 1.
D_DESIGN = "2025-03-01"
# (t, status, department, location, mentor_load) of program P's matches d1, d2, d3, d5
P_DESIGN = {
    "t": [60, 394, 31, 31],
    "status": [1, 0, 2, 1],
    "department": ["same", "different", "unknown", "same"],
    "location": ["different", "unknown", "unknown", "same"],
    "mentor_load": ["1", "2", "1", "3+"],
}


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
    same = level(design, "department", "same")  # d1, d5: both closed early, nobody followed a year
    assert (same["matches"], same["ended"], same["closed_early"]) == (2, 2, 2)
    assert (same["early_closure_rate"], same["early_closure_ci_low"]) == (None, None)
    assert same["cadence_attainment_mean"] == pytest.approx((2 / (60 / 30.4375) / 2 + 0) / 2)
    assert same["goals_decided"] == 3
    assert same["goal_attainment_rate"] == pytest.approx(1 / 3)
    assert (same["goal_attainment_ci_low"], same["goal_attainment_ci_high"]) == pytest.approx(
        wilson(1 / 3, 3)
    )
    different = level(design, "department", "different")  # d2, active for 394 days
    assert (different["matches"], different["ended"], different["early_closure_rate"]) == (
        1,
        0,
        0.0,
    )
    assert different["early_closure_ci_low"] is None  # F = 0: no interval
    assert different["goals_decided"] == 0 and different["goal_attainment_rate"] is None
    unknown = level(design, "department", "unknown")  # d3: mentor B has no roster row
    assert (unknown["matches"], unknown["closed_early"], unknown["early_closure_rate"]) == (
        1,
        0,
        None,
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


def test_logrank_per_attribute_equals_survdiff_and_holm_equals_multipletests(
    design: MartsHarness,
) -> None:
    t = np.array(P_DESIGN["t"], dtype=float)
    early = (np.array(P_DESIGN["status"]) == 1).astype(float)
    expected = {a: survdiff(t, early, np.array(P_DESIGN[a]))[1] for a in outcomes.DESIGN_ATTRIBUTES}
    adjusted = dict(
        zip(expected, multipletests(list(expected.values()), method="holm")[1], strict=True)
    )
    for attribute, p in expected.items():
        rows = design.rows("match_design", program="P", attribute=attribute)
        assert [r["logrank_p"] for r in rows] == pytest.approx([p] * len(rows), abs=1e-13)
        assert [r["logrank_p_holm"] for r in rows] == pytest.approx(
            [adjusted[attribute]] * len(rows), abs=1e-13
        )
    # program Q has one level per attribute: no test, nothing to adjust
    q = design.rows("match_design", program="Q")
    assert {(r["logrank_p"], r["logrank_p_holm"]) for r in q} == {(None, None)}


def test_logrank_null_cases() -> None:
    t = np.array([5, 10, 20, 30])
    level = np.array(["different", "same", "same", "different"])
    # "different" ended at 5 (completed) and 30 (active); early closures at 10 and 20 only
    assert outcomes.logrank_p(t, np.array([2, 1, 1, 0]), level) is not None
    # no match of "other" at risk at any early closure (its only match completed at 5)
    lone = np.array(["other", "same", "same", "same"])
    assert outcomes.logrank_p(t, np.array([2, 1, 1, 0]), lone) is None
    assert outcomes.logrank_p(t, np.array([2, 0, 2, 0]), level) is None  # no early closure
    assert outcomes.logrank_p(t, np.array([2, 1, 1, 0]), np.array(["same"] * 4)) is None
    assert outcomes.holm([None, 0.01, None, 0.04]) == pytest.approx(
        [None, 0.02, None, 0.04], abs=1e-15
    )
    assert outcomes.holm([None, None]) == [None, None]


def test_holm_over_the_attributes_with_a_test() -> None:
    # two attributes testable, one without early closures at one level: Holm over two only
    rng = np.random.default_rng(7)
    size = 120
    frame = pl.DataFrame(
        {
            "match_id": [f"m{i:03d}" for i in range(size)],
            "program": ["P"] * size,
            "t": rng.integers(1, 400, size),
            "status": rng.choice([0, 1, 2], size, p=[0.3, 0.4, 0.3]),
            "cadence_attainment": rng.random(size),
            "goals_decided": [0] * size,
            "goals_achieved": [0] * size,
            "department": rng.choice(["same", "different"], size),
            "location": rng.choice(["same", "different", "unknown"], size),
            "mentor_load": ["1"] * size,
        }
    )
    rows = outcomes.match_design(frame).filter(pl.col("program") == "P")
    by_attribute = {r["attribute"]: r for r in rows.iter_rows(named=True)}
    early = (frame["status"] == 1).cast(pl.Float64).to_numpy()
    t = frame["t"].cast(pl.Float64).to_numpy()
    p = [survdiff(t, early, frame[a].to_numpy())[1] for a in ("department", "location")]
    holm = multipletests(p, method="holm")[1]
    assert by_attribute["mentor_load"]["logrank_p"] is None
    assert by_attribute["mentor_load"]["logrank_p_holm"] is None
    for attribute, raw, adjusted in zip(("department", "location"), p, holm, strict=True):
        assert by_attribute[attribute]["logrank_p"] == pytest.approx(raw, abs=1e-13)
        assert by_attribute[attribute]["logrank_p_holm"] == pytest.approx(adjusted, abs=1e-13)


# --- reliability ---------------------------------------------------------------------------
# Survey w: ten mentees answering all six items (the five patterns below, twice).
ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")
ANSWERS = [(1,) * 6, (2,) * 5 + (1,), (3,) * 6, (4,) * 5 + (5,), (5,) * 6]
TEN = ANSWERS + [
    (2, 1, 2, 1, 2, 2),
    (3, 3, 4, 3, 3, 2),
    (4, 5, 4, 4, 3, 4),
    (1, 2, 1, 1, 2, 1),
    (5, 4, 5, 5, 5, 4),
]


def alpha_from_covariance(rows: list[tuple[int, ...]]) -> float:
    """Cronbach's alpha as k/(k-1) (1 - trace(C) / sum(C)), C the items' covariance matrix."""
    c = np.cov(np.array(rows, dtype=float), rowvar=False, ddof=1)
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


@pytest.fixture(scope="module")
def reliability() -> MartsHarness:
    wh = MartsHarness(as_of="2024-06-30")
    for i in range(10):
        wh.add_match(f"r{i}", "2024-01-01")
    wh.add_match("later", "2024-08-01")  # unknown match
    for i, answers in enumerate(TEN):
        wh.add_response(f"r{i}", f"p{i}", survey_id="w", **dict(zip(ITEMS, answers, strict=True)))
        # survey v: every answer the same, so the total does not vary
        wh.add_response(f"r{i}", f"p{i}", survey_id="v", **dict.fromkeys(ITEMS, 3))
        # survey x: ten complete responses from four respondents (< k)
        wh.add_response(
            f"r{i}", f"q{i % 4}", survey_id="x", **dict(zip(ITEMS, answers, strict=True))
        )
    # a mentor who skipped satisfaction: not a complete case, but the group has a row
    wh.add_response("r0", "boss", survey_id="w", role="mentor", **dict.fromkeys(ITEMS[:5], 1))
    wh.add_response("later", "px", survey_id="w", **dict.fromkeys(ITEMS, 1))
    # survey u: nine complete responses (< 10), nine respondents
    for i, answers in enumerate(TEN[:9]):
        wh.add_response(f"r{i}", f"p{i}", survey_id="u", **dict(zip(ITEMS, answers, strict=True)))
    return wh.run()


def test_cronbach_alpha_and_feldt_interval(reliability: MartsHarness) -> None:
    alpha = alpha_from_covariance(TEN)
    # Feldt: d1 = 9, d2 = 45 (scipy f.ppf)
    low = 1 - (1 - alpha) * f_dist.ppf(0.975, 9, 45)
    high = 1 - (1 - alpha) * f_dist.ppf(0.025, 9, 45)
    for role in ("mentee", "(all)"):
        row = reliability.one("survey_reliability", program="P", survey_id="w", role=role)
        assert (row["n_complete"], row["n_respondents"]) == (10, 10)
        assert row["alpha"] == pytest.approx(alpha, abs=1e-12)
        assert (row["alpha_ci_low"], row["alpha_ci_high"]) == pytest.approx((low, high), abs=1e-12)
        assert row["alpha_ci_low"] < row["alpha"] < row["alpha_ci_high"] <= 1


def test_alpha_null_cases(reliability: MartsHarness) -> None:
    mentor = reliability.one("survey_reliability", program="P", survey_id="w", role="mentor")
    assert (mentor["n_complete"], mentor["n_respondents"], mentor["alpha"]) == (0, 0, None)
    flat = reliability.one("survey_reliability", program="P", survey_id="v", role="mentee")
    assert (flat["n_complete"], flat["alpha"], flat["alpha_ci_low"]) == (10, None, None)
    few = reliability.one("survey_reliability", program="P", survey_id="u", role="mentee")
    assert (few["n_complete"], few["n_respondents"], few["alpha"]) == (9, 9, None)
    assert (few["alpha_ci_low"], few["alpha_ci_high"]) == (None, None)
    small = reliability.one("survey_reliability", program="P", survey_id="x", role="mentee")
    assert (small["n_complete"], small["n_respondents"], small["alpha"]) == (10, 4, None)


def test_reliability_has_no_program_rollup(reliability: MartsHarness) -> None:
    assert {r["program"] for r in reliability.rows("survey_reliability")} == {"P"}
    assert len(reliability.rows("survey_reliability")) == 3 + 2 + 2 + 2  # w: 3 roles; v, u, x: 2


# --- blocking checks -------------------------------------------------------------------------
def _outcome_checks():
    tables = {"marts.match_retention", "marts.match_closures"}
    return [c for c in CHECKS if c.table in tables]


def test_outcome_checks_pass_on_good_marts_and_catch_a_falling_curve() -> None:
    wh = MartsHarness(as_of=D_RETENTION)
    wh.add_match("a", "2024-01-01", ended_on="2024-01-11", end_reason="other")
    wh.add_match("b", "2024-01-01", ended_on="2024-03-01", end_reason="rematched")
    wh.add_match("c", "2024-01-01")
    wh.run()
    checks = _outcome_checks()
    assert {c.name for c in checks} >= {"early_closure_is_a_curve", "closures_add_up"}
    assert [(c.name, run_check(wh.con, c)[0]) for c in checks] == [(c.name, 0) for c in checks]
    wh.con.execute(
        "UPDATE marts.match_retention SET early_closure = 0.1, survival = 0.9 "
        "WHERE cohort = 'C1' AND day = 365"
    )
    curve = next(c for c in checks if c.name == "early_closure_is_a_curve")
    failures, sample = run_check(wh.con, curve)
    assert failures >= 1 and "P/C1/365" in sample
