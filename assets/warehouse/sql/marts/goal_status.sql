-- One row per goal with a `set` event seen by D, of a known match. The goal-event fold (owner
-- match, last `set` attributes, status, dates) is done in core; this file restricts to known
-- matches and derives the as-of-D flags.
CREATE OR REPLACE TABLE marts.goal_status AS
WITH run AS (
    SELECT getvariable('as_of') AS as_of
),

known_goals AS (
    -- Known matches are exactly the rows of match_cadence (matched_on <= D).
    SELECT g.*, mc.program, mc.cohort
    FROM core.goals AS g
    JOIN marts.match_cadence AS mc USING (match_id)
)

SELECT
    g.goal_id,
    g.match_id,
    g.program,
    g.cohort,
    g.horizon,
    coalesce(g.category, 'other') AS category,
    g.target_date,
    g.has_measure,
    g.set_on,
    g.status,
    CASE
        WHEN g.status = 'achieved' THEN 100.0
        ELSE coalesce(g.progress_pct, 0.0)
    END::DOUBLE AS progress_pct,
    CASE WHEN g.status = 'achieved' THEN g.achieved_on END AS achieved_on,
    CASE WHEN g.status = 'achieved' THEN g.achieved_on - g.set_on END AS days_to_achieve,
    -- coalesce: with no target_date the comparison is NULL, and a flag is never NULL.
    coalesce(g.status = 'open' AND g.target_date < run.as_of, false) AS is_overdue,
    -- has_measure (core.goals): the measure holds a character that is not whitespace.
    g.has_measure AND g.target_date IS NOT NULL AS is_smart
FROM known_goals AS g
CROSS JOIN run
ORDER BY g.program, g.cohort, g.match_id, g.goal_id;

COMMENT ON TABLE marts.goal_status IS 'One row per goal of a known match with a set event seen by D. A goal belongs to the match of its first event; its attributes come from its last set event.';
COMMENT ON COLUMN marts.goal_status.goal_id IS 'Goal identifier.';
COMMENT ON COLUMN marts.goal_status.match_id IS 'Match the goal belongs to (the match of its first event).';
COMMENT ON COLUMN marts.goal_status.program IS 'Program of the match.';
COMMENT ON COLUMN marts.goal_status.cohort IS 'Cohort of the match.';
COMMENT ON COLUMN marts.goal_status.horizon IS 'short_term or long_term, from the last set event.';
COMMENT ON COLUMN marts.goal_status.category IS 'skill, network, career, wellbeing or other (the default), from the last set event.';
COMMENT ON COLUMN marts.goal_status.target_date IS 'Target date from the last set event; NULL when none.';
COMMENT ON COLUMN marts.goal_status.has_measure IS 'True when the last set event says how success is measured (a non-blank measure). The goal''s title and measure are free text: restricted, never published.';
COMMENT ON COLUMN marts.goal_status.set_on IS 'Local date of the first set event.';
COMMENT ON COLUMN marts.goal_status.status IS 'By the last event seen by D: open (set or progress), achieved or abandoned.';
COMMENT ON COLUMN marts.goal_status.progress_pct IS '100 when achieved; else the progress_pct of the last progress event; 0 when there is none.';
COMMENT ON COLUMN marts.goal_status.achieved_on IS 'Local date of the last achieved event when status is achieved; else NULL.';
COMMENT ON COLUMN marts.goal_status.days_to_achieve IS 'achieved_on - set_on, in days; NULL unless achieved.';
COMMENT ON COLUMN marts.goal_status.is_overdue IS 'True when status is open and target_date is before D; false when target_date is NULL.';
COMMENT ON COLUMN marts.goal_status.is_smart IS 'True when has_measure and target_date is set.';
