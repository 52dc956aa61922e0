-- Participants by pseudonymous key: the latest roster row (by file name, then line).
CREATE OR REPLACE TABLE core.participants AS
SELECT k.participant_key, p.department, p.location, p.joined_on
FROM staging.participants AS p
JOIN restricted.participant_keys AS k USING (participant_id)
QUALIFY row_number() OVER (
    PARTITION BY p.participant_id ORDER BY p._file_name DESC, p._source_path DESC, p._line DESC
) = 1;

COMMENT ON TABLE core.participants IS 'One row per participant (latest roster row by file name, then line); pseudonymous key only, no names or e-mails.';
COMMENT ON COLUMN core.participants.participant_key IS 'Pseudonymous participant key (HMAC-SHA256 of participant_id with the program secret).';
COMMENT ON COLUMN core.participants.department IS 'Department from the roster.';
COMMENT ON COLUMN core.participants.location IS 'Location from the roster.';
COMMENT ON COLUMN core.participants.joined_on IS 'Date the person joined the organisation.';
