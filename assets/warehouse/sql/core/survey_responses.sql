-- Responses seen by D; a resubmission replaces the earlier answer: per (survey, respondent,
-- match) only the latest submitted_at counts (ties: the greatest response_id).
CREATE OR REPLACE TABLE core.survey_responses AS
SELECT
    r.response_id,
    r.survey_id,
    r.instrument,
    k.participant_key AS respondent_key,
    r.match_id,
    r.role,
    r.submitted_at,
    CAST(timezone(getvariable('timezone'), r.submitted_at) AS DATE) AS submitted_on,
    CAST(r.guidance AS INTEGER) AS guidance,
    CAST(r.networking AS INTEGER) AS networking,
    CAST(r.skills AS INTEGER) AS skills,
    CAST(r.feedback AS INTEGER) AS feedback,
    CAST(r.communication AS INTEGER) AS communication,
    CAST(r.satisfaction AS INTEGER) AS satisfaction,
    CAST(r.nps AS INTEGER) AS nps,
    r.comment IS NOT NULL AS has_comment
FROM staging.responses AS r
JOIN restricted.participant_keys AS k ON k.participant_id = r.respondent_id
WHERE CAST(timezone(getvariable('timezone'), r.submitted_at) AS DATE) <= getvariable('as_of')
QUALIFY row_number() OVER (
    PARTITION BY r.survey_id, r.respondent_id, r.match_id
    ORDER BY r.submitted_at DESC, r.response_id DESC
) = 1;

COMMENT ON TABLE core.survey_responses IS 'Kept survey responses seen by the as-of date: per (survey_id, respondent, match) the latest submitted_at, ties broken by the greatest response_id. Comments are not copied, only whether there was one.';
COMMENT ON COLUMN core.survey_responses.response_id IS 'Response identifier.';
COMMENT ON COLUMN core.survey_responses.survey_id IS 'One wave of one instrument, e.g. checkin-2026-03.';
COMMENT ON COLUMN core.survey_responses.instrument IS 'intake, checkin or closing.';
COMMENT ON COLUMN core.survey_responses.respondent_key IS 'Pseudonymous key of the respondent.';
COMMENT ON COLUMN core.survey_responses.match_id IS 'Match the response is about.';
COMMENT ON COLUMN core.survey_responses.role IS 'mentor or mentee.';
COMMENT ON COLUMN core.survey_responses.submitted_at IS 'When the response was submitted.';
COMMENT ON COLUMN core.survey_responses.submitted_on IS 'Local date of submitted_at.';
COMMENT ON COLUMN core.survey_responses.guidance IS '1-5: personalised guidance (NULL: not answered).';
COMMENT ON COLUMN core.survey_responses.networking IS '1-5: networking opportunities.';
COMMENT ON COLUMN core.survey_responses.skills IS '1-5: skill development.';
COMMENT ON COLUMN core.survey_responses.feedback IS '1-5: useful, constructive feedback.';
COMMENT ON COLUMN core.survey_responses.communication IS '1-5: regular communication.';
COMMENT ON COLUMN core.survey_responses.satisfaction IS '1-5: overall satisfaction.';
COMMENT ON COLUMN core.survey_responses.nps IS '0-10: would recommend the program.';
COMMENT ON COLUMN core.survey_responses.has_comment IS 'Whether the respondent left a comment (the text itself stays in staging).';
