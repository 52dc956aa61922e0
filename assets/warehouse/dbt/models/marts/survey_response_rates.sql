-- One row per (program, cohort, survey_id, role) with an invitation; cohort and role include
-- the '(all)' rollups, computed from the invitations.
WITH
answered_invitations AS ({{ answered_invitations() }})

SELECT
    program,
    CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
    survey_id,
    CASE WHEN grouping(role) = 1 THEN '(all)' ELSE role END AS role,
    count(*) AS invitations,
    count(*) FILTER (WHERE responded) AS responses,
    (count(*) FILTER (WHERE responded) / count(*))::DOUBLE AS response_rate
FROM answered_invitations
GROUP BY GROUPING SETS (
    (program, cohort, survey_id, role),
    (program, survey_id, role),
    (program, cohort, survey_id),
    (program, survey_id)
)
ORDER BY program, survey_id, cohort, role
