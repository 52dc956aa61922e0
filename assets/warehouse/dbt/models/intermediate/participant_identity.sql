-- Names and e-mails by pseudonymous key: only for the at-risk page. Never published.
SELECT k.participant_key, p.participant_id, p.full_name, p.email
FROM {{ source('staging', 'participants') }} AS p
JOIN {{ source('restricted', 'participant_keys') }} AS k USING (participant_id)
{{ latest_roster_row('participant_id', 'p') }}
