-- Goal attainment by cohort, with each cohort's dates: when it started and ended (or that it is
-- live), in date order within each program (cohort_order, not the cohort's name). All goals of
-- the cohort (horizon '(all)'), with the Wilson interval of marts.goal_attainment.
SELECT c.program, c.cohort, c.starts_on, c.ends_on, c.status, c.matches,
    g.goals_set, g.goals_achieved, g.goals_abandoned, g.goals_overdue,
    g.attainment_rate, g.attainment_ci_low, g.attainment_ci_high
FROM marts.cohorts AS c
JOIN marts.goal_attainment AS g USING (program, cohort)
WHERE g.horizon = '(all)'
ORDER BY c.program, c.cohort_order;
