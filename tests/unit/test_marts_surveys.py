"""marts.feedback_scores, marts.nps and marts.survey_response_rates, hand-computed.

D = 2024-06-30. core.survey_responses already holds the kept response per (survey, respondent,
match); core.invitations one invitation per (survey, participant, match).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import t as student_t

from tests.unit.marts_harness import MartsHarness

D = "2024-06-30"


# --- values (k = 1: nothing suppressed) -------------------------------------------------
@pytest.fixture(scope="module")
def values() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=1)
    wh.add_match("v1", "2024-01-01", cohort="C1")
    wh.add_match("v2", "2024-01-01", cohort="C1")
    wh.add_match("v3", "2024-01-01", cohort="C2")
    wh.add_match("vx", "2024-07-01", cohort="C1")  # unknown
    s = {"survey_id": "w"}
    wh.add_response("v1", "a1", role="mentee", guidance=5, satisfaction=5, nps=10, **s)
    wh.add_response("v1", "a2", role="mentee", guidance=4, satisfaction=4, nps=10, **s)
    wh.add_response("v2", "a3", role="mentee", guidance=2, nps=7, **s)
    # one mentor answering for two matches: 2 answers, 1 respondent
    wh.add_response("v1", "b1", role="mentor", guidance=3, **s)
    wh.add_response("v2", "b1", role="mentor", guidance=5, **s)
    wh.add_response("v3", "c1", role="mentee", guidance=1, nps=0, **s)
    wh.add_response("vx", "x1", role="mentee", guidance=1, satisfaction=1, nps=0, **s)
    return wh.run()


def clustered_interval(answers: list[float], respondents: list[str]) -> tuple[float, float]:
    """The library's interval of a mean of answers clustered by respondent: the intercept of
    OLS(x, 1) with a cluster-robust covariance and t (METRICS.md, shared rules)."""
    x = np.asarray(answers, dtype=float)
    groups = np.unique(respondents, return_inverse=True)[1]
    fit = sm.OLS(x, np.ones_like(x)).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    low, high = fit.conf_int(alpha=0.05)[0]
    return float(low), float(high)


def fb(wh: MartsHarness, cohort: str, role: str, item: str = "guidance", survey: str = "w"):
    return wh.one(
        "feedback_scores", program="P", cohort=cohort, survey_id=survey, role=role, item=item
    )


def test_feedback_rows_exist_only_for_answered_items(values: MartsHarness) -> None:
    items = {r["item"] for r in values.rows("feedback_scores")}
    assert items == {"guidance", "satisfaction"}
    # guidance: C1 x {mentee, mentor, (all)}, C2 x {mentee, (all)}, (all) x {3 roles}
    assert len(values.rows("feedback_scores", item="guidance")) == 8


def test_feedback_group_values(values: MartsHarness) -> None:
    r = fb(values, "C1", "mentee")  # 5, 4, 2
    assert (r["n"], r["n_respondents"]) == (3, 3)
    assert r["mean"] == pytest.approx(11 / 3, rel=1e-15)
    # one answer per respondent: the ordinary t interval. sample variance ((4/3)^2 + (1/3)^2
    # + (5/3)^2) / 2 = 7/3; half width t(0.975; 2) * sqrt(7/3) / sqrt(3) = 4.302653 * 0.881917
    half = student_t.ppf(0.975, 2) * math.sqrt(7 / 3) / math.sqrt(3)
    assert half == pytest.approx(3.794583, abs=1e-6)
    assert r["ci_low"] == pytest.approx(11 / 3 - half, rel=1e-12)
    assert r["ci_high"] == pytest.approx(11 / 3 + half, rel=1e-12)
    library = clustered_interval([5, 4, 2], ["a1", "a2", "a3"])
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(library, rel=1e-12)
    assert r["top2_share"] == pytest.approx(2 / 3, rel=1e-15)
    assert r["suppressed"] is False


def test_feedback_same_respondent_twice(values: MartsHarness) -> None:
    r = fb(values, "C1", "mentor")  # 3 and 5 from b1
    assert (r["n"], r["n_respondents"]) == (2, 1)
    assert r["mean"] == 4.0
    # one respondent (G = 1): two answers of one person say nothing of the spread between
    # people, so no interval
    assert (r["ci_low"], r["ci_high"]) == (None, None)
    assert r["top2_share"] == 0.5


def test_feedback_ci_null_below_two_answers(values: MartsHarness) -> None:
    r = fb(values, "C2", "mentee")  # a single 1
    assert (r["n"], r["mean"], r["top2_share"]) == (1, 1.0, 0.0)
    assert r["ci_low"] is None
    assert r["ci_high"] is None


def test_feedback_rollups_come_from_the_answers(values: MartsHarness) -> None:
    cohort_all = fb(values, "C1", "(all)")  # 5, 4, 2, 3, 5
    assert (cohort_all["n"], cohort_all["n_respondents"]) == (5, 4)
    assert cohort_all["mean"] == pytest.approx(3.8, rel=1e-15)
    # clustered: u = 1.2 (a1), .2 (a2), -1.8 (a3), -.8 + 1.2 = .4 (b1, two answers);
    # sum u^2 = 4.88, G = 4: se = sqrt(4/3 * 4.88) / 5, half = t(0.975; 3) * se
    half = student_t.ppf(0.975, 3) * math.sqrt(4 / 3 * 4.88) / 5
    assert cohort_all["ci_high"] - cohort_all["mean"] == pytest.approx(half, rel=1e-12)
    library = clustered_interval([5, 4, 2, 3, 5], ["a1", "a2", "a3", "b1", "b1"])
    assert (cohort_all["ci_low"], cohort_all["ci_high"]) == pytest.approx(library, rel=1e-12)
    assert cohort_all["top2_share"] == pytest.approx(0.6, rel=1e-15)

    mentees = fb(values, "(all)", "mentee")  # 5, 4, 2, 1: mean 3, not (11/3 + 1) / 2
    assert (mentees["n"], mentees["n_respondents"], mentees["mean"]) == (4, 4, 3.0)
    assert mentees["top2_share"] == 0.5
    everyone = fb(values, "(all)", "(all)")  # 5, 4, 2, 3, 5, 1
    assert (everyone["n"], everyone["n_respondents"]) == (6, 5)
    assert everyone["mean"] == pytest.approx(20 / 6, rel=1e-15)
    # the unknown match's answers count nowhere
    assert fb(values, "C1", "mentee", "satisfaction")["mean"] == 4.5


def nps_row(wh: MartsHarness, cohort: str, role: str, survey: str = "w") -> dict:
    return wh.one("nps", program="P", cohort=cohort, survey_id=survey, role=role)


def test_nps_values(values: MartsHarness) -> None:
    r = nps_row(values, "C1", "mentee")  # 10, 10, 7
    assert (r["n"], r["promoters"], r["passives"], r["detractors"]) == (3, 2, 1, 0)
    assert r["nps"] == pytest.approx(200 / 3, rel=1e-15)
    # scores 100, 100, 0, one each: se = 100 * sqrt(1/3) / sqrt(3) = 100/3; half width
    # t(0.975; 2) * 100/3 = 143.42; the interval is clipped to the score's range
    half = student_t.ppf(0.975, 2) * 100 / 3
    assert r["nps_ci_low"] == pytest.approx(200 / 3 - half, rel=1e-12)
    assert r["nps_ci_high"] == 100.0  # 200/3 + 143.42, clipped
    library = clustered_interval([100, 100, 0], ["a1", "a2", "a3"])
    assert r["nps_ci_low"] == pytest.approx(library[0], rel=1e-12)
    assert library[1] > 100

    single = nps_row(values, "C2", "mentee")  # one 0: all detractors, one respondent
    assert single["nps"] == -100.0
    assert (single["nps_ci_low"], single["nps_ci_high"]) == (None, None)

    rollup = nps_row(values, "(all)", "mentee")  # 10, 10, 7, 0
    assert (rollup["n"], rollup["promoters"], rollup["passives"], rollup["detractors"]) == (
        4,
        2,
        1,
        1,
    )
    assert rollup["nps"] == 25.0  # 100 * (2 - 1) / 4
    # the unclipped interval reaches beyond both ends: [-100, 100], never +103
    low, high = clustered_interval([100, 100, 0, -100], ["a1", "a2", "a3", "c1"])
    assert low < -100 and high > 100
    assert (rollup["nps_ci_low"], rollup["nps_ci_high"]) == (-100.0, 100.0)
    # mentors gave no nps answer: no mentor rows
    assert values.rows("nps", role="mentor") == []
    assert len(values.rows("nps")) == 6  # C1, C2, (all) x {mentee, (all)}


# --- suppression (k = 3) -----------------------------------------------------------------
def add_group(
    wh: MartsHarness, survey: str, cohort: str, role: str, size: int, **answers: int
) -> None:
    for i in range(size):
        wh.add_response(
            f"m-{cohort}",
            f"{survey}-{cohort}-{role}-{i}",
            survey_id=survey,
            role=role,
            **answers,
        )


@pytest.fixture(scope="module")
def suppression() -> MartsHarness:
    wh = MartsHarness(as_of=D, min_group_size=3)
    for cohort in ("C1", "C2", "C3"):
        wh.add_match(f"m-{cohort}", "2024-01-01", cohort=cohort)
    # s1, the cascade: respondents per (cohort, role)
    for cohort, role, size in [
        ("C1", "mentor", 2),
        ("C1", "mentee", 5),
        ("C2", "mentor", 3),
        ("C2", "mentee", 6),
        ("C3", "mentor", 4),
        ("C3", "mentee", 4),
    ]:
        add_group(wh, "s1", cohort, role, size, guidance=4)
    # s2, a tie: mentees only
    for cohort, size in [("C1", 2), ("C2", 4), ("C3", 4)]:
        add_group(wh, "s2", cohort, "mentee", size, guidance=5)
    # s3, the cohort (all) rows follow rule (1) too: a single cohort
    add_group(wh, "s3", "C1", "mentor", 1, guidance=3)
    add_group(wh, "s3", "C1", "mentee", 5, guidance=3)
    # s4, nps decided alone: the mentor answers satisfaction only
    add_group(wh, "s4", "C1", "mentor", 1, satisfaction=2)
    add_group(wh, "s4", "C1", "mentee", 4, satisfaction=4, nps=9)
    # s5, nps size suppression then rule (2)
    add_group(wh, "s5", "C1", "mentee", 2, nps=10)
    add_group(wh, "s5", "C2", "mentee", 4, nps=9)
    # s6, several small cohorts under k together: C1 and C2 (1 + 1 < 3), C3 of 4
    for cohort, size in [("C1", 1), ("C2", 1), ("C3", 4)]:
        add_group(wh, "s6", cohort, "mentee", size, guidance=2, nps=3)
    # s7, the small ones reach k together (1 + 2 = 3): nothing more
    for cohort, size in [("C1", 1), ("C2", 2), ("C3", 4)]:
        add_group(wh, "s7", cohort, "mentee", size, guidance=2, nps=3)
    return wh.run()


def suppressed_cells(wh: MartsHarness, table: str, survey: str, item: str | None = None) -> set:
    where = {"survey_id": survey} | ({"item": item} if item else {})
    return {(r["cohort"], r["role"]) for r in wh.rows(table, **where) if r["suppressed"]}


def test_cascade_needs_a_second_pass(suppression: MartsHarness) -> None:
    # size: C1 mentor (2 < 3).
    # pass 1, rule 1: C1 mentee (its role sibling).
    # pass 1, rule 2: mentors: C1 suppressed alone -> smallest other: C2 (3 < 4);
    #                 mentees: C1 suppressed alone -> smallest other: C3 (4 < 6).
    # pass 2, rule 1: C2 mentee (sibling of C2 mentor), C3 mentor (sibling of C3 mentee).
    # pass 2, rule 2: every real cohort suppressed: nothing. Pass 3: nothing changes.
    real = {(c, r) for c in ("C1", "C2", "C3") for r in ("mentor", "mentee")}
    assert suppressed_cells(suppression, "feedback_scores", "s1", "guidance") == real
    # role (all) rows (7, 9, 8 respondents) and cohort (all) rows stay
    for row in suppression.rows("feedback_scores", survey_id="s1", item="guidance"):
        if row["role"] == "(all)" or row["cohort"] == "(all)":
            assert row["suppressed"] is False, row
            assert row["mean"] == 4.0


def test_suppressed_values_are_null_but_counts_stay(suppression: MartsHarness) -> None:
    r = fb(suppression, "C2", "mentee", survey="s1")  # suppressed in pass 2
    assert r["suppressed"] is True
    assert (r["n"], r["n_respondents"]) == (6, 6)
    assert (r["mean"], r["ci_low"], r["ci_high"], r["top2_share"]) == (None, None, None, None)


def test_rule_two_tie_takes_the_smallest_cohort_name(suppression: MartsHarness) -> None:
    # size: C1 mentee (2) and C1 (all) (2). Rule 1: no mentor rows exist, nothing.
    # Rule 2 mentees: C1 alone -> C2 and C3 tie at 4 -> C2. Same for role (all): C2 (all).
    assert suppressed_cells(suppression, "feedback_scores", "s2", "guidance") == {
        ("C1", "mentee"),
        ("C1", "(all)"),
        ("C2", "mentee"),
        ("C2", "(all)"),
    }


def test_rule_one_applies_to_cohort_all(suppression: MartsHarness) -> None:
    # size: C1 mentor (1) and (all) mentor (1); rule 1: both mentee rows.
    # rule 2: mentors have one real cohort only (no other exists), nothing.
    assert suppressed_cells(suppression, "feedback_scores", "s3", "guidance") == {
        ("C1", "mentor"),
        ("C1", "mentee"),
        ("(all)", "mentor"),
        ("(all)", "mentee"),
    }


def test_nps_suppression_is_decided_on_nps_rows_alone(suppression: MartsHarness) -> None:
    # feedback: the lone mentor suppresses the mentee satisfaction rows by rule 1 ...
    assert ("C1", "mentee") in suppressed_cells(
        suppression, "feedback_scores", "s4", "satisfaction"
    )
    # ... but no mentor nps row exists, so the 4 mentees' nps stands.
    assert suppressed_cells(suppression, "nps", "s4") == set()
    r = nps_row(suppression, "C1", "mentee", survey="s4")
    assert (r["n"], r["promoters"], r["nps"]) == (4, 4, 100.0)


def test_nps_suppression_nulls(suppression: MartsHarness) -> None:
    # size: C1 mentee and C1 (all) (2 < 3); rule 2: C2 mentee and C2 (all).
    assert suppressed_cells(suppression, "nps", "s5") == {
        ("C1", "mentee"),
        ("C1", "(all)"),
        ("C2", "mentee"),
        ("C2", "(all)"),
    }
    r = nps_row(suppression, "C2", "mentee", survey="s5")
    assert (r["n"], r["n_respondents"]) == (4, 4)
    for column in ("nps", "nps_ci_low", "nps_ci_high", "promoters", "passives", "detractors"):
        assert r[column] is None, column
    rollup = nps_row(suppression, "(all)", "mentee", survey="s5")  # 2 x 10, 4 x 9
    assert (rollup["suppressed"], rollup["nps"], rollup["promoters"]) == (False, 100.0, 6)


@pytest.mark.parametrize("table", ["feedback_scores", "nps"])
def test_rule_two_small_cohorts_together(suppression: MartsHarness, table: str) -> None:
    item = {"item": "guidance"} if table == "feedback_scores" else {}
    # size: C1 and C2 (1 each), mentee and (all) rows. Rule 2: two suppressed cohorts with
    # 2 < 3 respondents together: (all) - C3 would give their union away, so C3 goes too.
    # Rule 1: no mentor rows. Then every real cohort is suppressed: stable.
    real = {(c, r) for c in ("C1", "C2", "C3") for r in ("mentee", "(all)")}
    assert suppressed_cells(suppression, table, "s6", **item) == real
    # 1 + 2 = 3 respondents together is k: the union may be shown by subtraction, C3 stays
    small = {(c, r) for c in ("C1", "C2") for r in ("mentee", "(all)")}
    assert suppressed_cells(suppression, table, "s7", **item) == small
    everyone = suppression.one(
        table, program="P", cohort="(all)", survey_id="s6", role="(all)", **item
    )
    assert (everyone["suppressed"], everyone["n_respondents"]) == (False, 6)


# --- response rates ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rates() -> MartsHarness:
    wh = MartsHarness(as_of=D)
    wh.add_match("m1", "2024-01-01", cohort="C1")
    wh.add_match("m2", "2024-01-01", cohort="C2")
    wh.add_match("mx", "2024-08-01", cohort="C1")  # unknown
    wh.add_invitation("m1", "a", role="mentee", sent_on="2024-05-01")
    # the same invitation twice (core dedups; the mart still counts it once)
    wh.add_invitation("m1", "a", role="mentee", sent_on="2024-05-03")
    wh.add_invitation("m1", "b", role="mentor")
    wh.add_invitation("m2", "c", role="mentee")
    wh.add_invitation("m2", "d", role="mentor")
    wh.add_invitation("m2", "a", role="mentee")  # a second match of person a: distinct
    wh.add_invitation("mx", "z", role="mentee")
    wh.add_response("m1", "a", role="mentee")  # answers invitation (s1, a, m1)
    wh.add_response("m2", "c", role="mentee", survey_id="s2")  # another survey: no
    wh.add_response("m2", "d", role="mentee")  # same survey/person/match: role is not matched
    wh.add_response("m2", "b", role="mentor")  # b was invited for m1, not m2: no
    wh.add_response("m1", "e", role="mentee")  # never invited: counts nowhere
    wh.add_response("mx", "z", role="mentee")  # unknown match
    return wh.run()


@pytest.mark.parametrize(
    ("cohort", "role", "invitations", "responses"),
    [
        ("C1", "mentee", 1, 1),  # (a, m1)
        ("C1", "mentor", 1, 0),  # (b, m1)
        ("C1", "(all)", 2, 1),
        ("C2", "mentee", 2, 0),  # (c, m2), (a, m2)
        ("C2", "mentor", 1, 1),  # (d, m2)
        ("C2", "(all)", 3, 1),
        ("(all)", "mentee", 3, 1),
        ("(all)", "mentor", 2, 1),
        ("(all)", "(all)", 5, 2),
    ],
)
def test_response_rates(
    rates: MartsHarness, cohort: str, role: str, invitations: int, responses: int
) -> None:
    r = rates.one("survey_response_rates", program="P", cohort=cohort, survey_id="s1", role=role)
    assert (r["invitations"], r["responses"]) == (invitations, responses)
    assert r["response_rate"] == pytest.approx(responses / invitations, rel=1e-15)


def test_response_rate_rows(rates: MartsHarness) -> None:
    rows = rates.rows("survey_response_rates")
    assert len(rows) == 9
    assert {r["survey_id"] for r in rows} == {"s1"}  # a response alone makes no row


def test_intervals_equal_the_cluster_robust_ols_on_random_answers() -> None:
    """feedback_scores and nps against statsmodels OLS(x, 1) with cluster-robust errors by
    respondent and t with G - 1 degrees of freedom, on mentors answering for several matches."""
    rng = np.random.default_rng(20)
    wh = MartsHarness(as_of=D, min_group_size=1)
    answers: list[tuple[str, int, int]] = []
    for i in range(40):
        match = f"m{i}"
        wh.add_match(match, "2024-01-01")
        mentor = f"mentor{i % 7}"  # seven mentors, up to six matches each
        guidance, nps = int(rng.integers(1, 6)), int(rng.integers(0, 11))
        wh.add_response(match, mentor, role="mentor", survey_id="r", guidance=guidance, nps=nps)
        answers.append((mentor, guidance, nps))
    wh.run()
    who = [a[0] for a in answers]
    row = wh.one("feedback_scores", cohort="C1", survey_id="r", role="mentor", item="guidance")
    assert (row["n"], row["n_respondents"]) == (40, 7)
    library = clustered_interval([a[1] for a in answers], who)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(library, rel=1e-12, abs=1e-12)
    scores = [100 if a[2] >= 9 else -100 if a[2] <= 6 else 0 for a in answers]
    low, high = clustered_interval(scores, who)
    row = wh.one("nps", cohort="C1", survey_id="r", role="mentor")
    assert (row["nps_ci_low"], row["nps_ci_high"]) == pytest.approx(
        (max(low, -100), min(high, 100)), rel=1e-12, abs=1e-9
    )
