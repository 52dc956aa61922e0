-- One row per (program, cohort, horizon) with at least one goal, cohort '(all)' and horizon
-- '(all)' included (the one rollup marker, as for cohort and role). Rollups are grouping sets
-- over the goals themselves, never averages of rows.
WITH goal_counts AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        {{ rollup_label('horizon') }} AS horizon,
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
    FROM {{ ref('goal_status') }}
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
            AS attainment_rate
    FROM goal_counts
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
    {{ wilson_interval('attainment_rate', 'n_rated', '-') }}::DOUBLE AS attainment_ci_low,
    {{ wilson_interval('attainment_rate', 'n_rated', '+') }}::DOUBLE AS attainment_ci_high,
    median_days_to_achieve::DOUBLE AS median_days_to_achieve,
    smart_share::DOUBLE AS smart_share,
    goals_open_undated
FROM rated
ORDER BY program, cohort, horizon
