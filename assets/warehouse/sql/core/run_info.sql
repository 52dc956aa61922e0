-- The settings the warehouse was built with: the as-of date first of all.
CREATE OR REPLACE TABLE core.run_info AS
SELECT
    getvariable('as_of') AS as_of,
    getvariable('timezone') AS timezone,
    getvariable('min_group_size') AS min_group_size,
    getvariable('lapse_days') AS lapse_days,
    getvariable('first_meeting_grace_days') AS first_meeting_grace_days,
    getvariable('default_target_per_month') AS default_target_per_month,
    getvariable('freshness_days') AS freshness_days,
    -- Which pseudonym secret made the participant keys: the first 16 hex digits of the HMAC of
    -- a fixed label under the secret (pseudonyms.py), never the secret. Every key row carries
    -- it; a new secret recomputes every key and changes it.
    (SELECT left(max(secret_fingerprint), 16) FROM restricted.participant_keys)
        AS pseudonym_key_fingerprint,
    current_timestamp AS built_at;

COMMENT ON TABLE core.run_info IS 'One row: the settings every core and mart table of this warehouse was computed with.';
COMMENT ON COLUMN core.run_info.as_of IS 'The as-of date D of every metric.';
COMMENT ON COLUMN core.run_info.timezone IS 'Program time zone in which local dates are taken.';
COMMENT ON COLUMN core.run_info.min_group_size IS 'k: survey groups with fewer respondents are suppressed.';
COMMENT ON COLUMN core.run_info.lapse_days IS 'Days since the last meeting after which a match is lapsed.';
COMMENT ON COLUMN core.run_info.first_meeting_grace_days IS 'Days a new match may go without a first meeting (too_early).';
COMMENT ON COLUMN core.run_info.default_target_per_month IS 'Meetings a month expected of a match with no target of its own.';
COMMENT ON COLUMN core.run_info.freshness_days IS 'Days a source may go without a new file before its freshness check warns (and pages flag it stale).';
COMMENT ON COLUMN core.run_info.pseudonym_key_fingerprint IS 'Fingerprint of the pseudonym secret (MENTORPULSE_PSEUDONYM_KEY) that made every participant key of this warehouse: 16 hex digits of an HMAC-SHA256 of a fixed label under the secret, which does not reveal it. A different value from an earlier warehouse means the secret changed and every mentor_key and mentee_key changed with it: keys of the two cannot be joined. NULL when no participant has a key yet.';
COMMENT ON COLUMN core.run_info.built_at IS 'When the tables were computed.';
