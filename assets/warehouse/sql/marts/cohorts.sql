-- One row per (program, cohort) with a known match: when it started and ended, whether it is
-- live, and a sort key putting cohorts in date order (cohort names need not sort by date).
CREATE OR REPLACE TABLE marts.cohorts AS
WITH known AS (
    SELECT km.program, km.cohort, m.matched_on, m.ended_on
    FROM core.known_matches AS km
    JOIN core.matches AS m USING (match_id)
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
ORDER BY program, cohort_order;

COMMENT ON TABLE marts.cohorts IS 'One row per (program, cohort) with a known match: its dates and whether it is live. Sort cohorts by cohort_order (date order), not by name.';
COMMENT ON COLUMN marts.cohorts.program IS 'Program.';
COMMENT ON COLUMN marts.cohorts.cohort IS 'Cohort within the program (as in every mart; never (all) here).';
COMMENT ON COLUMN marts.cohorts.starts_on IS 'Earliest matched_on of the cohort''s known matches.';
COMMENT ON COLUMN marts.cohorts.ends_on IS 'When finished: the latest ended_on of its matches; NULL while live.';
COMMENT ON COLUMN marts.cohorts.status IS 'live (a known match has not ended by D) or finished (every known match ended by D).';
COMMENT ON COLUMN marts.cohorts.matches IS 'Known matches of the cohort.';
COMMENT ON COLUMN marts.cohorts.cohort_order IS '1, 2, ... within the program by starts_on (ties: cohort name): the order to sort cohorts in.';
