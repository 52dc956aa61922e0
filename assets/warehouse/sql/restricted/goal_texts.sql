-- The goals' free text: title and measure from the last `set` event seen by D (the event
-- the core goals fold takes a goal's definition from). Participants write it and it may name people or
-- private matters, so it is kept with the notes and comments: only for the restricted pages
-- and the digest, never published.
CREATE OR REPLACE TABLE restricted.goal_texts AS
SELECT goal_id, title, measure
FROM staging.goals
WHERE event_type = 'set'
    AND CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) <= getvariable('as_of')
QUALIFY row_number() OVER (PARTITION BY goal_id ORDER BY occurred_at DESC, event_id DESC) = 1;

COMMENT ON TABLE restricted.goal_texts IS 'One row per goal with a set event seen by D: its free text (title, measure) from the last set event. Personal data: kept in restricted/, never published.';
COMMENT ON COLUMN restricted.goal_texts.goal_id IS 'Goal identifier (as in the published goals tables).';
COMMENT ON COLUMN restricted.goal_texts.title IS 'Title from the last set event (free text).';
COMMENT ON COLUMN restricted.goal_texts.measure IS 'How success is measured, from the last set event (free text); NULL when none.';
