-- Invitations seen by D, one per (survey, participant, match): the first one sent counts
-- (later ones are reminders).
SELECT
    i.survey_id,
    k.participant_key,
    i.match_id,
    i.role,
    i.sent_at,
    CAST(timezone(getvariable('timezone'), i.sent_at) AS DATE) AS sent_on
FROM {{ source('staging', 'invitations') }} AS i
JOIN {{ source('restricted', 'participant_keys') }} AS k USING (participant_id)
WHERE CAST(timezone(getvariable('timezone'), i.sent_at) AS DATE) <= getvariable('as_of')
QUALIFY row_number() OVER (
    PARTITION BY i.survey_id, i.participant_id, i.match_id ORDER BY i.sent_at, i.role
) = 1
