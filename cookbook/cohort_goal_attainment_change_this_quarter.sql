-- Which cohorts' goal attainment fell in the latest quarter we can judge? Like with like: every
-- goal is judged at the same age — achieved within 90 days of being set — so only goals set at
-- least 90 days before the as-of date count (younger goals have not had their chance yet). The
-- latest such quarter of goals is compared with the one before it; both need at least 10 goals,
-- and the change comes with a 95% interval (normal approximation for a difference of two
-- shares): `fell_clearly` only when the whole interval is below zero.
WITH run AS (
    SELECT as_of, as_of - INTERVAL 90 DAY AS judged_by FROM core.run_info
),
judged AS (
    SELECT g.program, g.cohort, CAST(date_trunc('quarter', g.set_on) AS DATE) AS quarter,
        coalesce(g.status = 'achieved' AND g.days_to_achieve <= 90, false) AS achieved_in_90d
    FROM marts.goal_status AS g, run
    WHERE g.set_on <= run.judged_by
),
by_quarter AS (
    SELECT program, cohort, quarter, count(*) AS goals,
        avg(CAST(achieved_in_90d AS DOUBLE)) AS attainment_90d
    FROM judged
    GROUP BY ALL
),
compared AS (
    SELECT cur.program, cur.cohort,
        prev.quarter AS previous_quarter, prev.goals AS previous_goals,
        prev.attainment_90d AS previous_attainment_90d,
        cur.quarter AS latest_quarter, cur.goals AS latest_goals,
        cur.attainment_90d AS latest_attainment_90d,
        cur.attainment_90d - prev.attainment_90d AS change,
        1.96 * sqrt(
            cur.attainment_90d * (1 - cur.attainment_90d) / cur.goals
            + prev.attainment_90d * (1 - prev.attainment_90d) / prev.goals
        ) AS margin
    FROM by_quarter AS cur
    JOIN by_quarter AS prev
      ON prev.program = cur.program AND prev.cohort = cur.cohort
     AND prev.quarter = CAST(cur.quarter - INTERVAL 3 MONTH AS DATE)
    CROSS JOIN run
    WHERE cur.quarter = CAST(date_trunc('quarter', run.judged_by) AS DATE)
      AND cur.goals >= 10 AND prev.goals >= 10
)
SELECT program, cohort, previous_quarter, previous_goals, previous_attainment_90d,
    latest_quarter, latest_goals, latest_attainment_90d, change,
    change - margin AS change_ci_low, change + margin AS change_ci_high,
    change + margin < 0 AS fell_clearly
FROM compared
WHERE change < 0
ORDER BY change, program, cohort;
