"""marts.monthly_trends against hand-computed values.

D = 2024-03-20 (mid-month): the month ends <= D are 2024-01-31 and 2024-02-29; March has no row.
k = 2, target 2/month (at_risk after 30.4375 days), lapse 60, grace 14.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.marts_harness import MartsHarness

D = "2024-03-20"
JAN = dt.date(2024, 1, 31)
FEB = dt.date(2024, 2, 29)


@pytest.fixture(scope="module")
def wh() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=2)
    wh.add_match("m5", "2024-01-01", cohort="C1")  # the program's first match
    wh.add_meeting("m5", "2024-01-05")
    wh.add_match("m1", "2024-01-15", cohort="C1")
    wh.add_meeting("m1", "2024-01-10")  # before matched_on: out
    wh.add_meeting("m1", "2024-01-20")
    wh.add_meeting("m1", "2024-02-10")
    wh.add_meeting("m1", "2024-02-12", "cancelled")
    wh.add_meeting("m1", "2024-02-25")
    wh.add_meeting("m1", "2024-03-05")  # March: no row yet
    wh.add_match("m2", "2024-02-10", cohort="C2", ended_on="2024-02-29")
    wh.add_meeting("m2", "2024-02-15")
    wh.add_match("m3", "2024-02-20", cohort="C1")
    wh.add_match("m4", "2024-04-01", cohort="C2")  # unknown
    wh.add_meeting("m4", "2024-02-15")
    wh.add_match("q1", "2024-03-05", program="Q")  # no month end yet

    wh.add_goal("m1", "2024-01-16", "achieved", achieved_on="2024-02-05")
    wh.add_goal("m2", "2024-02-11")
    wh.add_goal("m5", "2023-12-20", "achieved", achieved_on="2024-01-10")
    wh.add_goal("m4", "2024-02-01")

    wh.add_response("m1", "u1", submitted_on="2024-01-25", satisfaction=4)
    wh.add_response("m5", "u2", submitted_on="2024-01-28", satisfaction=2)
    wh.add_response("m1", "u1", submitted_on="2024-02-10", survey_id="s2", satisfaction=5)
    wh.add_response("m2", "u3", submitted_on="2024-02-15", satisfaction=1)
    wh.add_response("m2", "u4", submitted_on="2024-02-16", nps=8)
    wh.add_response("m4", "u5", submitted_on="2024-02-16", satisfaction=5)  # unknown match
    return wh.run()


def point(wh: MartsHarness, cohort: str, month_end: dt.date, program: str = "P") -> dict:
    return wh.one("monthly_trends", program=program, cohort=cohort, month_end=month_end)


def test_grid(wh: MartsHarness) -> None:
    keys = {(r["program"], r["cohort"], r["month_end"]) for r in wh.rows("monthly_trends")}
    assert keys == {("P", c, m) for c in ("C1", "C2", "(all)") for m in (JAN, FEB)}


def test_january(wh: MartsHarness) -> None:
    c1 = point(wh, "C1", JAN)
    # m5: last meeting 01-05, 26 days before 01-31 <= 30.4375: on_track
    # m1: 01-20, 11 days: on_track
    assert c1["active_matches"] == 2
    assert c1["meetings_held"] == 2  # 01-05 (m5), 01-20 (m1); 01-10 is outside m1's window
    assert c1["on_track_share"] == 1.0
    assert (c1["goals_set"], c1["goals_achieved"]) == (1, 1)  # m1 set 01-16; m5 achieved 01-10
    assert c1["responses"] == 2
    assert c1["satisfaction_respondents"] == 2
    assert c1["satisfaction_mean"] == 3.0  # (4 + 2) / 2, 2 respondents >= k

    c2 = point(wh, "C2", JAN)  # nothing known yet
    assert (c2["active_matches"], c2["meetings_held"], c2["on_track_share"]) == (0, 0, None)
    assert (c2["goals_set"], c2["goals_achieved"], c2["responses"]) == (0, 0, 0)
    assert (c2["satisfaction_respondents"], c2["satisfaction_mean"]) == (0, None)


def test_february(wh: MartsHarness) -> None:
    c1 = point(wh, "C1", FEB)
    # m5: 02-29 - 01-05 = 55 days > 30.4375 (<= 60): at_risk at that month end
    # m1: 02-29 - 02-25 = 4: on_track; m3: 9 days, nothing held: too_early
    assert c1["active_matches"] == 3
    assert c1["meetings_held"] == 2  # 02-10, 02-25 (the cancelled one is not held)
    assert c1["on_track_share"] == 0.5  # m1 of {m1, m5}
    assert (c1["goals_set"], c1["goals_achieved"]) == (0, 1)  # m1 achieved 02-05
    assert c1["responses"] == 1
    assert c1["satisfaction_mean"] is None  # one respondent < k

    c2 = point(wh, "C2", FEB)
    # m2 ended on 02-29 = the month end: not active at it
    assert (c2["active_matches"], c2["meetings_held"], c2["on_track_share"]) == (0, 1, None)
    assert (c2["goals_set"], c2["goals_achieved"]) == (1, 0)
    assert c2["responses"] == 2
    assert c2["satisfaction_respondents"] == 1  # u4 gave no satisfaction
    assert c2["satisfaction_mean"] is None


def test_program_rollup(wh: MartsHarness) -> None:
    jan = point(wh, "(all)", JAN)
    assert (jan["active_matches"], jan["meetings_held"], jan["on_track_share"]) == (2, 2, 1.0)
    feb = point(wh, "(all)", FEB)
    assert (feb["active_matches"], feb["meetings_held"], feb["on_track_share"]) == (3, 3, 0.5)
    assert (feb["goals_set"], feb["goals_achieved"], feb["responses"]) == (1, 1, 3)
    # u1's 5 and u3's 1: 2 respondents across cohorts. Both cohorts are hidden by size, and
    # 1 + 1 = 2 = k together: the (all) row shows no group under k.
    assert feb["satisfaction_respondents"] == 2
    assert feb["satisfaction_mean"] == 3.0


def test_month_end_equal_to_d_is_included() -> None:
    for as_of, months in [("2024-02-29", [JAN, FEB]), ("2024-02-28", [JAN])]:
        wh = MartsHarness(as_of=as_of)
        wh.add_match("m", "2024-01-31")
        wh.run()
        assert [r["month_end"] for r in wh.rows("monthly_trends", cohort="(all)")] == months


# --- satisfaction: the complementary rule over a program's cohorts, month by month (k = 3) --
@pytest.fixture(scope="module")
def suppression() -> MartsHarness:
    wh = MartsHarness(as_of="2024-02-29", min_group_size=3)
    for cohort in ("C1", "C2", "C3"):
        wh.add_match(f"m-{cohort}", "2024-01-01", cohort=cohort)
    for month, sizes in [("2024-01-15", (1, 4, 5)), ("2024-02-15", (4, 4, 1))]:
        for cohort, size in zip(("C1", "C2", "C3"), sizes, strict=True):
            for i in range(size):
                person = f"{cohort}-{month}-{i}"
                wh.add_response(f"m-{cohort}", person, submitted_on=month, satisfaction=3)
    return wh.run()


def hidden(wh: MartsHarness, month_end: dt.date) -> set[str]:
    return {
        r["cohort"]
        for r in wh.rows("monthly_trends", month_end=month_end)
        if r["satisfaction_respondents"] > 0 and r["satisfaction_mean"] is None
    }


def test_each_month_is_its_own_family(suppression: MartsHarness) -> None:
    # January: C1 (1) by size, then the smallest shown cohort, C2 (4 < 5): (all) - C3 - C2
    # would give C1 away.
    assert hidden(suppression, JAN) == {"C1", "C2"}
    # February: C3 (1) by size, then C1 and C2 tie at 4: C1 (the smaller name)
    assert hidden(suppression, FEB) == {"C3", "C1"}
    assert point(suppression, "C2", FEB)["satisfaction_mean"] == 3.0
    for month, respondents in [(JAN, 10), (FEB, 9)]:
        rollup = point(suppression, "(all)", month)
        assert (rollup["satisfaction_respondents"], rollup["satisfaction_mean"]) == (
            respondents,
            3.0,
        )
