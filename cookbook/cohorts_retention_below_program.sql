-- Which cohorts keep fewer matches to 180 days (not closed early) than their program as a whole?
-- clearly_below: the cohort's whole 95% interval lies under the program's estimate.
SELECT
    c.program,
    c.cohort,
    c.survival AS retention_180,
    p.survival AS program_retention_180,
    c.survival - p.survival AS gap,
    c.ci_low,
    c.ci_high,
    coalesce(c.ci_high < p.survival, false) AS clearly_below,
    c.matches,
    c.at_risk
FROM marts.match_retention AS c
JOIN marts.match_retention AS p
    ON p.program = c.program AND p.cohort = '(all)' AND p.day = c.day
WHERE c.day = 180 AND c.cohort <> '(all)' AND c.survival < p.survival
ORDER BY gap, c.program, c.cohort;
