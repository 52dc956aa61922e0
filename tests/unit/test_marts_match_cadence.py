"""marts.match_cadence and marts.at_risk_matches against hand-computed values.

D = 2024-06-30 (2024 is a leap year), grace 14 days, lapse 60 days, default target 2/month.
Core meetings are already folded: a meeting rescheduled and then completed is simply a
`completed` meeting dated by its last scheduled_start.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.marts_harness import MartsHarness

D = "2024-06-30"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
def wh() -> MartsHarness:
    wh = MartsHarness(as_of=D)

    # m0: no meeting at all.
    wh.add_match("m0", "2024-06-01")

    # m1: one held meeting; a still-scheduled one counts nowhere.
    wh.add_match("m1", "2024-06-01")
    wh.add_meeting("m1", "2024-06-20")
    wh.add_meeting("m1", "2024-06-28", "scheduled")

    # m2: two held meetings on the same day (the second was rescheduled, then completed).
    wh.add_match("m2", "2024-05-01")
    wh.add_meeting("m2", "2024-06-10")
    wh.add_meeting("m2", "2024-06-10", event_count=3)

    # m3: ended (ended_on <= D); meetings on both window edges and outside it.
    wh.add_match("m3", "2024-03-01", ended_on="2024-05-31")
    wh.add_meeting("m3", "2024-02-28")  # before matched_on: out
    wh.add_meeting("m3", "2024-03-01")  # first day of the window: in
    wh.add_meeting("m3", "2024-03-15")
    wh.add_meeting("m3", "2024-04-20", "cancelled")
    wh.add_meeting("m3", "2024-04-25", "no_show")
    wh.add_meeting("m3", "2024-05-31")  # the ending day: in
    wh.add_meeting("m3", "2024-06-05")  # after ended_on: out
    wh.add_meeting("m3", None, "cancelled")  # no date: counts nowhere

    # m4: the roster ends it after D, so it is still active; its own target of 1/month.
    wh.add_match("m4", "2024-04-01", ended_on="2024-07-15", target=1)
    wh.add_meeting("m4", "2024-04-10")
    wh.add_meeting("m4", "2024-06-25")
    wh.add_meeting("m4", "2024-07-02")  # after D: outside the window

    # m5: matched after D: not known, nothing of it anywhere.
    wh.add_match("m5", "2024-07-01")
    wh.add_meeting("m5", "2024-06-15")

    # A meeting of a match the roster does not have.
    wh.add_meeting("ghost", "2024-06-15")

    # m6: active_days 10 < 14 but a meeting held: on_track, no per-month figure.
    wh.add_match("m6", "2024-06-20")
    wh.add_meeting("m6", "2024-06-25")

    # m7: active_days 10, nothing held yet: too_early.
    wh.add_match("m7", "2024-06-20")

    # m8: last meeting long ago: lapsed.
    wh.add_match("m8", "2024-01-01")
    wh.add_meeting("m8", "2024-02-01")

    # m9: last meeting 36 days ago at target 2: at_risk.
    wh.add_match("m9", "2024-03-01")
    wh.add_meeting("m9", "2024-05-25")

    # m10: target 1 (at_risk after 60.875 days) and 61 days without a meeting: lapsed wins.
    wh.add_match("m10", "2024-03-01", target=1)
    wh.add_meeting("m10", "2024-04-30")

    # m11 / m11b: target 4 (at_risk after 15.21875 days): 15 days is on_track, 16 at_risk.
    wh.add_match("m11", "2024-05-01", target=4)
    wh.add_meeting("m11", "2024-06-15")
    wh.add_match("m11b", "2024-05-01", target=4)
    wh.add_meeting("m11b", "2024-06-14")

    # m12: ended with no meeting: `ended` comes before too_early / not_started.
    wh.add_match("m12", "2024-06-20", ended_on="2024-06-25")

    # m13: ends on D itself: ended.
    wh.add_match("m13", "2024-06-01", ended_on=D)
    wh.add_meeting("m13", "2024-06-15")

    # m14 / m15: the grace and 14-day edges: active_days 14 and 13, nothing held.
    wh.add_match("m14", "2024-06-16")
    wh.add_match("m15", "2024-06-17")

    # m16: three held meetings on one day: gaps 0, 0 (mean 0: no gap_cv).
    wh.add_match("m16", "2024-06-01")
    for _ in range(3):
        wh.add_meeting("m16", "2024-06-12")

    # m17: target 1.5/month, at_risk after 40.583 days; last meeting 45 days ago.
    wh.add_match("m17", "2024-04-01", target=1.5, cohort="C2", program="Q")
    wh.add_meeting("m17", "2024-05-16")
    return wh.run()


def test_one_row_per_known_match(wh: MartsHarness) -> None:
    ids = [r["match_id"] for r in wh.rows("match_cadence", order_by="match_id")]
    assert "m5" not in ids
    assert "ghost" not in ids
    assert len(ids) == 18  # m0..m17 without m5, plus m11b


def test_match_with_no_meeting(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m0")
    # active_days = 06-30 - 06-01 = 29; 0 held -> 0 / (29 / 30.4375) = 0.0
    assert r["active_days"] == 29
    assert (r["meetings_held"], r["meetings_cancelled"], r["meetings_no_show"]) == (0, 0, 0)
    assert r["meetings_per_month"] == 0.0
    assert r["cadence_attainment"] == 0.0
    for column in (
        "first_meeting_on",
        "days_to_first_meeting",
        "last_meeting_on",
        "days_since_last_meeting",
        "median_gap_days",
        "gap_cv",
        "cancellation_rate",  # 0 / 0
        "no_show_rate",  # 0 / 0
    ):
        assert r[column] is None, column
    assert r["status"] == "not_started"  # 29 >= 14 grace days
    assert r["target_per_month"] == 2.0  # roster gives none: the default


def test_match_with_one_meeting(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m1")
    assert r["meetings_held"] == 1  # the scheduled one is not held
    # 1 / (29 / 30.4375) = 1.049568965517...
    assert r["meetings_per_month"] == pytest.approx(1 / (29 / 30.4375), rel=1e-15)
    assert r["meetings_per_month"] == pytest.approx(1.0495689655, rel=1e-9)
    assert r["cadence_attainment"] == pytest.approx(1.0495689655 / 2, rel=1e-9)
    assert r["first_meeting_on"] == r["last_meeting_on"] == day("2024-06-20")
    assert r["days_to_first_meeting"] == 19
    assert r["days_since_last_meeting"] == 10
    assert r["median_gap_days"] is None  # fewer than 2 held meetings
    assert r["gap_cv"] is None
    assert r["cancellation_rate"] == 0.0  # 0 / (1 + 0 + 0)
    assert r["no_show_rate"] == 0.0  # 0 / (1 + 0)
    assert r["status"] == "on_track"  # 10 <= 2 * 30.4375 / 2 = 30.4375


def test_two_meetings_on_one_day_give_a_gap_of_zero(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m2")
    # active_days = 06-30 - 05-01 = 60; 2 / (60 / 30.4375) = 60.875 / 60 = 1.0145833...
    assert r["active_days"] == 60
    assert r["meetings_held"] == 2
    assert r["meetings_per_month"] == pytest.approx(60.875 / 60, rel=1e-12)
    assert r["median_gap_days"] == 0.0
    assert r["gap_cv"] is None  # one gap only
    assert r["days_since_last_meeting"] == 20
    assert r["status"] == "on_track"


def test_ended_match_and_its_window(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m3")
    assert r["ended_on"] == day("2024-05-31")
    assert r["is_active"] is False
    # window [03-01, 05-31]: held 03-01, 03-15, 05-31 (02-28 and 06-05 are outside)
    assert r["meetings_held"] == 3
    assert r["meetings_cancelled"] == 1  # the undated cancelled meeting counts nowhere
    assert r["meetings_no_show"] == 1
    # active_days = 05-31 - 03-01 = 31 + 30 + 30 = 91
    assert r["active_days"] == 91
    # 3 / (91 / 30.4375) = 91.3125 / 91 = 1.00343406...
    assert r["meetings_per_month"] == pytest.approx(91.3125 / 91, rel=1e-12)
    assert r["first_meeting_on"] == day("2024-03-01")
    assert r["days_to_first_meeting"] == 0
    assert r["last_meeting_on"] == day("2024-05-31")
    assert r["days_since_last_meeting"] == 0  # end = ended_on, not D
    # gaps: 03-01 -> 03-15 = 14; 03-15 -> 05-31 = 16 + 30 + 31 = 77
    # median (14 + 77) / 2 = 45.5; population sd = |77 - 14| / 2 = 31.5; cv = 31.5 / 45.5
    assert r["median_gap_days"] == 45.5
    assert r["gap_cv"] == pytest.approx(31.5 / 45.5, rel=1e-12)
    assert r["gap_cv"] == pytest.approx(0.6923076923, rel=1e-9)
    # cancellation = 1 / (3 + 1 + 1) = 0.2; no_show = 1 / (3 + 1) = 0.25
    assert r["cancellation_rate"] == pytest.approx(0.2, rel=1e-15)
    assert r["no_show_rate"] == 0.25
    assert r["status"] == "ended"


def test_ending_after_d_has_not_happened(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m4")
    assert r["ended_on"] is None
    assert r["is_active"] is True
    # end = D: active_days = 06-30 - 04-01 = 30 + 31 + 29 = 90
    assert r["active_days"] == 90
    assert r["meetings_held"] == 2  # 07-02 is after D
    assert r["target_per_month"] == 1.0
    # 2 / (90 / 30.4375) = 60.875 / 90 = 0.67638...; attainment = that / 1
    assert r["meetings_per_month"] == pytest.approx(60.875 / 90, rel=1e-12)
    assert r["cadence_attainment"] == pytest.approx(60.875 / 90, rel=1e-12)
    # gap 04-10 -> 06-25 = 20 + 31 + 25 = 76
    assert r["median_gap_days"] == 76.0
    assert r["days_since_last_meeting"] == 5
    assert r["status"] == "on_track"


def test_short_match_has_no_per_month_figure(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m6")
    assert r["active_days"] == 10
    assert r["meetings_held"] == 1
    assert r["meetings_per_month"] is None  # active_days < 14
    assert r["cadence_attainment"] is None
    assert r["status"] == "on_track"


def test_cadence_attainment_is_capped_at_one(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m16")
    # 3 held in 29 days: 3 / (29 / 30.4375) = 3.1487 per month, target 2 -> least(1.57, 1) = 1
    assert r["meetings_per_month"] == pytest.approx(3 / (29 / 30.4375), rel=1e-12)
    assert r["cadence_attainment"] == 1.0
    # gaps 0 and 0: median 0, mean 0 -> no cv
    assert r["median_gap_days"] == 0.0
    assert r["gap_cv"] is None


@pytest.mark.parametrize(
    ("match_id", "status"),
    [
        ("m0", "not_started"),  # 29 days, nothing held
        ("m7", "too_early"),  # 10 days < 14, nothing held
        ("m8", "lapsed"),  # 06-30 - 02-01 = 29 + 31 + 30 + 31 + 29 = 150 > 60
        ("m9", "at_risk"),  # 06-30 - 05-25 = 36 > 30.4375 and <= 60
        ("m10", "lapsed"),  # 61 > 60 (and > 60.875): lapsed is checked first
        ("m11", "on_track"),  # 06-30 - 06-15 = 15 <= 2 * 30.4375 / 4 = 15.21875
        ("m11b", "at_risk"),  # 16 > 15.21875
        ("m12", "ended"),  # ended, though nothing was held in 5 days
        ("m13", "ended"),  # ended_on = D
        ("m14", "not_started"),  # active_days 14: not < 14
        ("m15", "too_early"),  # active_days 13
        ("m17", "at_risk"),  # 06-30 - 05-16 = 45 > 2 * 30.4375 / 1.5 = 40.583
    ],
)
def test_status_rules_in_order(wh: MartsHarness, match_id: str, status: str) -> None:
    assert wh.one("match_cadence", match_id=match_id)["status"] == status


def test_fourteen_day_edge_of_meetings_per_month(wh: MartsHarness) -> None:
    at_14 = wh.one("match_cadence", match_id="m14")
    at_13 = wh.one("match_cadence", match_id="m15")
    assert at_14["active_days"] == 14
    assert at_14["meetings_per_month"] == 0.0
    assert at_13["active_days"] == 13
    assert at_13["meetings_per_month"] is None


def test_ended_on_d_is_ended(wh: MartsHarness) -> None:
    r = wh.one("match_cadence", match_id="m13")
    assert r["ended_on"] == day(D)
    assert r["is_active"] is False
    assert r["active_days"] == 29


def test_at_risk_matches_holds_the_three_statuses(wh: MartsHarness) -> None:
    at_risk = {r["match_id"]: r for r in wh.rows("at_risk_matches")}
    expected = {
        r["match_id"]
        for r in wh.rows("match_cadence")
        if r["status"] in ("not_started", "lapsed", "at_risk")
    }
    assert set(at_risk) == expected == {"m0", "m8", "m9", "m10", "m11b", "m14", "m17"}
    # every match_cadence column, unchanged
    cadence = wh.one("match_cadence", match_id="m9")
    assert {k: v for k, v in at_risk["m9"].items() if k != "reason"} == cadence


@pytest.mark.parametrize(
    ("match_id", "reason"),
    [
        ("m0", "no meeting yet, 29 days after matching; target 2/month"),
        ("m8", "no meeting for 150 days; target 2/month"),
        # every round(30.4375 / 2) = round(15.22) = 15 days
        ("m9", "last meeting 36 days ago; expected every 15 days (target 2/month)"),
        ("m10", "no meeting for 61 days; target 1/month"),
        # round(30.4375 / 4) = round(7.61) = 8
        ("m11b", "last meeting 16 days ago; expected every 8 days (target 4/month)"),
        # round(30.4375 / 1.5) = round(20.29) = 20
        ("m17", "last meeting 45 days ago; expected every 20 days (target 1.5/month)"),
    ],
)
def test_at_risk_reason(wh: MartsHarness, match_id: str, reason: str) -> None:
    assert wh.one("at_risk_matches", match_id=match_id)["reason"] == reason
