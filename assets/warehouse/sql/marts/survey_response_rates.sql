-- One row per (program, cohort, survey_id, role) with an invitation; cohort and role include
-- the '(all)' rollups, computed from the invitations.
CREATE OR REPLACE TABLE marts.survey_response_rates AS
WITH known_invitations AS (
    -- core already keeps one invitation per (survey, participant, match), the earliest; the
    -- QUALIFY only restates that key so a duplicate can never count twice here.
    SELECT i.survey_id, i.participant_key, i.match_id, i.role, mc.program, mc.cohort
    FROM core.invitations AS i
    JOIN marts.match_cadence AS mc USING (match_id)
    QUALIFY row_number() OVER (
        PARTITION BY i.survey_id, i.participant_key, i.match_id ORDER BY i.sent_at, i.role
    ) = 1
),

answered_invitations AS (
    -- Responded: a kept response exists for the same survey, person and match, whatever its
    -- date or the role it gives. Responses without an invitation count nowhere here.
    SELECT
        i.*,
        EXISTS (
            SELECT 1
            FROM core.survey_responses AS r
            WHERE r.survey_id = i.survey_id
                AND r.respondent_key = i.participant_key
                AND r.match_id = i.match_id
        ) AS responded
    FROM known_invitations AS i
)

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
