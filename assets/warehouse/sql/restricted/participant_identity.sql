-- Names and e-mails by pseudonymous key: only for the at-risk page. Never published.
CREATE OR REPLACE TABLE restricted.participant_identity AS
SELECT k.participant_key, p.participant_id, p.full_name, p.email
FROM staging.participants AS p
JOIN restricted.participant_keys AS k USING (participant_id)
QUALIFY row_number() OVER (
    PARTITION BY p.participant_id ORDER BY p._file_name DESC, p._source_path DESC, p._line DESC
) = 1;

COMMENT ON TABLE restricted.participant_identity IS 'Identity of each participant (latest roster row): personal data, kept in restricted/ and never published.';
COMMENT ON COLUMN restricted.participant_identity.participant_key IS 'Pseudonymous key (HMAC-SHA256 of participant_id).';
COMMENT ON COLUMN restricted.participant_identity.participant_id IS 'Participant id from the roster.';
COMMENT ON COLUMN restricted.participant_identity.full_name IS 'Full name (personal data).';
COMMENT ON COLUMN restricted.participant_identity.email IS 'E-mail (personal data).';
