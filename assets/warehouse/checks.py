"""Data-quality checks as data: each is a query returning (failures, sample).

Blocking checks guard numbers that would be wrong if published; the others report.
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.ingest.contract import SOURCES, sources_staging_into


@dataclass(frozen=True)
class DataCheck:
    table: str  # the asset it checks, "schema.table"
    name: str
    description: str
    sql: str  # one row: failures BIGINT, sample VARCHAR
    blocking: bool


def _unique(table: str, key: str) -> DataCheck:
    return DataCheck(
        table,
        "unique_key",
        f"{key} identifies one row of {table}.",
        f"""SELECT count(*), string_agg(k, ', ') FROM (
                SELECT CAST(({key}) AS VARCHAR) AS k FROM {table} GROUP BY ALL HAVING count(*) > 1
                LIMIT 1000)""",
        blocking=True,
    )


def _known_match_references(table: str) -> DataCheck:
    return DataCheck(
        table,
        "references_known_matches",
        f"Rows of {table} whose match_id is not in the roster (kept, left out of the marts "
        "until the match appears).",
        f"""SELECT count(*), string_agg(DISTINCT match_id, ', ') FROM (
                SELECT match_id FROM {table}
                WHERE match_id NOT IN (SELECT match_id FROM core.matches))""",
        blocking=False,
    )


def _reconciliation(table: str) -> DataCheck:
    # Every source staging into the table (its own files and tools' exports), load by load.
    sources = ", ".join(f"'{s.name}'" for s in sources_staging_into(table))
    return DataCheck(
        f"staging.{table}",
        "nothing_lost",
        "Per file: rows_read = loaded + duplicate + quarantined, and staging and quarantine "
        "hold exactly the rows ingest.files counts.",
        f"""WITH staged AS (
                SELECT _load_id AS load_id, count(*) AS n FROM staging.{table} GROUP BY ALL),
            quarantined AS (
                SELECT load_id, count(*) AS n FROM ingest.quarantine
                WHERE source IN ({sources}) AND reason NOT LIKE 'file:%' GROUP BY ALL)
            SELECT count(*), string_agg(f.path, ', ') FROM ingest.files AS f
            LEFT JOIN staged AS s USING (load_id) LEFT JOIN quarantined AS q USING (load_id)
            WHERE f.source IN ({sources}) AND f.status <> 'duplicate_file' AND (
                f.rows_read <> f.rows_loaded + f.rows_duplicate + f.rows_quarantined
                OR coalesce(s.n, 0) <> f.rows_loaded OR coalesce(q.n, 0) <> f.rows_quarantined)""",
        blocking=True,
    )


def _small_groups_suppressed(
    table: str,
    value: str,
    *,
    respondents: str = "n_respondents",
    dimensions: tuple[str, ...],
    has_suppressed_column: bool = True,
) -> DataCheck:
    """The published result of the disclosure-control rule (sql/shared/disclosure_control.sql)
    at its fixed point: `value` is the figure a reader sees, NULL when hidden; `dimensions`
    the table's grouping columns, `cohort` and (if any) `role` among them."""
    others = [d for d in dimensions if d not in ("cohort", "role")]
    has_role = "role" in dimensions
    cohort_siblings = ", ".join([*others, *(["role"] if has_role else [])])
    return DataCheck(
        table,
        "small_groups_suppressed",
        f"No figure of {table} about fewer than k respondents is shown in the clear, directly "
        "or by subtraction: no shown group under k, no shown mentor/mentee sibling of a hidden "
        "one, no cohorts whose hidden members are one or under k together beside a shown one.",
        _SMALL_GROUPS_IN_CLEAR.format(
            table=table,
            value=value,
            respondents=respondents,
            label=" || '/' || ".join(f"CAST({d} AS VARCHAR)" for d in dimensions),
            role="role" if has_role else "NULL::VARCHAR",
            role_siblings=", ".join([*others, "cohort"]),
            cohort_siblings=cohort_siblings,
            # a `suppressed` flag, where the table has one, must say what the reader sees
            suppressed_flag=f"suppressed <> ({value} IS NULL)"
            if has_suppressed_column
            else "false",
        ),
        blocking=True,
    )


_SMALL_GROUPS_IN_CLEAR = """
    WITH cells AS (
        SELECT *, {label} AS label, {role} AS cell_role, {value} IS NULL AS hidden,
            {respondents} AS cell_respondents,
            ({role_siblings}) AS role_siblings, ({cohort_siblings}) AS cohort_siblings
        FROM {table} WHERE {respondents} > 0),
    cohort_families AS (
        SELECT count(*) FILTER (WHERE hidden) AS hidden_count,
            sum(cell_respondents) FILTER (WHERE hidden) AS hidden_respondents,
            string_agg(label, ', ') FILTER (WHERE NOT hidden) AS shown
        FROM cells WHERE cohort <> '(all)' GROUP BY cohort_siblings),
    failures AS (
        SELECT label FROM cells
        WHERE (cell_respondents < getvariable('min_group_size') AND NOT hidden)
           OR {suppressed_flag}
        UNION ALL
        SELECT c.label FROM cells AS c JOIN cells AS s
            ON s.role_siblings = c.role_siblings AND s.cell_role <> c.cell_role
        WHERE c.cell_role IN ('mentor', 'mentee') AND s.cell_role IN ('mentor', 'mentee')
            AND NOT c.hidden AND s.hidden
        UNION ALL
        SELECT shown FROM cohort_families
        WHERE shown IS NOT NULL AND (hidden_count = 1
            OR hidden_count > 1 AND hidden_respondents < getvariable('min_group_size')))
    SELECT count(*), string_agg(label, '; ') FROM failures"""

_HELD_IN_WINDOW = """
    WITH known AS (
        SELECT match_id, matched_on,
            CASE WHEN ended_on <= getvariable('as_of') THEN ended_on
                 ELSE getvariable('as_of') END AS window_end
        FROM core.matches WHERE matched_on <= getvariable('as_of')),
    held AS (
        SELECT m.match_id, count(*) AS n FROM core.meetings AS m JOIN known AS k USING (match_id)
        WHERE m.status = 'completed' AND m.meeting_date BETWEEN k.matched_on AND k.window_end
        GROUP BY ALL)
    SELECT count(*), string_agg(c.match_id, ', ')
    FROM marts.match_cadence AS c LEFT JOIN held AS h USING (match_id)
    WHERE c.meetings_held <> coalesce(h.n, 0)
       OR (SELECT count(*) FROM known) <> (SELECT count(*) FROM marts.match_cadence)"""

_OUTSIDE_WINDOW = """
    SELECT count(*), string_agg(m.meeting_id, ', ')
    FROM core.meetings AS m JOIN core.matches AS k USING (match_id)
    WHERE k.matched_on <= getvariable('as_of') AND m.status = 'completed'
      AND (m.meeting_date < k.matched_on
           OR m.meeting_date > least(coalesce(k.ended_on, getvariable('as_of')), getvariable('as_of')))"""

_INCIDENCE_IS_A_CURVE = """
    WITH curve AS (
        SELECT *, lag(early_closure) OVER (PARTITION BY program, cohort ORDER BY day) AS earlier
        FROM marts.match_retention)
    SELECT count(*), string_agg(program || '/' || cohort || '/' || day, ', ') FROM curve
    WHERE early_closure < 0 OR early_closure > 1 OR early_closure < earlier
       OR early_closure_ci_low > early_closure OR early_closure_ci_high < early_closure
       OR early_closure_ci_low < 0 OR early_closure_ci_high > 1
       OR survival IS DISTINCT FROM 1 - early_closure"""

CHECKS: list[DataCheck] = [
    *(_reconciliation(table) for table in SOURCES),
    _unique("core.matches", "match_id"),
    _unique("core.participants", "participant_key"),
    _unique("core.meetings", "meeting_id"),
    _unique("core.goals", "goal_id"),
    _unique("core.survey_responses", "survey_id, respondent_key, match_id"),
    _unique("core.invitations", "survey_id, participant_key, match_id"),
    *(
        _known_match_references(table)
        for table in ("core.meetings", "core.goals", "core.survey_responses", "core.invitations")
    ),
    DataCheck(
        "core.meetings",
        "held_meetings_in_window",
        "Held meetings dated outside their match's window [matched_on, end]; they count nowhere.",
        _OUTSIDE_WINDOW,
        blocking=False,
    ),
    DataCheck(
        "marts.match_cadence",
        "held_meetings_add_up",
        "One row per known match, and meetings_held equals the held meetings in core "
        "within each match's window.",
        _HELD_IN_WINDOW,
        blocking=True,
    ),
    _unique("marts.match_cadence", "match_id"),
    _unique("marts.goal_status", "goal_id"),
    _small_groups_suppressed(
        "marts.feedback_scores",
        "mean",
        dimensions=("program", "cohort", "survey_id", "role", "item"),
    ),
    _small_groups_suppressed(
        "marts.nps", "nps", dimensions=("program", "cohort", "survey_id", "role")
    ),
    _small_groups_suppressed(
        "marts.survey_change", "mean_change", dimensions=("program", "cohort", "role", "item")
    ),
    _small_groups_suppressed(
        "marts.program_health",
        "satisfaction_mean",
        respondents="satisfaction_respondents",
        dimensions=("program", "cohort"),
        has_suppressed_column=False,
    ),
    _small_groups_suppressed(
        "marts.monthly_trends",
        "satisfaction_mean",
        respondents="satisfaction_respondents",
        dimensions=("program", "cohort", "month_end"),
        has_suppressed_column=False,
    ),
    _small_groups_suppressed(
        "marts.program_health_by_month",
        "satisfaction_mean",
        respondents="satisfaction_respondents",
        dimensions=("program", "cohort", "month_end"),
        has_suppressed_column=False,
    ),
    DataCheck(
        "marts.program_health",
        "health_score_in_range",
        "health_score lies in [0, 100] and its band matches it.",
        """SELECT count(*), string_agg(program || '/' || cohort, ', ') FROM marts.program_health
           WHERE health_score < 0 OR health_score > 100
              OR (health_score IS NULL) <> (health_band IS NULL)""",
        blocking=True,
    ),
    # Outcomes: a cumulative incidence outside [0, 1] or falling with time would mislead.
    DataCheck(
        "marts.match_retention",
        "early_closure_is_a_curve",
        "early_closure lies in [0, 1], never falls from one day to a later one within a "
        "(program, cohort), its interval lies in [0, 1] and holds it, and survival is its "
        "complement.",
        _INCIDENCE_IS_A_CURVE,
        blocking=True,
    ),
    _unique("marts.match_retention", "program, cohort, day"),
    _unique("marts.match_closures", "program, cohort"),
    _unique("marts.match_design", "program, attribute, level"),
    _unique("marts.survey_reliability", "program, survey_id, role"),
    DataCheck(
        "marts.match_closures",
        "closures_add_up",
        "ended = completed + closed_early, and the early closures by reason add up to "
        "closed_early.",
        """SELECT count(*), string_agg(program || '/' || cohort, ', ') FROM marts.match_closures
           WHERE ended <> completed + closed_early
              OR closed_early <> mentor_withdrew + mentee_withdrew + no_engagement + rematched
                                 + other + unknown_reason""",
        blocking=True,
    ),
]


def run_check(con, check: DataCheck) -> tuple[int, str | None]:
    failures, sample = con.execute(check.sql).fetchall()[0]
    return int(failures), (sample[:500] if sample else None)
