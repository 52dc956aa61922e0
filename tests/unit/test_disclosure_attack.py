"""Play the attacker against every published survey-derived figure (issue 15).

A real warehouse (tests/unit/marts_harness.py) is built on adversarial survey data: a cohort of
one respondent, small cohorts whose union is under k, a single mentor in a pilot cohort, a
person answering for two matches. The attacker reads only what is published: every figure that
is not NULL and every count (n, n_respondents, n_pairs, satisfaction_respondents stay visible).
A figure times its count is a sum, and sums add up: for every rollup row and its children
(parent - sum of the visible children) and, across tables, for groups that hold the same
answers (program_health satisfaction = monthly_trends of D's month = program_health_by_month of
D's month = feedback_scores of the one wave in the window; the intake wave likewise is one
monthly_trends month and the program_health_by_month months whose 90 days hold it), it recovers
what it can, again and again. The same warehouse built with
k = 1 holds the truth: a recovered figure is a disclosure when it equals the truth (to within
rounding) and is about fewer than k respondents.

The attacker is shown to work: on the same data published with the size rule alone (what
program_health and monthly_trends did before issue 15, and feedback_scores for several small
cohorts) it recovers the lone cohort and the union of the small ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import defaultdict

import pytest

from tests.dbt_compiled import data_tests, run_test
from tests.unit.marts_harness import MartsHarness

K = 5
D = "2024-06-30"
JUNE = dt.date(2024, 6, 30)
# the month ends whose 90 days hold the intake answers of 2024-01-15
INTAKE_MONTHS = (dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31))
ALL = "(all)"
ROUNDING = 1e-9


@dataclasses.dataclass(frozen=True)
class Published:
    """How a table publishes survey figures: its grouping, its counts and its figures."""

    dimensions: tuple[str, ...]
    rollups: tuple[str, ...]  # the dimensions that have an (all) row
    n: str  # the count a figure is averaged over
    respondents: str
    figures: dict[str, str]  # column -> "mean" (sum = figure x n) or "count" (additive)
    where: str = "true"


TABLES = {
    "feedback_scores": Published(
        ("program", "cohort", "survey_id", "role", "item"),
        ("cohort", "role"),
        "n",
        "n_respondents",
        {"mean": "mean", "top2_share": "mean"},
    ),
    "nps": Published(
        ("program", "cohort", "survey_id", "role"),
        ("cohort", "role"),
        "n",
        "n_respondents",
        {"nps": "mean", "promoters": "count", "passives": "count", "detractors": "count"},
    ),
    "survey_change": Published(
        ("program", "cohort", "role", "item"),
        ("cohort", "role"),
        "n_pairs",
        "n_respondents",
        {
            "intake_mean": "mean",
            "closing_mean": "mean",
            "mean_change": "mean",
            "improved_share": "mean",
            "declined_share": "mean",
        },
    ),
    "program_health": Published(
        ("program", "cohort"),
        ("cohort",),
        "satisfaction_respondents",  # one satisfaction answer per respondent in this data
        "satisfaction_respondents",
        {"satisfaction_mean": "mean"},
    ),
    "monthly_trends": Published(
        ("program", "cohort", "month_end"),
        ("cohort",),
        "satisfaction_respondents",
        "satisfaction_respondents",
        {"satisfaction_mean": "mean"},
    ),
    "program_health_by_month": Published(
        ("program", "cohort", "month_end"),
        ("cohort",),
        "satisfaction_respondents",
        "satisfaction_respondents",
        {"satisfaction_mean": "mean"},
    ),
}

Node = tuple[str, str, tuple]  # (table, figure column, group key)


# --- the adversarial data ----------------------------------------------------------------
# (program, cohort) -> (mentors, mentees) answering; k = 5.
COHORTS = {
    ("P", "A"): (8, 10),
    ("P", "E"): (6, 7),
    ("P", "Pilot"): (1, 6),  # the only mentor of a pilot cohort
    ("P", "B"): (0, 1),  # a one-respondent cohort
    ("Q", "Q1"): (0, 2),  # Q1 and Q2: 4 together, under k
    ("Q", "Q2"): (0, 2),
    ("Q", "Q3"): (5, 9),
    ("Q", "Q4"): (5, 8),
}


def build(k: int) -> MartsHarness:
    rng = random.Random(15)
    wh = MartsHarness(as_of=D, min_group_size=k)
    for (program, cohort), (mentors, mentees) in COHORTS.items():
        for role, count in (("mentor", mentors), ("mentee", mentees)):
            for i in range(count):
                match = f"{program}-{cohort}-{role}-{i}"
                person = f"{match}-person"
                wh.add_match(match, "2024-01-01", program=program, cohort=cohort)
                # intake in January (outside the 90-day window), closing in June: the window
                # of program_health, the month of monthly_trends and the closing wave of
                # feedback_scores hold the same satisfaction answers.
                for survey, day in (("intake", "2024-01-15"), ("closing", "2024-06-15")):
                    answers = {item: rng.randint(1, 5) for item in ("satisfaction", "skills")}
                    wh.add_response(
                        match,
                        person,
                        role=role,
                        survey_id=survey,
                        instrument=survey,
                        submitted_on=day,
                        nps=rng.randint(0, 10),
                        **answers,
                    )
                # a person with two matches: more answers (n) than respondents
                if (program, cohort, role, i) == ("P", "A", "mentor", 0):
                    second = f"{match}-second"
                    wh.add_match(second, "2024-01-01", program=program, cohort=cohort)
                    wh.add_response(
                        second,
                        person,
                        role=role,
                        survey_id="intake",
                        instrument="intake",
                        submitted_on="2024-01-20",
                        skills=rng.randint(1, 5),
                        nps=5,
                    )
    return wh.run()


def published(wh: MartsHarness) -> dict[str, list[dict]]:
    return {table: wh.rows(table) for table in TABLES}


# --- the attacker ------------------------------------------------------------------------
@dataclasses.dataclass
class Recovery:
    nodes: tuple[Node, ...]  # one group, or the union of several
    respondents: int
    n: float
    total: float


def attack(tables: dict[str, list[dict]], same: list[list[Node]]) -> list[Recovery]:
    """Everything recoverable by subtraction and by the same group across tables (same)."""
    n_of: dict[Node, float] = {}
    respondents_of: dict[Node, int] = {}
    known: dict[Node, float] = {}  # node -> recovered or published sum
    families: list[tuple[Node, list[Node]]] = []
    for table, spec in TABLES.items():
        rows = {tuple(r[d] for d in spec.dimensions): r for r in tables[table]}
        for key, row in rows.items():
            for column, kind in spec.figures.items():
                node = (table, column, key)
                n_of[node] = row[spec.n]
                respondents_of[node] = row[spec.respondents]
                if row[spec.n] == 0:
                    known[node] = 0.0  # no answers: nothing to recover
                elif row[column] is not None:
                    known[node] = row[column] * (row[spec.n] if kind == "mean" else 1)
        for column in spec.figures:
            families += rollup_families(table, column, spec, list(rows))
    recoveries: list[Recovery] = []
    changed = True
    while changed:
        changed = False
        for nodes in same:  # one group published twice: one figure gives the other
            found = [known[node] for node in nodes if node in known]
            for node in nodes:
                if found and node not in known:
                    known[node] = found[0]
                    changed = True
        for parent, children in families:
            unknown = [child for child in children if child not in known]
            if parent in known and unknown:
                total = known[parent] - sum(known[c] for c in children if c in known)
                n = n_of[parent] - sum(n_of[c] for c in children if c in known)
                people = sum(respondents_of[c] for c in unknown)
                recovery = Recovery(tuple(unknown), people, n, total)
                if recovery not in recoveries:
                    recoveries.append(recovery)
                if len(unknown) == 1:
                    known[unknown[0]] = total
                    changed = True
            elif parent not in known and children and not unknown:
                known[parent] = sum(known[c] for c in children)
                changed = True
    return recoveries


def rollup_families(
    table: str, column: str, spec: Published, keys: list[tuple]
) -> list[tuple[Node, list[Node]]]:
    """(parent, children) for each rollup row: over one rollup dimension, and over all."""
    at = [spec.dimensions.index(d) for d in spec.rollups]
    splits = [[i] for i in at] + ([at] if len(at) > 1 else [])
    families = []
    for split in splits:
        for parent in keys:
            if any(parent[i] != ALL for i in split):
                continue
            children = [
                key
                for key in keys
                if all(key[i] != ALL for i in split)
                and all(key[j] == parent[j] for j in range(len(key)) if j not in split)
            ]
            families.append(((table, column, parent), [(table, column, c) for c in children]))
    return families


def same_groups(truth: dict[str, list[dict]]) -> list[list[Node]]:
    """Groups published by several tables over the same answers."""
    return satisfaction_groups(truth) + wave_groups(truth)


def satisfaction_groups(truth: dict[str, list[dict]]) -> list[list[Node]]:
    """Satisfaction of one (program, cohort) and wave: D's 90 days hold the closing wave, in
    D's month; the 90 days to the ends of January to March hold the intake wave, in January."""
    groups = []
    for row in truth["program_health"]:
        group = (row["program"], row["cohort"])
        groups.append(
            [
                ("program_health", "satisfaction_mean", group),
                ("monthly_trends", "satisfaction_mean", (*group, JUNE)),
                ("program_health_by_month", "satisfaction_mean", (*group, JUNE)),
                ("feedback_scores", "mean", (*group, "closing", ALL, "satisfaction")),
            ]
        )
        groups.append(
            [
                ("monthly_trends", "satisfaction_mean", (*group, INTAKE_MONTHS[0])),
                *(
                    ("program_health_by_month", "satisfaction_mean", (*group, month))
                    for month in INTAKE_MONTHS
                ),
                ("feedback_scores", "mean", (*group, "intake", ALL, "satisfaction")),
            ]
        )
    return groups


def wave_groups(truth: dict[str, list[dict]]) -> list[list[Node]]:
    """survey_change's intake and closing means, and the wave's feedback_scores mean, where the
    wave's answers are exactly the pairs' (the truth tells: same count, same sum)."""
    groups = []
    feedback = {
        (r["program"], r["cohort"], r["survey_id"], r["role"], r["item"]): r
        for r in truth["feedback_scores"]
    }
    for row in truth["survey_change"]:
        for column, wave in (("intake_mean", "intake"), ("closing_mean", "closing")):
            key = (row["program"], row["cohort"], wave, row["role"], row["item"])
            twin = feedback.get(key)
            if (
                twin is not None
                and twin["n"] == row["n_pairs"]
                and twin["mean"] == pytest.approx(row[column], abs=ROUNDING)
            ):
                node = (
                    "survey_change",
                    column,
                    tuple(row[d] for d in TABLES["survey_change"].dimensions),
                )
                groups.append([node, ("feedback_scores", "mean", key)])
    return groups


def truth_sum(truth: dict[str, list[dict]], node: Node) -> float:
    table, column, key = node
    spec = TABLES[table]
    for row in truth[table]:
        if tuple(row[d] for d in spec.dimensions) == key:
            value = row[column] or 0
            return value * (row[spec.n] if spec.figures[column] == "mean" else 1)
    raise KeyError(node)


def disclosures(
    tables: dict[str, list[dict]], truth: dict[str, list[dict]], k: int
) -> list[Recovery]:
    """Groups under k whose figure is published, or recovered and equal to the truth."""
    found = [
        Recovery(
            ((table, column, tuple(r[d] for d in spec.dimensions)),),
            r[spec.respondents],
            r[spec.n],
            r[column],
        )
        for table, spec in TABLES.items()
        for r in tables[table]
        for column in spec.figures
        if r[column] is not None and 0 < r[spec.respondents] < k
    ]
    for recovery in attack(tables, same_groups(truth)):
        expected = sum(truth_sum(truth, node) for node in recovery.nodes)
        # the attacker's arithmetic is right: what it recovers is the true sum
        assert recovery.total == pytest.approx(expected, abs=ROUNDING), recovery
        if 0 < recovery.respondents < k:
            found.append(recovery)
    return found


# --- the tests ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def warehouse() -> MartsHarness:
    return build(K)


@pytest.fixture(scope="module")
def truth() -> dict[str, list[dict]]:
    return published(build(1))


def test_the_groups_of_the_four_tables_are_the_same(truth) -> None:
    # the premise of the cross-table attack: one wave in each window, in one month
    by_table = {
        table: {
            node: (row[TABLES[table].respondents], row[column])
            for row in truth[table]
            for column in ("mean", "satisfaction_mean")
            if column in row
            for node in [(table, column, tuple(row[d] for d in TABLES[table].dimensions))]
        }
        for table in (
            "program_health",
            "monthly_trends",
            "program_health_by_month",
            "feedback_scores",
        )
    }
    for nodes in satisfaction_groups(truth):
        values = [by_table[node[0]][node] for node in nodes]
        assert values[0][0] > 0
        assert all(v[0] == values[0][0] for v in values), nodes
        assert all(v[1] == pytest.approx(values[0][1], abs=ROUNDING) for v in values), nodes


def test_nothing_under_k_is_recovered(warehouse, truth) -> None:
    tables = published(warehouse)
    assert disclosures(tables, truth, K) == []
    # the attack did run: it recovers unions of hidden cohorts, each of k or more people, and
    # uses the groups that tables share (most survey_change means are a wave's feedback mean)
    assert any(len(r.nodes) > 1 for r in attack(tables, same_groups(truth)))
    assert len(wave_groups(truth)) > len(truth["survey_change"])


def size_rule_only(truth: dict[str, list[dict]], k: int) -> dict[str, list[dict]]:
    """The truth published with the size rule alone (the code before issue 15)."""
    tables = {}
    for table, spec in TABLES.items():
        tables[table] = [
            {
                **row,
                **{c: None for c in spec.figures if row[spec.respondents] < k},
            }
            for row in truth[table]
        ]
    return tables


def test_the_attacker_breaks_the_size_rule_alone(truth) -> None:
    found = disclosures(size_rule_only(truth, K), truth, K)
    groups = {(node[0], node[2]) for r in found for node in r.nodes}
    # the one-respondent cohort B, from program_health (all) - the other cohorts
    assert ("program_health", ("P", "B")) in groups
    assert ("monthly_trends", ("P", "B", JUNE)) in groups
    assert ("program_health_by_month", ("P", "B", JUNE)) in groups
    assert ("program_health_by_month", ("P", "B", INTAKE_MONTHS[1])) in groups
    # the union of Q1 and Q2 (4 respondents), from feedback_scores and nps
    union = {
        ("feedback_scores", ("Q", "Q1", "closing", "mentee", "skills")),
        ("feedback_scores", ("Q", "Q2", "closing", "mentee", "skills")),
    }
    assert any({(n[0], n[2]) for n in r.nodes} == union for r in found)
    assert any(r.nodes[0][0] == "survey_change" for r in found)
    assert any(r.nodes[0][0] == "nps" for r in found)


def small_group_checks(wh: MartsHarness) -> dict[str, tuple[int, str | None]]:
    return {
        check.table: run_test(wh.con, check)
        for check in data_tests()
        if check.name == "small_groups_suppressed"
    }


def test_the_blocking_checks_pass(warehouse) -> None:
    results = small_group_checks(warehouse)
    assert set(results) == {f"marts.{table}" for table in TABLES}
    assert all(failures == 0 for failures, _ in results.values()), results


def test_the_blocking_checks_catch_the_size_rule_alone() -> None:
    wh = build(1)
    wh.con.execute(f"SET VARIABLE min_group_size = {K}")
    for table, spec in TABLES.items():
        blank = ", ".join(f"{c} = NULL" for c in spec.figures)
        flag = ", suppressed = true" if table in ("feedback_scores", "nps", "survey_change") else ""
        wh.con.execute(f"UPDATE marts.{table} SET {blank}{flag} WHERE {spec.respondents} < {K}")
    results = small_group_checks(wh)
    assert all(failures > 0 for failures, _ in results.values()), results


def test_counts_beside_suppressed_figures_are_the_true_counts(warehouse, truth) -> None:
    # the complementary rules protect; the counts stay as published (spec) and are exact
    tables = published(warehouse)
    counts = defaultdict(list)
    for table, spec in TABLES.items():
        for source in (tables, truth):
            counts[table].append(sorted((r[spec.n], r[spec.respondents]) for r in source[table]))
    assert all(a == b for a, b in counts.values())
