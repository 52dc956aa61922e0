-- Participants by pseudonymous key: the latest roster row (by file name, then line).
SELECT k.participant_key, p.department, p.location, p.joined_on
FROM {{ source('staging', 'participants') }} AS p
JOIN {{ source('restricted', 'participant_keys') }} AS k USING (participant_id)
QUALIFY row_number() OVER (
    PARTITION BY p.participant_id ORDER BY p._file_name DESC, p._source_path DESC, p._line DESC
) = 1
