-- One row per (program, cohort, horizon) with at least one goal, cohort '(all)' and horizon
-- 'all' included. Rollups are grouping sets over the goals themselves, never averages of rows.
CREATE OR REPLACE TABLE marts.goal_attainment AS
WITH goal_counts AS (
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        CASE WHEN grouping(horizon) = 1 THEN 'all' ELSE horizon END AS horizon,
        count(*) AS goals_set,
        count(*) FILTER (WHERE status = 'achieved') AS goals_achieved,
        count(*) FILTER (WHERE status = 'abandoned') AS goals_abandoned,
        count(*) FILTER (WHERE status = 'open') AS goals_open,
        count(*) FILTER (WHERE is_overdue) AS goals_overdue,
        -- Open goals without a target date can never be overdue: outside the rate's n.
        count(*) FILTER (WHERE status = 'open' AND target_date IS NULL) AS goals_open_undated,
        quantile_cont(days_to_achieve, 0.5) FILTER (WHERE status = 'achieved')
            AS median_days_to_achieve,
        count(*) FILTER (WHERE is_smart) / count(*) AS smart_share
    FROM marts.goal_status
    GROUP BY GROUPING SETS (
        (program, cohort, horizon), (program, cohort), (program, horizon), (program)
    )
),

rated AS (
    -- Goals with a verdict: achieved, abandoned, or open past their target date.
    SELECT
        *,
        goals_achieved + goals_abandoned + goals_overdue AS n_rated,
        goals_achieved / nullif(goals_achieved + goals_abandoned + goals_overdue, 0)
            AS attainment_rate,
        1.96::DOUBLE AS z
    FROM goal_counts
),

wilson AS (
    -- Wilson score interval: centre c and half-width h on n = n_rated.
    SELECT
        *,
        (attainment_rate + z * z / (2 * n_rated)) / (1 + z * z / n_rated) AS wilson_centre,
        z
        * sqrt(attainment_rate * (1 - attainment_rate) / n_rated + z * z / (4 * n_rated * n_rated))
        / (1 + z * z / n_rated) AS wilson_half_width
    FROM rated
)

SELECT
    program,
    cohort,
    horizon,
    goals_set,
    goals_achieved,
    goals_abandoned,
    goals_open,
    goals_overdue,
    attainment_rate::DOUBLE AS attainment_rate,
    (wilson_centre - wilson_half_width)::DOUBLE AS attainment_ci_low,
    (wilson_centre + wilson_half_width)::DOUBLE AS attainment_ci_high,
    median_days_to_achieve::DOUBLE AS median_days_to_achieve,
    smart_share::DOUBLE AS smart_share,
    goals_open_undated
FROM wilson
ORDER BY program, cohort, horizon;

COMMENT ON TABLE marts.goal_attainment IS 'One row per (program, cohort, horizon) with at least one goal of a known match; cohort (all) and horizon all are rollups computed from the goals.';
COMMENT ON COLUMN marts.goal_attainment.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.goal_attainment.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.goal_attainment.horizon IS 'short_term, long_term, or all for both.';
COMMENT ON COLUMN marts.goal_attainment.goals_set IS 'Goals in the group.';
COMMENT ON COLUMN marts.goal_attainment.goals_achieved IS 'Goals with status achieved.';
COMMENT ON COLUMN marts.goal_attainment.goals_abandoned IS 'Goals with status abandoned.';
COMMENT ON COLUMN marts.goal_attainment.goals_open IS 'Goals with status open (overdue ones included).';
COMMENT ON COLUMN marts.goal_attainment.goals_overdue IS 'Open goals whose target_date is before D (a subset of goals_open).';
COMMENT ON COLUMN marts.goal_attainment.attainment_rate IS 'achieved / (achieved + abandoned + overdue); NULL when that sum is 0.';
COMMENT ON COLUMN marts.goal_attainment.attainment_ci_low IS 'Lower bound of the Wilson 95% interval (z = 1.96) of attainment_rate on n = achieved + abandoned + overdue; NULL when n is 0.';
COMMENT ON COLUMN marts.goal_attainment.attainment_ci_high IS 'Upper bound of the Wilson 95% interval (z = 1.96) of attainment_rate on n = achieved + abandoned + overdue; NULL when n is 0.';
COMMENT ON COLUMN marts.goal_attainment.median_days_to_achieve IS 'Continuous median of days_to_achieve over achieved goals; NULL when none.';
COMMENT ON COLUMN marts.goal_attainment.smart_share IS 'Share of the goals that are SMART (non-blank measure and a target date).';
COMMENT ON COLUMN marts.goal_attainment.goals_open_undated IS 'Open goals without a target_date: they can never be overdue, so they stay outside attainment_rate''s n (shown so that a reader sees what the rate leaves out).';
