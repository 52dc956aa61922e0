-- The goals' free text: title and measure from the last `set` event seen by D (the event
-- the core goals fold takes a goal's definition from). Participants write it and it may name people or
-- private matters, so it is kept with the notes and comments: only for the restricted pages
-- and the digest, never published.
SELECT goal_id, title, measure
FROM {{ source('staging', 'goals') }}
WHERE event_type = 'set'
    AND CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) <= getvariable('as_of')
QUALIFY row_number() OVER (PARTITION BY goal_id ORDER BY occurred_at DESC, event_id DESC) = 1
