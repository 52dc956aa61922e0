-- One row per (program, cohort, survey_id, role) with an invitation; cohort and role include
-- the '(all)' rollups, computed from the invitations.
CREATE OR REPLACE TABLE marts.survey_response_rates AS
WITH
-- @include answered_invitations

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
ORDER BY program, survey_id, cohort, role;

COMMENT ON TABLE marts.survey_response_rates IS 'Survey response rates per (program, cohort, survey_id, role) with at least one invitation seen by D of a known match; cohort and role include (all) rollups computed from the invitations. Invitations are distinct on (survey_id, participant, match).';
COMMENT ON COLUMN marts.survey_response_rates.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.survey_response_rates.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.survey_response_rates.survey_id IS 'Survey wave.';
COMMENT ON COLUMN marts.survey_response_rates.role IS 'Invited role (mentor or mentee, from the invitation), or (all) for both.';
COMMENT ON COLUMN marts.survey_response_rates.invitations IS 'Distinct invitations (survey_id, participant, match).';
COMMENT ON COLUMN marts.survey_response_rates.responses IS 'Invitations for which a kept response exists with the same survey_id, respondent = participant and the same match, whatever the response date or the role it gives.';
COMMENT ON COLUMN marts.survey_response_rates.response_rate IS 'responses / invitations.';
