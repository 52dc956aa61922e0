-- Invitations seen by D, one per (survey, participant, match): the first one sent counts
-- (later ones are reminders).
CREATE OR REPLACE TABLE core.invitations AS
SELECT
    i.survey_id,
    k.participant_key,
    i.match_id,
    i.role,
    i.sent_at,
    CAST(timezone(getvariable('timezone'), i.sent_at) AS DATE) AS sent_on
FROM staging.invitations AS i
JOIN restricted.participant_keys AS k USING (participant_id)
WHERE CAST(timezone(getvariable('timezone'), i.sent_at) AS DATE) <= getvariable('as_of')
QUALIFY row_number() OVER (
    PARTITION BY i.survey_id, i.participant_id, i.match_id ORDER BY i.sent_at, i.role
) = 1;

COMMENT ON TABLE core.invitations IS 'Survey invitations seen by the as-of date, one per (survey_id, participant, match): the earliest sent_at (later ones are reminders).';
COMMENT ON COLUMN core.invitations.survey_id IS 'Survey wave.';
COMMENT ON COLUMN core.invitations.participant_key IS 'Pseudonymous key of the invited participant.';
COMMENT ON COLUMN core.invitations.match_id IS 'Match the invitation is about.';
COMMENT ON COLUMN core.invitations.role IS 'mentor or mentee.';
COMMENT ON COLUMN core.invitations.sent_at IS 'When the (first) invitation was sent.';
COMMENT ON COLUMN core.invitations.sent_on IS 'Local date of sent_at.';
