-- Every roster match: the latest row per match_id (by file name, then line) wins, which is
-- how an ending is recorded. Whether a match is known on D is decided in the marts.
SELECT
    m.match_id,
    m.program,
    m.cohort,
    mentor.participant_key AS mentor_key,
    mentee.participant_key AS mentee_key,
    m.matched_on,
    m.ended_on,
    m.end_reason,
    m.target_meetings_per_month
FROM {{ source('staging', 'matches') }} AS m
JOIN {{ source('restricted', 'participant_keys') }} AS mentor ON mentor.participant_id = m.mentor_id
JOIN {{ source('restricted', 'participant_keys') }} AS mentee ON mentee.participant_id = m.mentee_id
{{ latest_roster_row('match_id', 'm') }}
