-- Which cohorts keep fewer matches to 180 days (not closed early) than their program as a whole?
-- survival = 1 - the estimated share closing early within 180 days (cumulative incidence:
-- a completed match counts as completed, not as still at risk of closing early).
-- clearly_below: the cohort's whole 95% interval lies under the program's estimate.
-- at_risk: matches followed 180 days or more; under 10 the estimate is too shaky to read.
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
