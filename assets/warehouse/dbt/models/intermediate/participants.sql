-- Participants by pseudonymous key: the latest roster row (by file name, then line).
SELECT k.participant_key, p.department, p.location, p.joined_on
FROM {{ source('staging', 'participants') }} AS p
JOIN {{ source('restricted', 'participant_keys') }} AS k USING (participant_id)
{{ latest_roster_row('participant_id', 'p') }}
