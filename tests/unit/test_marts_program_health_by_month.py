"""marts.program_health_by_month against hand-computed values.

D = 2024-03-20: months January (E = 01-31), February (E = 02-29) and March, partial (E = D).
k = 2, target 2/month (at_risk after 30.4375 days), lapse 60, grace 14.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.marts_harness import MartsHarness

D = "2024-03-20"
JAN, FEB, MAR = dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)


@pytest.fixture(scope="module")
def wh() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=2)
    wh.add_match("m1", "2024-01-15", cohort="C1")
    for day in ("2024-01-20", "2024-02-10", "2024-02-25", "2024-03-05"):
        wh.add_meeting("m1", day)
    wh.add_match("m2", "2024-02-10", cohort="C2", ended_on="2024-02-29")
    wh.add_meeting("m2", "2024-02-15")
    wh.add_match("m3", "2024-02-20", cohort="C1")  # never meets

    wh.add_goal("m1", "2024-01-16", "achieved", achieved_on="2024-02-05")
    wh.add_goal("m1", "2024-01-20", target_date="2024-02-15")  # open: overdue from Feb 15
    wh.insert(
        "goals",
        [
            {
                "goal_id": "g-abandoned", "match_id": "m3",
                "horizon": "short_term", "category": "skill", "target_date": None,
                "has_measure": False, "set_on": dt.date(2024, 2, 21), "status": "abandoned",
                "progress_pct": 0.0, "achieved_on": None,
                "last_event_at": dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC),
            }
        ],
    )  # fmt: skip

    wh.add_response("m1", "p-mentee-1", submitted_on="2024-02-01", satisfaction=4)
    wh.add_response("m1", "p-mentor-1", role="mentor", submitted_on="2024-02-03", satisfaction=2)
    wh.add_response("m3", "p-mentee-3", submitted_on="2024-03-01", satisfaction=5)
    wh.add_response("m2", "p-mentee-2", submitted_on="2024-02-20", satisfaction=1)  # C2: 1 < k
    return wh.run()


def _row(wh: MartsHarness, month_end: dt.date, cohort: str = "(all)") -> dict:
    return wh.one("program_health_by_month", program="P", cohort=cohort, month_end=month_end)


def test_one_row_per_group_and_month_through_the_partial_month_of_d(wh):
    rows = wh.rows("program_health_by_month", order_by="cohort, month_end")
    assert [(r["cohort"], r["month_end"]) for r in rows] == [
        (cohort, month) for cohort in ("(all)", "C1", "C2") for month in (JAN, FEB, MAR)
    ]
    assert [r["is_partial"] for r in rows[:3]] == [False, False, True]
    assert [r["evaluated_on"] for r in rows[:3]] == [JAN, FEB, dt.date(2024, 3, 20)]


def test_cadence_is_evaluated_as_of_each_month_end(wh):
    jan, feb, mar = (_row(wh, month) for month in (JAN, FEB, MAR))
    assert (jan["active_matches"], jan["on_track_share"]) == (1, 1.0)
    assert jan["meetings_per_month"] == pytest.approx(1 / (16 / 30.4375))
    # Feb: m2 ended on the month end, m3 is too early (9 days): only m1 is judged.
    assert (feb["active_matches"], feb["on_track_share"], feb["pairs_needing_attention"]) == (
        2,
        1.0,
        0,
    )
    # March (to D): m3 has gone 29 days without a meeting: not started.
    assert (mar["active_matches"], mar["on_track_share"], mar["pairs_needing_attention"]) == (
        2,
        0.5,
        1,
    )
    assert [r["meetings_held"] for r in (jan, feb, mar)] == [1, 3, 1]


def test_goals_are_evaluated_as_of_each_month_end(wh):
    jan, feb, mar = (_row(wh, month) for month in (JAN, FEB, MAR))
    assert (jan["goal_attainment_rate"], jan["goals_overdue"]) == (None, 0)
    assert (feb["goal_attainment_rate"], feb["goals_overdue"]) == (0.5, 1)  # abandoned later
    assert mar["goal_attainment_rate"] == pytest.approx(1 / 3)
    assert (jan["goal_coverage"], feb["goal_coverage"], mar["goal_coverage"]) == (None, 1.0, 0.5)
    assert [r["goals_set"] for r in (jan, feb, mar)] == [2, 1, 0]


def test_satisfaction_uses_the_90_days_to_e_and_the_shared_suppression(wh):
    assert _row(wh, JAN)["satisfaction_mean"] is None
    assert _row(wh, FEB)["satisfaction_mean"] == pytest.approx(7 / 3)
    # C2 has one respondent (< k): suppressed, and C1 with it, or C2 = (all) - C1.
    assert _row(wh, FEB, "C2")["satisfaction_mean"] is None
    assert _row(wh, FEB, "C1")["satisfaction_mean"] is None
    assert _row(wh, MAR)["satisfaction_mean"] == pytest.approx(3.0)


def test_satisfaction_respondents_are_counted_at_each_month_end_and_kept_when_suppressed(wh):
    # distinct respondents with a satisfaction answer in (E - 90, E]; 0 when none
    assert [_row(wh, month)["satisfaction_respondents"] for month in (JAN, FEB, MAR)] == [0, 3, 4]
    assert [_row(wh, FEB, cohort)["satisfaction_respondents"] for cohort in ("C1", "C2")] == [2, 1]
    assert _row(wh, JAN, "C2")["satisfaction_respondents"] == 0


def test_health_score_and_its_parts(wh):
    feb = _row(wh, FEB)
    expected = 100 * (0.35 * 1.0 + 0.25 * 0.5 + 0.25 * (7 / 3 - 1) / 4) / 0.85
    assert feb["health_parts"] == 3
    assert feb["health_score"] == pytest.approx(expected)
    assert feb["health_band"] == "amber"


def test_the_month_of_d_matches_program_health(wh):
    current = _row(wh, MAR)
    health = wh.one("program_health", program="P", cohort="(all)")
    for column in ("active_matches", "on_track_share", "goal_attainment_rate", "goal_coverage",
                   "satisfaction_respondents", "satisfaction_mean", "response_rate_90d",
                   "health_score", "health_band"):  # fmt: skip
        assert current[column] == pytest.approx(health[column]), column


def test_past_months_match_monthly_trends(wh):
    for month in (JAN, FEB):
        by_month, trend = (
            _row(wh, month),
            wh.one("monthly_trends", program="P", cohort="(all)", month_end=month),
        )
        for column in (
            "active_matches",
            "on_track_share",
            "meetings_held",
            "goals_set",
            "goals_achieved",
        ):
            assert by_month[column] == trend[column], (month, column)
