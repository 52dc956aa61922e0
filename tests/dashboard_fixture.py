"""A small synthetic warehouse for the dashboard tests.

It stands in for the real marts (built elsewhere): every table the dashboards read, with the
column names of METRICS.md, filled with plausible rows generated in SQL from a seeded hash, so
the same call always gives the same data and `n_matches` can go up to 50,000 for size checks.

Traps for the dashboards: a cohort named like an HTML injection, a program name with `&` and
accents, participant names containing `</script>` and unicode, goal titles with markup, a tiny
cohort whose survey figures are suppressed, and quarantined raw text that must never be shown.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from tests import dbt_compiled

AS_OF = dt.date(2026, 3, 15)
BUILT_AT = dt.datetime(2026, 3, 15, 6, 30, tzinfo=dt.UTC)
MIN_GROUP_SIZE = 5
# core.run_info: the thresholds the pages must read (no page may hard-code them).
LAPSE_DAYS = 60
GRACE_DAYS = 14
FRESHNESS_DAYS = 7

INJECTION = "<img src=x onerror=alert(1)>"
SCRIPT_NAME = "</script><script>alert(2)</script> Mallory"
UNICODE_NAME = "Zoë Ångström-Nguyễn"
RAW_TEXT_MARKER = "RAW-TEXT-MUST-NOT-SHOW"
TINY_COHORT = "Tiny"
FINISHED_COHORT = "2025-Spring"  # every pair ended 120 days after matching, long before D

# (program, cohort, share of the matches, first match date); the tiny cohort has 3 matches.
COHORTS = [
    ("Engineering Mentoring", "2025-Autumn", 0.35, dt.date(2025, 9, 1)),
    ("Engineering Mentoring", "2026-Winter", 0.30, dt.date(2026, 1, 5)),
    ("Engineering Mentoring", INJECTION, 0.10, dt.date(2025, 11, 3)),
    ("Liderança & Growth", "Pilot – Zürich", 0.20, dt.date(2025, 10, 1)),
    ("Liderança & Growth", "2026-Spring", 0.05, dt.date(2026, 3, 3)),
    ("Engineering Mentoring", FINISHED_COHORT, 0.05, dt.date(2025, 3, 3)),
]
TINY = ("Liderança & Growth", TINY_COHORT, dt.date(2025, 12, 1))
WAVES = [
    ("checkin-2026-01", dt.date(2026, 1, 31)),
    ("checkin-2026-02", dt.date(2026, 2, 28)),
    ("pulse-2026-03", dt.date(2026, 3, 10)),
]
GOAL_TITLES = [
    "Lead a design review",
    "Build a network in the platform team",
    "Présenter à l’équipe — 3 démos",
    "<b>Ship</b> the </script> migration",
    "Prepare for promotion panel",
    "Mentor a new hire",
]
FIRST_NAMES = ["Ada", "Ben", "Chen", "Dana", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jonas"]
LAST_NAMES = ["Moreno", "Okafor", "Li", "Schmidt", "Adeyemi", "Haddad", "Rossi", "Tanaka", "Silva"]
SPECIAL_NAMES = [SCRIPT_NAME, UNICODE_NAME, INJECTION, "O'Brien & Daughters"]
TINY_WAVE = "exit-2026-03"
COMMENT_TEXTS = [
    "Sessions with {mentor} were very practical.",
    "{mentee_first} is making progress; notes go to {mentee_email} every week.",
    "More structure would help.\nA second line, kept as written.",
    f"Loved it {INJECTION} really",
    "Too few meetings this month.",
    "   ",
]
ITEMS = ["guidance", "networking", "skills", "feedback", "communication", "satisfaction"]


def create_fixture(
    con: duckdb.DuckDBPyConnection,
    *,
    n_matches: int = 240,
    extra_cohorts: int = 0,
    wave_months: int = 0,
) -> None:
    """Create and fill marts.*, restricted.participant_identity and ingest.* in `con`.

    For scale tests, `extra_cohorts` adds generated cohorts that take 60% of the matches, and
    `wave_months` replaces the three survey waves by three waves (checkin, intake, closing)
    in each of that many months up to the as-of date, as a long-running program has.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS scratch")
    con.execute("CREATE OR REPLACE TEMP MACRO u(s) AS (hash(s) % 1000003) / 1000003.0")
    _inputs(con, _cohorts(n_matches, extra_cohorts), _waves(wave_months))
    for step in (_match_cadence, _goals, _surveys, _program_health, _monthly_trends, _identity):
        step(con)
    _core(con)
    _restricted(con)
    _ingest(con)
    con.execute("DROP SCHEMA scratch CASCADE")
    con.execute("DROP MACRO u")


def fixture_database(path: Path, **scale: int) -> Path:
    """Write the fixture to a DuckDB file at `path` and return it (`scale`: see create_fixture)."""
    with duckdb.connect(str(path)) as con:
        create_fixture(con, **scale)
    return path


def _cohorts(n_matches: int, extra_cohorts: int) -> list[tuple[str, str, int, dt.date, int]]:
    """(program, cohort, matches, first match date, position) of every cohort."""
    base_share = 0.4 if extra_cohorts else 1.0
    rows = [
        (program, cohort, max(1, round(share * base_share * n_matches)), start)
        for program, cohort, share, start in COHORTS
    ]
    rows.append((*TINY[:2], 3, TINY[2]))
    programs = sorted({program for program, *_ in COHORTS})
    rows += [
        (
            programs[index % len(programs)],
            f"Cohort {index + 1:03d}",
            max(1, round(0.6 * n_matches / extra_cohorts)),
            AS_OF - dt.timedelta(days=30 + 15 * index),
        )
        for index in range(extra_cohorts)
    ]
    return [(*row, position) for position, row in enumerate(rows)]


def _waves(months: int) -> list[tuple[str, dt.date]]:
    if not months:
        return WAVES
    month_starts = [
        (AS_OF.replace(day=1) - dt.timedelta(days=31 * back)).replace(day=1)
        for back in range(months)
    ]
    return [
        (f"{instrument}-{start:%Y-%m}", min(AS_OF, start + dt.timedelta(days=day)))
        for start in month_starts
        for instrument, day in (("intake", 4), ("checkin", 14), ("closing", 24))
    ]


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    params = {"as_of": AS_OF, "k": MIN_GROUP_SIZE}
    con.execute(sql, {name: value for name, value in params.items() if f"${name}" in sql})


def _rollup(select: str, source: str, keys: str, where: str = "TRUE") -> str:
    """Group by (program, cohort, keys) and by (program, keys) with cohort '(all)'."""
    return f"""
        SELECT program, coalesce(cohort, '(all)') AS cohort, {select}
        FROM {source} WHERE {where}
        GROUP BY GROUPING SETS ((program, cohort, {keys}), (program, {keys}))"""


def _inputs(
    con: duckdb.DuckDBPyConnection,
    cohorts: list[tuple[str, str, int, dt.date, int]],
    waves: list[tuple[str, dt.date]],
) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("CREATE SCHEMA IF NOT EXISTS restricted")
    con.execute("CREATE SCHEMA IF NOT EXISTS ingest")
    con.execute(
        "CREATE TABLE scratch.cohorts (program VARCHAR, cohort VARCHAR, n INTEGER, start_on DATE, position INTEGER)"
    )
    con.executemany("INSERT INTO scratch.cohorts VALUES (?, ?, ?, ?, ?)", cohorts)
    con.execute("CREATE TABLE scratch.waves (survey_id VARCHAR, sent_on DATE)")
    con.executemany("INSERT INTO scratch.waves VALUES (?, ?)", waves)
    con.execute("CREATE TABLE scratch.titles (position INTEGER, title VARCHAR)")
    con.executemany("INSERT INTO scratch.titles VALUES (?, ?)", list(enumerate(GOAL_TITLES)))


def _match_cadence(con: duckdb.DuckDBPyConnection) -> None:
    # The first match of each cohort never meets, so every cohort has a pair to contact.
    _run(
        con,
        f"""
        CREATE TABLE scratch.base AS
        WITH drawn AS (
            SELECT c.program, c.cohort, r.i,
                printf('M%05d', CAST(row_number() OVER (ORDER BY c.position, r.i) AS INTEGER)) AS match_id
            FROM scratch.cohorts c, range(c.n) AS r(i)
        ),
        dated AS (
            SELECT *,
                CASE WHEN i = 0 THEN 0.0 ELSE u(match_id || 'engagement') END AS engagement,
                least(CAST($as_of AS DATE),
                    (SELECT start_on FROM scratch.cohorts c WHERE c.program = d.program AND c.cohort = d.cohort)
                    + CAST(CASE WHEN i = 0 THEN 0 ELSE floor(25 * u(match_id || 'start')) END AS INTEGER))
                    AS matched_on,
                CASE WHEN u(match_id || 'target') < 0.3 THEN 4.0 ELSE 2.0 END AS target_per_month
            FROM drawn d
        )
        SELECT *,
            CASE WHEN cohort = '{FINISHED_COHORT}' THEN matched_on + 120
                 WHEN i > 0 AND u(match_id || 'ended') < 0.08
                 AND matched_on + 45 <= CAST($as_of AS DATE) THEN matched_on + 45 END AS ended_on
        FROM dated
        """,
    )
    _run(
        con,
        """
        CREATE TABLE marts.match_cadence AS
        WITH spans AS (
            SELECT *, coalesce(ended_on, CAST($as_of AS DATE)) AS end_on,
                CAST(date_diff('day', matched_on, coalesce(ended_on, CAST($as_of AS DATE))) AS INTEGER)
                    AS active_days
            FROM scratch.base
        ),
        counts AS (
            SELECT *,
                CASE WHEN engagement < 0.12 THEN 0
                     ELSE CAST(floor(active_days / 30.4375 * target_per_month * (0.3 + engagement)) AS INTEGER)
                END AS meetings_held,
                CAST(floor(3 * u(match_id || 'cancel')) AS INTEGER) AS meetings_cancelled,
                CAST(floor(2 * u(match_id || 'noshow')) AS INTEGER) AS meetings_no_show
            FROM spans
        ),
        dates AS (
            SELECT *,
                CASE WHEN meetings_held > 0 THEN
                    least(active_days, CAST(floor(120 * pow(1 - engagement, 3)) AS INTEGER)) END AS days_since,
                CASE WHEN meetings_held > 0 THEN
                    CAST(floor(3 + 25 * u(match_id || 'first')) AS INTEGER) END AS first_after
            FROM counts
        ),
        folded AS (
            SELECT *,
                end_on - days_since AS last_meeting_on,
                matched_on + least(first_after, active_days - days_since) AS first_meeting_on,
                CASE WHEN active_days >= 14 THEN meetings_held / (active_days / 30.4375) END AS per_month
            FROM dates
        )
        SELECT match_id, program, cohort,
            'pk-' || match_id || '-mentor' AS mentor_key,
            'pk-' || match_id || '-mentee' AS mentee_key,
            matched_on, ended_on, ended_on IS NULL AS is_active, active_days, target_per_month,
            meetings_held, meetings_cancelled, meetings_no_show,
            per_month AS meetings_per_month,
            least(per_month / target_per_month, 1) AS cadence_attainment,
            first_meeting_on,
            date_diff('day', matched_on, first_meeting_on) AS days_to_first_meeting,
            last_meeting_on,
            days_since AS days_since_last_meeting,
            CASE WHEN meetings_held >= 2 THEN 30.4375 / target_per_month * (0.6 + engagement) END
                AS median_gap_days,
            CASE WHEN meetings_held >= 3 THEN 0.2 + 0.8 * u(match_id || 'cv') END AS gap_cv,
            meetings_cancelled / nullif(meetings_held + meetings_cancelled + meetings_no_show, 0)
                AS cancellation_rate,
            meetings_no_show / nullif(meetings_held + meetings_no_show, 0) AS no_show_rate,
            CASE WHEN ended_on IS NOT NULL THEN 'ended'
                 WHEN meetings_held = 0 AND active_days < 14 THEN 'too_early'
                 WHEN meetings_held = 0 THEN 'not_started'
                 WHEN days_since > 60 THEN 'lapsed'
                 WHEN days_since > 2 * 30.4375 / target_per_month THEN 'at_risk'
                 ELSE 'on_track' END AS status
        FROM folded
        ORDER BY match_id
        """,
    )
    _run(
        con,
        """
        CREATE TABLE marts.at_risk_matches AS
        SELECT *,
            CASE status
                WHEN 'not_started' THEN printf('no meeting since matching %d days ago', active_days)
                ELSE printf('no meeting for %d days; target %g/month', days_since_last_meeting, target_per_month)
            END AS reason
        FROM marts.match_cadence
        WHERE status IN ('not_started', 'lapsed', 'at_risk')
        """,
    )


def _goals(con: duckdb.DuckDBPyConnection) -> None:
    _run(
        con,
        f"""
        CREATE TABLE marts.goal_status AS
        WITH drawn AS (
            SELECT m.match_id, m.program, m.cohort, m.matched_on, j,
                m.match_id || '-G' || j AS goal_id
            FROM marts.match_cadence m,
                range(CAST(floor(4 * u(m.match_id || 'goals')) AS INTEGER)) AS g(j)
        ),
        set_goals AS (
            SELECT d.*, t.title,
                CASE WHEN j % 2 = 0 THEN 'short_term' ELSE 'long_term' END AS horizon,
                ['skill', 'network', 'career', 'wellbeing', 'other'][1 + CAST(floor(5 * u(goal_id || 'cat')) AS INTEGER)]
                    AS category,
                least(CAST($as_of AS DATE), matched_on + CAST(floor(35 * u(goal_id || 'set')) AS INTEGER)) AS set_on,
                u(goal_id || 'outcome') AS outcome
            FROM drawn d JOIN scratch.titles t
                ON t.position = CAST(floor({len(GOAL_TITLES)} * u(goal_id || 'title')) AS INTEGER)
        ),
        shaped AS (
            SELECT *,
                CASE WHEN u(goal_id || 'target') < 0.2 THEN NULL
                     ELSE set_on + CASE horizon WHEN 'short_term' THEN 60 ELSE 180 END END AS target_date,
                CASE WHEN u(goal_id || 'measure') < 0.35 THEN NULL ELSE 'Agreed with mentor' END AS measure,
                CASE WHEN outcome < 0.35 AND set_on + 20 <= CAST($as_of AS DATE) THEN 'achieved'
                     WHEN outcome < 0.45 THEN 'abandoned' ELSE 'open' END AS status
            FROM set_goals
        ),
        finished AS (
            SELECT *,
                CASE WHEN status = 'achieved' THEN least(CAST($as_of AS DATE),
                    set_on + 10 + CAST(floor(70 * u(goal_id || 'done')) AS INTEGER)) END AS achieved_on
            FROM shaped
        )
        SELECT goal_id, match_id, program, cohort, title, horizon, category, target_date, measure,
            measure IS NOT NULL AND trim(measure) <> '' AS has_measure, set_on, status,
            CASE WHEN status = 'achieved' THEN 100.0
                 WHEN u(goal_id || 'progress') < 0.5 THEN 0.0
                 ELSE floor(95 * u(goal_id || 'pct')) END AS progress_pct,
            achieved_on,
            date_diff('day', set_on, achieved_on) AS days_to_achieve,
            status = 'open' AND coalesce(target_date < CAST($as_of AS DATE), false) AS is_overdue,
            measure IS NOT NULL AND trim(measure) <> '' AND target_date IS NOT NULL AS is_smart
        FROM finished
        ORDER BY goal_id
        """,
    )
    # The goals' free text is restricted, as in the warehouse (sql/restricted/goal_texts.sql).
    con.execute(
        "CREATE TABLE restricted.goal_texts AS SELECT goal_id, title, measure FROM marts.goal_status"
    )
    con.execute("ALTER TABLE marts.goal_status DROP COLUMN title")
    con.execute("ALTER TABLE marts.goal_status DROP COLUMN measure")
    counts = """
        count(*) AS goals_set,
        count(*) FILTER (WHERE status = 'achieved') AS goals_achieved,
        count(*) FILTER (WHERE status = 'abandoned') AS goals_abandoned,
        count(*) FILTER (WHERE status = 'open') AS goals_open,
        count(*) FILTER (WHERE is_overdue) AS goals_overdue,
        count(*) FILTER (WHERE status = 'open' AND target_date IS NULL) AS goals_open_undated,
        median(days_to_achieve) FILTER (WHERE status = 'achieved') AS median_days_to_achieve,
        avg(CAST(is_smart AS DOUBLE)) AS smart_share"""
    by_horizon = _rollup(f"horizon, {counts}", "marts.goal_status", "horizon")
    all_horizons = _rollup(f"'(all)' AS horizon, {counts}", "marts.goal_status", "program")
    _run(
        con,
        f"""
        CREATE TABLE marts.goal_attainment AS
        WITH grouped AS (SELECT * FROM ({by_horizon}) UNION ALL BY NAME SELECT * FROM ({all_horizons})),
        rated AS (
            SELECT *, goals_achieved + goals_abandoned + goals_overdue AS resolved,
                goals_achieved / nullif(goals_achieved + goals_abandoned + goals_overdue, 0) AS p
            FROM grouped
        )
        SELECT program, cohort, horizon, goals_set, goals_achieved, goals_abandoned, goals_open,
            goals_overdue, p AS attainment_rate,
            (p + 1.96^2 / (2 * resolved)) / (1 + 1.96^2 / resolved)
                - 1.96 * sqrt(p * (1 - p) / resolved + 1.96^2 / (4 * resolved^2)) / (1 + 1.96^2 / resolved)
                AS attainment_ci_low,
            (p + 1.96^2 / (2 * resolved)) / (1 + 1.96^2 / resolved)
                + 1.96 * sqrt(p * (1 - p) / resolved + 1.96^2 / (4 * resolved^2)) / (1 + 1.96^2 / resolved)
                AS attainment_ci_high,
            median_days_to_achieve, smart_share, goals_open_undated
        FROM rated
        """,
    )


def _surveys(con: duckdb.DuckDBPyConnection) -> None:
    scores = ", ".join(
        f"CASE WHEN u(respondent_id || survey_id || '{item}-blank') < 0.05 THEN NULL "
        f"ELSE CAST(least(5, 1 + floor(5 * sqrt(u(respondent_id || survey_id || '{item}')))) AS INTEGER) "
        f"END AS {item}"
        for item in ITEMS
    )
    _run(
        con,
        """
        CREATE TABLE scratch.invitations AS
        SELECT m.program, m.cohort, m.match_id, w.survey_id, w.sent_on, r.role,
            m.match_id || '-' || r.role AS respondent_id
        FROM marts.match_cadence m, scratch.waves w, (VALUES ('mentor'), ('mentee')) AS r(role)
        WHERE m.matched_on < w.sent_on AND (m.ended_on IS NULL OR m.ended_on >= w.sent_on)
        """,
    )
    _run(
        con,
        f"""
        CREATE TABLE scratch.responses AS
        SELECT program, cohort, match_id, survey_id, role, respondent_id,
            least(CAST($as_of AS DATE), sent_on + CAST(floor(6 * u(respondent_id || survey_id || 'day')) AS INTEGER))
                AS submitted_on,
            {scores},
            CAST(least(10, floor(11 * sqrt(u(respondent_id || survey_id || 'nps')))) AS INTEGER) AS nps
        FROM scratch.invitations
        WHERE u(respondent_id || survey_id || 'responds') < 0.65
        """,
    )
    answers = f"(UNPIVOT scratch.responses ON {', '.join(ITEMS)} INTO NAME item VALUE value)"
    _run(
        con,
        f"""
        CREATE TABLE marts.feedback_scores AS
        WITH grouped AS (
            SELECT program, coalesce(cohort, '(all)') AS cohort, survey_id,
                coalesce(role, '(all)') AS role, item,
                count(*) AS n, count(DISTINCT respondent_id) AS n_respondents,
                avg(value) AS m, stddev_samp(value) AS s, avg(CAST(value >= 4 AS DOUBLE)) AS top2
            FROM {answers}
            GROUP BY GROUPING SETS ((program, cohort, survey_id, role, item), (program, survey_id, role, item),
                                    (program, cohort, survey_id, item), (program, survey_id, item))
        ),
        {_suppression("grouped", "survey_id, item")}
        SELECT program, cohort, survey_id, role, item, n, n_respondents,
            CASE WHEN NOT suppressed THEN m END AS mean,
            CASE WHEN NOT suppressed AND n >= 2 THEN m - 1.96 * s / sqrt(n) END AS ci_low,
            CASE WHEN NOT suppressed AND n >= 2 THEN m + 1.96 * s / sqrt(n) END AS ci_high,
            CASE WHEN NOT suppressed THEN top2 END AS top2_share,
            suppressed
        FROM suppressed
        """,
    )
    _run(
        con,
        f"""
        CREATE TABLE marts.nps AS
        WITH grouped AS (
            SELECT program, coalesce(cohort, '(all)') AS cohort, survey_id, coalesce(role, '(all)') AS role,
                count(*) AS n, count(DISTINCT respondent_id) AS n_respondents,
                count(*) FILTER (WHERE nps >= 9) AS p, count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS pa,
                count(*) FILTER (WHERE nps <= 6) AS d
            FROM scratch.responses WHERE nps IS NOT NULL
            GROUP BY GROUPING SETS ((program, cohort, survey_id, role), (program, survey_id, role),
                                    (program, cohort, survey_id), (program, survey_id))
        ),
        {_suppression("grouped", "survey_id")}
        SELECT program, cohort, survey_id, role, n, n_respondents,
            CASE WHEN NOT suppressed THEN p END AS promoters,
            CASE WHEN NOT suppressed THEN pa END AS passives,
            CASE WHEN NOT suppressed THEN d END AS detractors,
            CASE WHEN NOT suppressed THEN 100.0 * (p - d) / n END AS nps,
            CASE WHEN NOT suppressed THEN 100.0 * (p - d) / n
                - 196 * sqrt((p / n + d / n - (p / n - d / n)^2) / n) END AS nps_ci_low,
            CASE WHEN NOT suppressed THEN 100.0 * (p - d) / n
                + 196 * sqrt((p / n + d / n - (p / n - d / n)^2) / n) END AS nps_ci_high,
            suppressed
        FROM suppressed
        """,
    )
    _run(
        con,
        """
        CREATE TABLE marts.survey_response_rates AS
        SELECT program, coalesce(cohort, '(all)') AS cohort, survey_id, coalesce(role, '(all)') AS role,
            count(*) AS invitations, count(r.respondent_id) AS responses,
            count(r.respondent_id) / count(*) AS response_rate
        FROM scratch.invitations i
        LEFT JOIN scratch.responses r USING (program, cohort, match_id, survey_id, role, respondent_id)
        GROUP BY GROUPING SETS ((program, cohort, survey_id, role), (program, survey_id, role),
                                (program, cohort, survey_id), (program, survey_id))
        """,
    )


def _suppression(source: str, keys: str) -> str:
    """CTE `suppressed`: by size, then a role sibling of a suppressed role row (rule 1, once)."""
    return f"""
        suppressed AS (
            SELECT *, n_respondents < $k OR (role <> '(all)' AND bool_or(n_respondents < $k)
                OVER (PARTITION BY program, cohort, {keys}, role = '(all)')) AS suppressed
            FROM {source}
        )"""


def _program_health(con: duckdb.DuckDBPyConnection) -> None:
    cadence = _rollup(
        """count(*) FILTER (WHERE is_active) AS active_matches,
           count(*) FILTER (WHERE status = 'on_track')
               / nullif(count(*) FILTER (WHERE is_active AND status <> 'too_early'), 0) AS on_track_share,
           avg(CAST(has_early_goal AS DOUBLE)) FILTER (WHERE matched_on <= CAST($as_of AS DATE) - 30)
               AS goal_coverage""",
        """(SELECT m.*, EXISTS (SELECT 1 FROM marts.goal_status g WHERE g.match_id = m.match_id
                AND g.set_on <= m.matched_on + 30) AS has_early_goal FROM marts.match_cadence m)""",
        "program",
    )
    satisfaction = _rollup(
        """CASE WHEN count(DISTINCT respondent_id) >= $k THEN avg(satisfaction) END AS satisfaction_mean""",
        "scratch.responses",
        "program",
        "submitted_on > CAST($as_of AS DATE) - 90",
    )
    response = _rollup(
        "count(responded) / count(*) AS response_rate_90d",
        """(SELECT i.*, r.submitted_on AS responded FROM scratch.invitations i
            LEFT JOIN scratch.responses r USING (program, cohort, match_id, survey_id, role, respondent_id))""",
        "program",
        "sent_on > CAST($as_of AS DATE) - 90",
    )
    _run(
        con,
        f"""
        CREATE TABLE marts.program_health AS
        WITH parts AS (
            SELECT c.program, c.cohort, c.active_matches, c.on_track_share,
                g.attainment_rate AS goal_attainment_rate, c.goal_coverage,
                s.satisfaction_mean, r.response_rate_90d
            FROM ({cadence}) c
            LEFT JOIN marts.goal_attainment g
                ON g.program = c.program AND g.cohort = c.cohort AND g.horizon = '(all)'
            LEFT JOIN ({satisfaction}) s ON s.program = c.program AND s.cohort = c.cohort
            LEFT JOIN ({response}) r ON r.program = c.program AND r.cohort = c.cohort
        ),
        scored AS (
            SELECT *, 100 * (coalesce(0.35 * on_track_share, 0) + coalesce(0.25 * goal_attainment_rate, 0)
                    + coalesce(0.25 * (satisfaction_mean - 1) / 4, 0) + coalesce(0.15 * response_rate_90d, 0))
                / nullif(CASE WHEN on_track_share IS NULL THEN 0 ELSE 0.35 END
                    + CASE WHEN goal_attainment_rate IS NULL THEN 0 ELSE 0.25 END
                    + CASE WHEN satisfaction_mean IS NULL THEN 0 ELSE 0.25 END
                    + CASE WHEN response_rate_90d IS NULL THEN 0 ELSE 0.15 END, 0) AS health_score
            FROM parts
        )
        SELECT *, CASE WHEN health_score >= 75 THEN 'green' WHEN health_score >= 60 THEN 'amber'
                       WHEN health_score IS NOT NULL THEN 'red' END AS health_band
        FROM scored
        """,
    )


def _monthly_trends(con: duckdb.DuckDBPyConnection) -> None:
    _run(
        con,
        """
        CREATE TABLE scratch.months AS
        SELECT CAST(last_day(d) AS DATE) AS month_end
        FROM range(TIMESTAMP '2025-09-01', TIMESTAMP '2026-03-01', INTERVAL 1 MONTH) AS t(d)
        WHERE last_day(d) <= CAST($as_of AS DATE)
        """,
    )
    active = _rollup(
        """month_end,
           count(*) FILTER (WHERE live) AS active_matches,
           CAST(round(sum(target_per_month * (0.3 + engagement)) FILTER (WHERE live) * 0.8) AS INTEGER)
               AS meetings_held,
           avg(CAST(engagement > 0.35 AS DOUBLE)) FILTER (WHERE live) AS on_track_share""",
        """(SELECT b.*, month_end, matched_on <= month_end AND (ended_on IS NULL OR ended_on > month_end) AS live
            FROM scratch.base b, scratch.months)""",
        "month_end",
    )
    goals = _rollup(
        """month_end,
           count(*) FILTER (WHERE date_trunc('month', set_on) = date_trunc('month', month_end)) AS goals_set,
           count(*) FILTER (WHERE date_trunc('month', achieved_on) = date_trunc('month', month_end))
               AS goals_achieved""",
        "marts.goal_status, scratch.months",
        "month_end",
    )
    answers = _rollup(
        """month_end, count(*) AS responses,
           CASE WHEN count(*) >= $k THEN avg(satisfaction) END AS satisfaction_mean""",
        "scratch.responses, scratch.months",
        "month_end",
        "date_trunc('month', submitted_on) = date_trunc('month', month_end)",
    )
    _run(
        con,
        f"""
        CREATE TABLE marts.monthly_trends AS
        SELECT program, cohort, month_end, active_matches, meetings_held, on_track_share,
            coalesce(goals_set, 0) AS goals_set, coalesce(goals_achieved, 0) AS goals_achieved,
            coalesce(responses, 0) AS responses, satisfaction_mean
        FROM ({active}) LEFT JOIN ({goals}) USING (program, cohort, month_end)
        LEFT JOIN ({answers}) USING (program, cohort, month_end)
        ORDER BY program, cohort, month_end
        """,
    )


def _identity(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE scratch.specials (position INTEGER, full_name VARCHAR)")
    con.executemany("INSERT INTO scratch.specials VALUES (?, ?)", list(enumerate(SPECIAL_NAMES)))
    firsts = ", ".join(f"'{name}'" for name in FIRST_NAMES)
    lasts = ", ".join(f"'{name}'" for name in LAST_NAMES)
    # The first pairs (who never meet, so are on the at-risk list) get the tricky names.
    _run(
        con,
        f"""
        CREATE TABLE restricted.participant_identity AS
        WITH people AS (
            SELECT key AS participant_key, row_number() OVER (ORDER BY match_id, key) - 1 AS position
            FROM marts.match_cadence, unnest([mentor_key, mentee_key]) AS k(key)
        )
        SELECT participant_key, printf('U%06d', position) AS participant_id,
            coalesce(s.full_name, [{firsts}][1 + position % {len(FIRST_NAMES)}] || ' '
                || [{lasts}][1 + (position * 7) % {len(LAST_NAMES)}]) AS full_name,
            printf('person%06d@example.org', position) AS email
        FROM people LEFT JOIN scratch.specials s USING (position)
        """,
    )


def _core(con: duckdb.DuckDBPyConnection) -> None:
    """The core tables the pages read (run settings, record dates) and the by-month mart.

    marts.program_health_by_month is built by its real SQL file from these core rows: one held
    meeting row per meeting the cadence mart counts, goals, responses and invitations.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    con.execute(
        """CREATE TABLE core.run_info AS SELECT CAST(? AS DATE) AS as_of, 'UTC' AS timezone,
            ? AS min_group_size, ? AS lapse_days, ? AS first_meeting_grace_days,
            2.0 AS default_target_per_month, ? AS freshness_days, CAST(? AS TIMESTAMPTZ) AS built_at""",
        [AS_OF, MIN_GROUP_SIZE, LAPSE_DAYS, GRACE_DAYS, FRESHNESS_DAYS, BUILT_AT],
    )
    con.execute(
        """CREATE TABLE core.matches AS
           SELECT match_id, program, cohort, mentor_key, mentee_key, matched_on, ended_on
           FROM marts.match_cadence"""
    )
    con.execute(
        """CREATE TABLE core.participants AS
           SELECT key AS participant_key, CAST(NULL AS DATE) AS joined_on
           FROM marts.match_cadence, unnest([mentor_key, mentee_key]) AS k(key)"""
    )
    con.execute(
        """CREATE TABLE core.meetings AS
           SELECT match_id || '-mt' || i AS meeting_id, match_id, 'completed' AS status, day AS meeting_date,
               CAST(day AS TIMESTAMPTZ) + INTERVAL 18 HOUR AS last_event_at
           FROM (
               SELECT match_id, i, first_meeting_on + CAST(round(
                   (last_meeting_on - first_meeting_on) * i / greatest(meetings_held - 1, 1)) AS INTEGER) AS day
               FROM marts.match_cadence, range(meetings_held) AS r(i)
           )"""
    )
    con.execute(
        """CREATE TABLE core.goals AS
           SELECT goal_id, match_id,
               CAST(coalesce(achieved_on, set_on) AS TIMESTAMPTZ) + INTERVAL 12 HOUR AS last_event_at
           FROM marts.goal_status"""
    )
    con.execute(
        """CREATE TABLE core.survey_responses AS
           SELECT survey_id || '/' || respondent_id AS response_id, survey_id,
               respondent_id AS respondent_key, match_id, role, submitted_on, satisfaction
           FROM scratch.responses"""
    )
    con.execute(
        """CREATE TABLE core.invitations AS
           SELECT survey_id, respondent_id AS participant_key, match_id, role,
               CAST(sent_on AS TIMESTAMPTZ) + INTERVAL 9 HOUR AS sent_at, sent_on
           FROM scratch.invitations"""
    )
    variables = {
        "as_of": AS_OF, "min_group_size": MIN_GROUP_SIZE, "lapse_days": LAPSE_DAYS,
        "first_meeting_grace_days": GRACE_DAYS, "timezone": "UTC",
    }  # fmt: skip
    for name, value in variables.items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    # the known matches (from core), then health by month
    dbt_compiled.build(con, ["core.known_matches", "marts.program_health_by_month"])


def _restricted(con: duckdb.DuckDBPyConnection) -> None:
    """For the restricted pages: roster rows without an e-mail; staging.responses with comment
    texts (naming people, e-mails, markup); and a wave of the tiny cohort only (TINY_WAVE),
    whose groups have fewer than k respondents (only in core.survey_responses and staging)."""
    con.execute(
        "UPDATE restricted.participant_identity SET email = NULL "
        "WHERE u(participant_id || 'no e-mail') < 0.04"
    )
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    _run(
        con,
        f"""
        INSERT INTO core.survey_responses BY NAME
        SELECT '{TINY_WAVE}/' || match_id || '-' || role AS response_id, '{TINY_WAVE}' AS survey_id,
            match_id || '-' || role AS respondent_key, match_id, role,
            CAST($as_of AS DATE) - 1 AS submitted_on
        FROM marts.match_cadence, (VALUES ('mentor'), ('mentee')) AS r(role)
        WHERE cohort = '{TINY[1]}'
        """,
    )
    con.execute("CREATE TABLE scratch.comment_texts (position INTEGER, text VARCHAR)")
    con.executemany(
        "INSERT INTO scratch.comment_texts VALUES (?, ?)", list(enumerate(COMMENT_TEXTS))
    )
    # Texts name the pair's own people: {mentor} is the mentor's full name, {mentee_first} the
    # mentee's first word, {mentee_email} the mentee's address.
    con.execute(
        f"""
        CREATE TABLE staging.responses AS
        SELECT r.response_id, r.survey_id, r.respondent_key AS respondent_id, r.match_id, r.role,
            replace(replace(replace(t.text, '{{mentor}}', mentor.full_name),
                '{{mentee_first}}', split_part(mentee.full_name, ' ', 1)),
                '{{mentee_email}}', mentee.email) AS comment
        FROM core.survey_responses r
        JOIN marts.match_cadence m USING (match_id)
        JOIN restricted.participant_identity mentor ON mentor.participant_key = m.mentor_key
        JOIN restricted.participant_identity mentee ON mentee.participant_key = m.mentee_key
        LEFT JOIN scratch.comment_texts t
            ON t.position = CAST(floor({len(COMMENT_TEXTS)} * u(r.response_id || 'text')) AS INTEGER)
            AND (u(r.response_id || 'comments') < 0.4 OR r.survey_id = '{TINY_WAVE}')
        """
    )


def _ingest(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE TABLE ingest.files (path VARCHAR, source VARCHAR, sha256 VARCHAR, bytes BIGINT,
            rows_read BIGINT, rows_loaded BIGINT, rows_duplicate BIGINT, rows_quarantined BIGINT,
            status VARCHAR, ingested_at TIMESTAMPTZ, load_id VARCHAR, unknown_fields INTEGER,
            message VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE ingest.quarantine (source VARCHAR, path VARCHAR, line BIGINT, raw_text VARCHAR,
            reason VARCHAR, detail VARCHAR, quarantined_at TIMESTAMPTZ, load_id VARCHAR)"""
    )
    # (path, source, rows read, duplicates, status, ingested on, unknown fields, message)
    files = [
        ("roster/participants_2026-01-05.csv", "participants", 480, 0, "loaded", "2026-01-05", 0, None),
        ("roster/matches_2026-01-05.csv", "matches", 240, 0, "loaded", "2026-01-05", 0, None),
        ("roster/matches_2026-02-01.csv", "matches", 5, 0, "rejected", "2026-02-01", 0,
         "missing required column: cohort"),
        ("roster/matches_2026-03-01.csv", "matches", 12, 0, "loaded", "2026-03-01", 0, None),
        ("meetings/meetings_2026-03-13.jsonl", "meetings", 1830, 4, "loaded", "2026-03-13", 2, None),
        ("meetings/meetings_2026-03-13-copy.jsonl", "meetings", 1830, 0, "duplicate_file", "2026-03-13", 0,
         "same bytes as meetings/meetings_2026-03-13.jsonl"),
        ("goals/goals_2026-03-10.jsonl", "goals", 620, 0, "loaded", "2026-03-10", 0, None),
        (f"surveys/responses_{INJECTION}.csv", "responses", 900, 0, "loaded", "2026-03-12", 0, None),
        ("surveys/invitations_2026-02-20.csv", "invitations", 1400, 0, "loaded", "2026-02-20", 0, None),
    ]  # fmt: skip
    # (path, source, reason, how many)
    quarantined = [
        ("roster/matches_2026-02-01.csv", "matches", "schema:missing_column:cohort", 5),
        ("meetings/meetings_2026-03-13.jsonl", "meetings", "bad_type:duration_minutes", 2),
        ("meetings/meetings_2026-03-13.jsonl", "meetings", "conflicting_duplicate", 1),
        ("meetings/meetings_2026-03-13.jsonl", "meetings", "malformed", 2),
        ("goals/goals_2026-03-10.jsonl", "goals", "missing_field:event_id", 3),
        (f"surveys/responses_{INJECTION}.csv", "responses", "bad_value:nps", 4),
        (f"surveys/responses_{INJECTION}.csv", "responses", f"bad_value:{INJECTION}", 1),
    ]
    con.executemany(
        "INSERT INTO ingest.quarantine VALUES (?, ?, ?, ?, ?, ?, CAST(? AS DATE) + TIME '08:00', 'load-1')",
        [
            (source, path, 10 + line, f"{RAW_TEXT_MARKER} note: personal text", reason,
             f"detail {RAW_TEXT_MARKER}", next(f[5] for f in files if f[0] == path))
            for path, source, reason, how_many in quarantined
            for line in range(how_many)
        ],
    )  # fmt: skip
    con.executemany(
        """INSERT INTO ingest.files
           SELECT ?, ?, sha256(?), 1000 * ?, ?, 0, ?, 0, ?, CAST(? AS DATE) + TIME '07:15', 'load-1', ?, ?""",
        [
            (path, source, path, rows, rows, dups, status, day, unknown, message)
            for path, source, rows, dups, status, day, unknown, message in files
        ],
    )
    con.execute(
        """UPDATE ingest.files f SET
               rows_quarantined = (SELECT count(*) FROM ingest.quarantine q WHERE q.path = f.path),
               rows_loaded = CASE WHEN status = 'loaded' THEN rows_read - rows_duplicate
                   - (SELECT count(*) FROM ingest.quarantine q WHERE q.path = f.path) ELSE 0 END,
               rows_duplicate = CASE WHEN status = 'duplicate_file' THEN rows_read ELSE rows_duplicate END"""
    )
