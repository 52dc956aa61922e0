-- In each program's latest check-in wave, which feedback items score lowest (not suppressed)?
WITH latest AS (
    SELECT program, max(survey_id) AS survey_id
    FROM marts.feedback_scores
    WHERE survey_id LIKE 'checkin-%'
    GROUP BY program
)
SELECT f.program, f.survey_id, f.item, f.n, f.mean, f.ci_low, f.ci_high, f.top2_share
FROM marts.feedback_scores AS f
JOIN latest USING (program, survey_id)
WHERE f.cohort = '(all)' AND f.role = '(all)' AND NOT f.suppressed
ORDER BY f.program, f.mean;
