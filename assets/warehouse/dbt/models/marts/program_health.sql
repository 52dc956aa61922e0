-- One row per (program, cohort) with a known match, plus (program, '(all)'): four health
-- components and their weighted score. Every component of an '(all)' row is computed from the
-- records of the whole program, never averaged from the cohort rows. Satisfaction goes through
-- the shared disclosure-control rule first (macros/disclosure_control.sql: size, then the
-- complementary rule over a program's cohorts), and the score uses it as published.
WITH disclosure_input AS (
    WITH recent_satisfaction AS (
        -- Kept responses submitted in (D - 90, D] that answer `satisfaction`; the k threshold
        -- counts distinct respondents among those answers. Only groups with answers are cells.
        SELECT
            mc.program,
            {{ rollup_label('mc.cohort') }} AS cohort,
            avg(r.satisfaction) AS satisfaction_mean,
            count(DISTINCT r.respondent_key) AS satisfaction_respondents
        FROM {{ ref('survey_responses') }} AS r
        JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
        WHERE r.satisfaction IS NOT NULL
            AND r.submitted_on > getvariable('as_of') - 90
            AND r.submitted_on <= getvariable('as_of')
        GROUP BY GROUPING SETS ((mc.program, mc.cohort), (mc.program))
    )

    SELECT
        *,
        -- no role split: rule (1) has nothing to do; rule (2) runs over the program's cohorts
        NULL::VARCHAR AS role,
        NULL::VARCHAR AS role_siblings,
        {'program': program} AS cohort_siblings,
        satisfaction_respondents AS respondents,
        NULL::BOOLEAN AS suppressed
    FROM recent_satisfaction
),

disclosure_cells AS ({{ disclosure_control('disclosure_input') }}),

run AS (
    SELECT getvariable('as_of') AS as_of
),

cadence AS (
    -- The grouping sets over known matches also define the rows of this table.
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        count(*) FILTER (WHERE is_active) AS active_matches,
        count(*) FILTER (WHERE status = 'on_track')
        / nullif(count(*) FILTER (WHERE is_active AND status <> 'too_early'), 0)
            AS on_track_share
    FROM {{ ref('match_cadence') }}
    GROUP BY GROUPING SETS ((program, cohort), (program))
),

matches_with_early_goal AS (
    -- Matches old enough to be judged (matched_on <= D - 30): did they set a goal within 30
    -- days of matching? A goal set before matched_on counts too.
    SELECT
        mc.program,
        mc.cohort,
        EXISTS (
            SELECT 1
            FROM {{ ref('goal_status') }} AS g
            WHERE g.match_id = mc.match_id
                AND g.set_on <= mc.matched_on + 30
        ) AS has_early_goal
    FROM {{ ref('match_cadence') }} AS mc
    CROSS JOIN run
    WHERE mc.matched_on <= run.as_of - 30
),

coverage AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        count(*) FILTER (WHERE has_early_goal) / count(*) AS goal_coverage
    FROM matches_with_early_goal
    GROUP BY GROUPING SETS ((program, cohort), (program))
),

answered_invitations AS ({{ answered_invitations() }})
,

engagement AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        count(*) FILTER (WHERE responded) / count(*) AS response_rate_90d
    FROM answered_invitations
    CROSS JOIN run
    WHERE sent_on > run.as_of - 90 AND sent_on <= run.as_of
    GROUP BY GROUPING SETS ((program, cohort), (program))
),

components AS (
    SELECT
        c.program,
        c.cohort,
        c.active_matches,
        c.on_track_share::DOUBLE AS on_track_share,
        ga.attainment_rate::DOUBLE AS goal_attainment_rate,
        cov.goal_coverage::DOUBLE AS goal_coverage,
        coalesce(s.satisfaction_respondents, 0) AS satisfaction_respondents,
        CASE WHEN NOT s.suppressed THEN s.satisfaction_mean END::DOUBLE AS satisfaction_mean,
        e.response_rate_90d::DOUBLE AS response_rate_90d
    FROM cadence AS c
    LEFT JOIN {{ ref('goal_attainment') }} AS ga
        ON ga.program = c.program AND ga.cohort = c.cohort AND ga.horizon = '(all)'
    LEFT JOIN coverage AS cov ON cov.program = c.program AND cov.cohort = c.cohort
    LEFT JOIN disclosure_cells AS s ON s.program = c.program AND s.cohort = c.cohort
    LEFT JOIN engagement AS e ON e.program = c.program AND e.cohort = c.cohort
),

weighted AS (
    -- Weighted mean over the components that are not NULL, in the order of METRICS.md.
    SELECT
        *,
        coalesce(0.35::DOUBLE * on_track_share, 0)
        + coalesce(0.25::DOUBLE * goal_attainment_rate, 0)
        + coalesce(0.25::DOUBLE * (satisfaction_mean - 1) / 4, 0)
        + coalesce(0.15::DOUBLE * response_rate_90d, 0) AS weighted_sum,
        CASE WHEN on_track_share IS NULL THEN 0 ELSE 0.35::DOUBLE END
        + CASE WHEN goal_attainment_rate IS NULL THEN 0 ELSE 0.25::DOUBLE END
        + CASE WHEN satisfaction_mean IS NULL THEN 0 ELSE 0.25::DOUBLE END
        + CASE WHEN response_rate_90d IS NULL THEN 0 ELSE 0.15::DOUBLE END AS weight_sum
    FROM components
),

scored AS (
    SELECT *, (100 * weighted_sum / nullif(weight_sum, 0))::DOUBLE AS health_score
    FROM weighted
)

SELECT
    program,
    cohort,
    active_matches,
    on_track_share,
    goal_attainment_rate,
    goal_coverage,
    satisfaction_respondents,
    satisfaction_mean,
    response_rate_90d,
    health_score,
    CASE
        WHEN health_score >= 75 THEN 'green'
        WHEN health_score >= 60 THEN 'amber'
        WHEN health_score IS NOT NULL THEN 'red'
    END AS health_band
FROM scored
ORDER BY program, cohort
