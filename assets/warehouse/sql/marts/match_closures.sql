-- One row per (program, cohort) with a known match, cohort '(all)' included: how many matches
-- ended, how many of them closed early (ended by D with an end_reason other than completed,
-- blank included), the early-closure rate with its Wilson interval, and the reasons.
CREATE OR REPLACE TABLE marts.match_closures AS
WITH ends AS (
    SELECT
        c.program,
        c.cohort,
        c.active_days AS t,
        c.ended_on IS NOT NULL AS ended,
        c.ended_on IS NOT NULL AND m.end_reason IS DISTINCT FROM 'completed' AS closed_early,
        -- A blank reason is an unknown one.
        coalesce(nullif(trim(m.end_reason), ''), 'unknown_reason') AS reason
    FROM marts.match_cadence AS c
    JOIN core.matches AS m USING (match_id)
),

closure_counts AS (
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        count(*) AS matches,
        count(*) FILTER (WHERE ended) AS ended,
        count(*) FILTER (WHERE ended AND NOT closed_early) AS completed,
        count(*) FILTER (WHERE closed_early) AS closed_early,
        count(*) FILTER (WHERE closed_early AND reason = 'mentor_withdrew') AS mentor_withdrew,
        count(*) FILTER (WHERE closed_early AND reason = 'mentee_withdrew') AS mentee_withdrew,
        count(*) FILTER (WHERE closed_early AND reason = 'no_engagement') AS no_engagement,
        count(*) FILTER (WHERE closed_early AND reason = 'rematched') AS rematched,
        count(*) FILTER (WHERE closed_early AND reason = 'other') AS other,
        count(*) FILTER (WHERE closed_early AND reason = 'unknown_reason') AS unknown_reason,
        quantile_cont(t, 0.5) FILTER (WHERE closed_early) AS median_days_to_early_closure
    FROM ends
    GROUP BY GROUPING SETS ((program, cohort), (program))
),

rated AS (
    SELECT
        *,
        closed_early / nullif(ended, 0) AS early_closure_rate,
        1.96::DOUBLE AS z
    FROM closure_counts
),

wilson AS (
    -- Wilson score interval: centre c and half-width h on n = ended.
    SELECT
        *,
        (early_closure_rate + z * z / (2 * ended)) / (1 + z * z / ended) AS wilson_centre,
        z
        * sqrt(early_closure_rate * (1 - early_closure_rate) / ended + z * z / (4 * ended * ended))
        / (1 + z * z / ended) AS wilson_half_width
    FROM rated
)

SELECT
    program,
    cohort,
    matches,
    ended,
    completed,
    closed_early,
    early_closure_rate::DOUBLE AS early_closure_rate,
    (wilson_centre - wilson_half_width)::DOUBLE AS early_closure_ci_low,
    (wilson_centre + wilson_half_width)::DOUBLE AS early_closure_ci_high,
    mentor_withdrew,
    mentee_withdrew,
    no_engagement,
    rematched,
    other,
    unknown_reason,
    median_days_to_early_closure::DOUBLE AS median_days_to_early_closure
FROM wilson
ORDER BY program, cohort;

COMMENT ON TABLE marts.match_closures IS 'One row per (program, cohort) with a known match, cohort (all) included: endings by D, early closures (ended by D with an end_reason other than completed, blank included) with the Wilson 95% interval of their rate, and early closures by reason.';
COMMENT ON COLUMN marts.match_closures.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.match_closures.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.match_closures.matches IS 'Known matches in the group.';
COMMENT ON COLUMN marts.match_closures.ended IS 'Matches with ended_on <= D.';
COMMENT ON COLUMN marts.match_closures.completed IS 'Ended matches whose end_reason is completed.';
COMMENT ON COLUMN marts.match_closures.closed_early IS 'Ended matches whose end_reason is not completed (blank included).';
COMMENT ON COLUMN marts.match_closures.early_closure_rate IS 'closed_early / ended; NULL when ended = 0.';
COMMENT ON COLUMN marts.match_closures.early_closure_ci_low IS 'Lower bound of the Wilson 95% interval (z = 1.96) of early_closure_rate on n = ended; NULL when ended = 0.';
COMMENT ON COLUMN marts.match_closures.early_closure_ci_high IS 'Upper bound of the Wilson 95% interval (z = 1.96) of early_closure_rate on n = ended; NULL when ended = 0.';
COMMENT ON COLUMN marts.match_closures.mentor_withdrew IS 'Early closures with end_reason mentor_withdrew.';
COMMENT ON COLUMN marts.match_closures.mentee_withdrew IS 'Early closures with end_reason mentee_withdrew.';
COMMENT ON COLUMN marts.match_closures.no_engagement IS 'Early closures with end_reason no_engagement.';
COMMENT ON COLUMN marts.match_closures.rematched IS 'Early closures with end_reason rematched.';
COMMENT ON COLUMN marts.match_closures.other IS 'Early closures with end_reason other.';
COMMENT ON COLUMN marts.match_closures.unknown_reason IS 'Early closures with a blank end_reason.';
COMMENT ON COLUMN marts.match_closures.median_days_to_early_closure IS 'Continuous median duration (end - matched_on, in days) of the matches that closed early; NULL when none.';
