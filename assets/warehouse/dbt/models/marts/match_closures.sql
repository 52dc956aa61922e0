-- One row per (program, cohort) with a known match, cohort '(all)' included: how many matches
-- ended, how many of them closed early (ended by D with an end_reason other than completed,
-- blank included), the early-closure rate with its Wilson interval, and the reasons.
WITH ends AS (
    SELECT
        c.program,
        c.cohort,
        c.active_days AS t,
        c.ended_on IS NOT NULL AS ended,
        c.ended_on IS NOT NULL AND m.end_reason IS DISTINCT FROM 'completed' AS closed_early,
        -- A blank reason is an unknown one.
        coalesce(nullif(trim(m.end_reason), ''), 'unknown_reason') AS reason
    FROM {{ ref('match_cadence') }} AS c
    JOIN {{ ref('matches') }} AS m USING (match_id)
),

closure_counts AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
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
        closed_early / nullif(ended, 0) AS early_closure_rate
    FROM closure_counts
)

SELECT
    program,
    cohort,
    matches,
    ended,
    completed,
    closed_early,
    early_closure_rate::DOUBLE AS early_closure_rate,
    {{ wilson_interval('early_closure_rate', 'ended', '-') }}::DOUBLE AS early_closure_ci_low,
    {{ wilson_interval('early_closure_rate', 'ended', '+') }}::DOUBLE AS early_closure_ci_high,
    mentor_withdrew,
    mentee_withdrew,
    no_engagement,
    rematched,
    other,
    unknown_reason,
    median_days_to_early_closure::DOUBLE AS median_days_to_early_closure
FROM rated
ORDER BY program, cohort
