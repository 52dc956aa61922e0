-- Which cohorts' goal attainment fell this quarter? Among goals set in each quarter: the share
-- achieved so far, this quarter (of the as-of date) against the previous one.
WITH by_quarter AS (
    SELECT program, cohort, date_trunc('quarter', set_on) AS quarter,
        avg(CASE WHEN status = 'achieved' THEN 1.0 ELSE 0.0 END) AS attainment,
        count(*) AS goals_set
    FROM marts.goal_status
    GROUP BY ALL
)
SELECT cur.program, cur.cohort,
    prev.attainment AS previous_quarter, cur.attainment AS this_quarter,
    cur.attainment - prev.attainment AS change, cur.goals_set
FROM by_quarter AS cur
JOIN by_quarter AS prev
  ON prev.program = cur.program AND prev.cohort = cur.cohort
 AND prev.quarter = cur.quarter - INTERVAL 3 MONTH
WHERE cur.quarter = date_trunc('quarter', (SELECT as_of FROM core.run_info))
  AND cur.attainment < prev.attainment
ORDER BY change;
