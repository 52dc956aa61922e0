-- The kept responses of known matches (core keeps the latest per survey, respondent and
-- match), with the six feedback items, for marts.survey_reliability.
SELECT
    k.program,
    r.survey_id,
    r.role,
    r.respondent_key,
    r.response_id,
    r.guidance,
    r.networking,
    r.skills,
    r.feedback,
    r.communication,
    r.satisfaction
FROM core.survey_responses AS r
JOIN core.known_matches AS k USING (match_id)
ORDER BY k.program, r.survey_id, r.role, r.response_id
