-- One row per goal with a `set` event seen by D, of a known match. The goal-event fold (owner
-- match, last `set` attributes, status, dates) is done in core; this file restricts to known
-- matches and derives the as-of-D flags.
WITH run AS (
    SELECT getvariable('as_of') AS as_of
),

known_goals AS (
    -- Known matches are exactly the rows of match_cadence (matched_on <= D).
    SELECT g.*, mc.program, mc.cohort
    FROM {{ ref('goals') }} AS g
    JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
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
ORDER BY g.program, g.cohort, g.match_id, g.goal_id
