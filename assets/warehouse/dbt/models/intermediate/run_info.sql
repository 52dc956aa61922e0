-- The settings the warehouse was built with: the as-of date first of all.
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
    (SELECT left(max(secret_fingerprint), 16) FROM {{ source('restricted', 'participant_keys') }})
        AS pseudonym_key_fingerprint,
    current_timestamp AS built_at
