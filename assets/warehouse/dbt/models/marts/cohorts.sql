-- One row per (program, cohort) with a known match: when it started and ended, whether it is
-- live, and a sort key putting cohorts in date order (cohort names need not sort by date).
WITH known AS (
    SELECT km.program, km.cohort, m.matched_on, m.ended_on
    FROM {{ ref('known_matches') }} AS km
    JOIN {{ ref('matches') }} AS m USING (match_id)
),

grouped AS (
    SELECT
        program,
        cohort,
        min(matched_on) AS starts_on,
        -- live while a match has not ended by D
        bool_or(ended_on IS NULL OR ended_on > getvariable('as_of')) AS is_live,
        max(ended_on) AS last_ended_on,
        count(*) AS matches
    FROM known
    GROUP BY program, cohort
)

SELECT
    program,
    cohort,
    starts_on,
    CASE WHEN NOT is_live THEN last_ended_on END AS ends_on,
    CASE WHEN is_live THEN 'live' ELSE 'finished' END AS status,
    matches,
    CAST(row_number() OVER (PARTITION BY program ORDER BY starts_on, cohort) AS INTEGER)
        AS cohort_order
FROM grouped
ORDER BY program, cohort_order
