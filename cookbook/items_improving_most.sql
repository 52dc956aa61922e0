-- Which survey items improve most between a person's intake and closing surveys?
-- Program-wide, both roles; suppressed groups (fewer than k respondents) are left out.
SELECT
    program,
    item,
    mean_change,
    ci_low,
    ci_high,
    intake_mean,
    closing_mean,
    improved_share,
    declined_share,
    n_pairs,
    n_respondents
FROM marts.survey_change
WHERE cohort = '(all)' AND role = '(all)' AND NOT suppressed
ORDER BY mean_change DESC, program, item;
