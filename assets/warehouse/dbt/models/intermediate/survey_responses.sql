-- Responses seen by D; a resubmission replaces the earlier answer: per (survey, respondent,
-- match) only the latest submitted_at counts (ties: the greatest response_id).
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
FROM {{ source('staging', 'responses') }} AS r
JOIN {{ source('restricted', 'participant_keys') }} AS k ON k.participant_id = r.respondent_id
WHERE CAST(timezone(getvariable('timezone'), r.submitted_at) AS DATE) <= getvariable('as_of')
QUALIFY row_number() OVER (
    PARTITION BY r.survey_id, r.respondent_id, r.match_id
    ORDER BY r.submitted_at DESC, r.response_id DESC
) = 1
