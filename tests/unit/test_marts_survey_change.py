"""marts.survey_change against changes worked out by hand.

D = 2024-06-30. A pair is a (respondent, match)'s first intake and last closing, the intake
strictly before the closing (instants); its program and cohort are the match's, its role the
closing's.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import t as student_t

from tests.unit.marts_harness import MartsHarness
from tests.unit.test_marts_surveys import clustered_interval

D = "2024-06-30"
INTAKE = {"instrument": "intake"}
CLOSING = {"instrument": "closing"}


# --- values (k = 1: nothing suppressed) -------------------------------------------------
@pytest.fixture(scope="module")
def values() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=1)
    wh.add_match("m1", "2024-01-01", cohort="C1")
    wh.add_match("m2", "2024-01-01", cohort="C1")
    wh.add_match("m3", "2024-01-01", cohort="C2")
    wh.add_match("mx", "2024-07-01", cohort="C1")  # unknown at D
    jan, jun = "2024-01-10", "2024-06-01"
    # a, mentee of m1: guidance 2 -> 5 (+3), satisfaction 3 -> 3 (0)
    for survey, day, guidance, kind in [("in-1", jan, 2, INTAKE), ("out-1", jun, 5, CLOSING)]:
        wh.add_response(
            "m1",
            "a",
            survey_id=survey,
            submitted_on=day,
            guidance=guidance,
            satisfaction=3,
            **kind,
        )
    # b, mentor of m1: guidance 4 -> 3 (-1); satisfaction blank at closing: no satisfaction pair
    wh.add_response(
        "m1",
        "b",
        role="mentor",
        submitted_on=jan,
        guidance=4,
        satisfaction=4,
        survey_id="in-1",
        **INTAKE,
    )
    wh.add_response(
        "m1", "b", role="mentor", submitted_on=jun, guidance=3, survey_id="out-1", **CLOSING
    )
    # c, mentee of m2: two intakes (the first counts: 1) and two closings (the last: 4): +3
    wh.add_response("m2", "c", submitted_on="2024-01-05", guidance=1, survey_id="in-1", **INTAKE)
    wh.add_response("m2", "c", submitted_on="2024-01-20", guidance=5, survey_id="in-2", **INTAKE)
    wh.add_response("m2", "c", submitted_on="2024-05-01", guidance=2, survey_id="out-1", **CLOSING)
    wh.add_response("m2", "c", submitted_on="2024-06-10", guidance=4, survey_id="out-2", **CLOSING)
    # d, mentee of m2, ties on submitted_at: smallest intake id (2), greatest closing id (5): +3
    for rid, survey, guidance, kind in [
        ("r-d-a", "in-1", 2, INTAKE),
        ("r-d-b", "in-2", 4, INTAKE),
        ("r-d-c", "out-1", 3, CLOSING),
        ("r-d-d", "out-2", 5, CLOSING),
    ]:
        day = jan if kind is INTAKE else jun
        wh.add_response(
            "m2",
            "d",
            response_id=rid,
            survey_id=survey,
            submitted_on=day,
            guidance=guidance,
            **kind,
        )
    # a again, mentee of m3 (C2): 5 -> 4 (-1); a second pair of the same person
    wh.add_response("m3", "a", submitted_on="2024-02-01", guidance=5, survey_id="in-1", **INTAKE)
    wh.add_response("m3", "a", submitted_on=jun, guidance=4, survey_id="out-1", **CLOSING)
    # g: intake as mentor, closing as mentee -> role mentee; 3 -> 3 (0)
    wh.add_response(
        "m3",
        "g",
        role="mentor",
        submitted_on="2024-02-01",
        guidance=3,
        survey_id="in-1",
        **INTAKE,
    )
    wh.add_response("m3", "g", submitted_on=jun, guidance=3, survey_id="out-1", **CLOSING)
    # h: intake 20:00 UTC on 06-01 (its own zone's date is 06-02), closing 21:00 UTC on 06-01:
    # instants decide, so it pairs: 1 -> 2 (+1)
    wh.add_response(
        "m3",
        "h",
        submitted_at="2024-06-02T01:00:00+05:00",
        guidance=1,
        survey_id="in-1",
        **INTAKE,
    )
    wh.add_response(
        "m3",
        "h",
        submitted_at="2024-06-01T21:00:00+00:00",
        guidance=2,
        survey_id="out-1",
        **CLOSING,
    )
    # e: closing before its intake; f: both at the same instant; neither pairs
    wh.add_response("m3", "e", submitted_on=jun, guidance=1, survey_id="in-1", **INTAKE)
    wh.add_response("m3", "e", submitted_on=jan, guidance=5, survey_id="out-1", **CLOSING)
    wh.add_response("m3", "f", submitted_on=jun, guidance=1, survey_id="in-1", **INTAKE)
    wh.add_response("m3", "f", submitted_on=jun, guidance=5, survey_id="out-1", **CLOSING)
    # checkin responses never pair; an unknown match counts nowhere
    wh.add_response("m3", "e", submitted_on="2024-06-20", guidance=5, survey_id="chk")
    wh.add_response("mx", "z", submitted_on=jan, guidance=1, survey_id="in-1", **INTAKE)
    wh.add_response("mx", "z", submitted_on=jun, guidance=5, survey_id="out-1", **CLOSING)
    return wh.run()


def change(wh: MartsHarness, cohort: str, role: str, item: str = "guidance") -> dict:
    return wh.one("survey_change", program="P", cohort=cohort, role=role, item=item)


def test_rows(values: MartsHarness) -> None:
    keys = {(r["cohort"], r["role"], r["item"]) for r in values.rows("survey_change")}
    guidance = {
        (c, r, "guidance")
        for c, r in [
            ("C1", "mentee"),
            ("C1", "mentor"),
            ("C1", "(all)"),
            ("C2", "mentee"),
            ("C2", "(all)"),
            ("(all)", "mentee"),
            ("(all)", "mentor"),
            ("(all)", "(all)"),
        ]
    }
    # satisfaction: only a's pair on m1 counts (b's closing left it blank)
    satisfaction = {
        (c, r, "satisfaction")
        for c, r in [("C1", "mentee"), ("C1", "(all)"), ("(all)", "mentee"), ("(all)", "(all)")]
    }
    assert keys == guidance | satisfaction


def test_a_cohort_of_equal_changes(values: MartsHarness) -> None:
    r = change(values, "C1", "mentee")  # a 2->5, c 1->4, d 2->5
    assert (r["n_pairs"], r["n_respondents"]) == (3, 3)
    assert r["intake_mean"] == pytest.approx(5 / 3, rel=1e-15)
    assert r["closing_mean"] == pytest.approx(14 / 3, rel=1e-15)
    assert r["mean_change"] == 3.0
    assert (r["ci_low"], r["ci_high"]) == (3.0, 3.0)  # every change is 3: s = 0
    assert (r["improved_share"], r["declined_share"]) == (1.0, 0.0)
    assert r["suppressed"] is False


def test_a_single_pair_has_no_interval(values: MartsHarness) -> None:
    r = change(values, "C1", "mentor")  # b 4->3
    assert (r["n_pairs"], r["n_respondents"], r["mean_change"]) == (1, 1, -1.0)
    assert (r["intake_mean"], r["closing_mean"]) == (4.0, 3.0)
    assert (r["ci_low"], r["ci_high"]) == (None, None)
    assert (r["improved_share"], r["declined_share"]) == (0.0, 1.0)


def test_cohort_rollup(values: MartsHarness) -> None:
    r = change(values, "C1", "(all)")  # changes 3, -1, 3, 3
    assert (r["n_pairs"], r["n_respondents"]) == (4, 4)
    assert (r["intake_mean"], r["closing_mean"], r["mean_change"]) == (2.25, 4.25, 2.0)
    # one pair per respondent: the ordinary t interval. deviations 1, -3, 1, 1: squares 12,
    # / 3 = 4, s = 2; half width t(0.975; 3) * 2 / sqrt(4)
    half = student_t.ppf(0.975, 3)
    assert r["ci_low"] == pytest.approx(2 - half, rel=1e-12)
    assert r["ci_high"] == pytest.approx(2 + half, rel=1e-12)
    assert (r["improved_share"], r["declined_share"]) == (0.75, 0.25)


def test_role_is_the_closing_role_and_instants_decide(values: MartsHarness) -> None:
    r = change(values, "C2", "mentee")  # a 5->4, g 3->3 (closing as mentee), h 1->2
    assert (r["n_pairs"], r["n_respondents"]) == (3, 3)
    assert (r["intake_mean"], r["closing_mean"], r["mean_change"]) == (3.0, 3.0, 0.0)
    # changes -1, 0, 1: s = 1; half width t(0.975; 2) / sqrt(3)
    assert r["ci_high"] == pytest.approx(student_t.ppf(0.975, 2) / math.sqrt(3), rel=1e-12)
    assert r["ci_low"] == pytest.approx(-student_t.ppf(0.975, 2) / math.sqrt(3), rel=1e-12)
    assert r["improved_share"] == pytest.approx(1 / 3, rel=1e-15)
    assert r["declined_share"] == pytest.approx(1 / 3, rel=1e-15)
    # e (closing before intake) and f (same instant) made no pair: no C2 mentor row either
    assert values.rows("survey_change", cohort="C2", role="mentor") == []


def test_program_rollup_counts_a_person_once(values: MartsHarness) -> None:
    r = change(values, "(all)", "mentee")  # a twice (m1, m3), c, d, g, h
    assert (r["n_pairs"], r["n_respondents"]) == (6, 5)
    # changes 3, 3, 3, -1, 0, 1: sum 9; squares 29; intake 2+1+2+5+3+1; closing 5+4+5+4+3+2
    assert r["mean_change"] == 1.5
    assert r["intake_mean"] == pytest.approx(14 / 6, rel=1e-15)
    assert r["closing_mean"] == pytest.approx(23 / 6, rel=1e-15)
    # clustered by respondent: u_a = (3 - 1.5) + (-1 - 1.5) = -1, c 1.5, d 1.5, g -1.5,
    # h -0.5: sum u^2 = 8, G = 5; se = sqrt(5/4 * 8) / 6, half width t(0.975; 4) * se
    half = student_t.ppf(0.975, 4) * math.sqrt(10) / 6
    assert r["ci_high"] - r["mean_change"] == pytest.approx(half, rel=1e-12)
    library = clustered_interval([3, -1, 3, 3, 0, 1], ["a", "a", "c", "d", "g", "h"])
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(library, rel=1e-12)
    assert (r["improved_share"], r["declined_share"]) == (
        pytest.approx(4 / 6),
        pytest.approx(1 / 6),
    )
    everyone = change(values, "(all)", "(all)")
    assert (everyone["n_pairs"], everyone["n_respondents"]) == (7, 6)
    assert everyone["mean_change"] == pytest.approx(8 / 7, rel=1e-15)


def test_satisfaction_needs_both_answers(values: MartsHarness) -> None:
    r = change(values, "(all)", "(all)", "satisfaction")  # a on m1 only: 3 -> 3
    assert (r["n_pairs"], r["n_respondents"], r["mean_change"]) == (1, 1, 0.0)


def test_every_column_has_a_comment(values: MartsHarness) -> None:
    missing = values.con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND table_name = 'survey_change' AND (comment IS NULL OR comment = '')"
    ).fetchall()
    assert missing == []
    assert len(values.column_types("survey_change")) == 14


# --- suppression (k = 3) -----------------------------------------------------------------
@pytest.fixture(scope="module")
def suppression() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=3)
    for cohort in ("C1", "C2", "C3", "C4"):
        wh.add_match(f"m-{cohort}", "2024-01-01", cohort=cohort)

    def pairs(cohort: str, role: str, size: int, item: str) -> None:
        for i in range(size):
            person = f"{item}-{cohort}-{role}-{i}"
            for kind, day, answer in [(INTAKE, "2024-01-10", 2), (CLOSING, "2024-06-01", 4)]:
                wh.add_response(
                    f"m-{cohort}",
                    person,
                    role=role,
                    submitted_on=day,
                    survey_id=kind["instrument"],
                    **{item: answer},
                    **kind,
                )

    # guidance: a lone mentor in C1 -> rule (1) within (program, cohort, item) and rule (2)
    # within (program, role, item)
    for cohort, role, size in [
        ("C1", "mentor", 1),
        ("C1", "mentee", 4),
        ("C2", "mentor", 4),
        ("C2", "mentee", 4),
        ("C3", "mentor", 5),
        ("C3", "mentee", 5),
    ]:
        pairs(cohort, role, size, "guidance")
    # networking: two one-person cohorts whose union (2 < 3) the (all) row would give away
    for cohort, size in [("C1", 1), ("C2", 1), ("C3", 4), ("C4", 5)]:
        pairs(cohort, "mentee", size, "networking")
    return wh.run()


def suppressed_cells(wh: MartsHarness, item: str) -> set[tuple[str, str]]:
    return {
        (r["cohort"], r["role"]) for r in wh.rows("survey_change", item=item) if r["suppressed"]
    }


def test_rules_one_and_two_on_the_pairs(suppression: MartsHarness) -> None:
    # size: C1 mentor (1). Rule 1: C1 mentee. Rule 2, mentors: C1 alone -> C2 (4 < 5);
    # mentees: C1 alone -> C2 (4 < 5). Role (all): C1 5, C2 8, C3 10: nothing.
    assert suppressed_cells(suppression, "guidance") == {
        ("C1", "mentor"),
        ("C1", "mentee"),
        ("C2", "mentor"),
        ("C2", "mentee"),
    }
    r = change(suppression, "C2", "mentee")
    assert (r["n_pairs"], r["n_respondents"]) == (4, 4)
    for column in (
        "intake_mean",
        "closing_mean",
        "mean_change",
        "ci_low",
        "ci_high",
        "improved_share",
        "declined_share",
    ):
        assert r[column] is None, column
    assert change(suppression, "(all)", "mentor")["mean_change"] == 2.0


def test_small_cohorts_together_under_k(suppression: MartsHarness) -> None:
    # size: C1 and C2 (1 each, 2 together < 3) -> C3 (4 < 5) too; then 6 >= 3: stop.
    expected = {(c, r) for c in ("C1", "C2", "C3") for r in ("mentee", "(all)")}
    assert suppressed_cells(suppression, "networking") == expected
    assert change(suppression, "C4", "mentee", "networking")["mean_change"] == 2.0
