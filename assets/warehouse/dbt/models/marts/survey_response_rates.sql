-- One row per (program, cohort, survey_id, role) with an invitation; cohort and role include
-- the '(all)' rollups, computed from the invitations.
WITH
answered_invitations AS ({{ answered_invitations() }})

SELECT
    program,
    {{ rollup_label('cohort') }} AS cohort,
    survey_id,
    {{ rollup_label('role') }} AS role,
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
