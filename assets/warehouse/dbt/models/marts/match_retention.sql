-- One row per (program, cohort, day), day in {30, 90, 180, 365}, cohort '(all)' included:
-- Kaplan-Meier estimate of "not closed early by day days after matching", with the log-log
-- 95% interval. A match that ended completed, or is still active, is censored at its duration.
WITH durations AS (
    -- Known matches come from match_cadence; active_days is the duration t = end - matched_on.
    SELECT
        c.program,
        c.cohort,
        c.active_days AS t,
        c.ended_on IS NOT NULL AND m.end_reason IS DISTINCT FROM 'completed' AS closed_early
    FROM {{ ref('match_cadence') }} AS c
    JOIN {{ ref('matches') }} AS m USING (match_id)
),

grouped AS (
    -- Each match counts in its cohort and in the program's (all) rollup.
    SELECT program, cohort, t, closed_early FROM durations
    UNION ALL
    SELECT program, '(all)' AS cohort, t, closed_early FROM durations
),

horizons AS (
    SELECT unnest([30, 90, 180, 365]) AS day
),

counts AS (
    SELECT
        g.program,
        g.cohort,
        h.day,
        count(*) AS matches,
        count(*) FILTER (WHERE g.t >= h.day) AS at_risk,
        count(*) FILTER (WHERE g.closed_early AND g.t <= h.day) AS closed_early
    FROM grouped AS g
    CROSS JOIN horizons AS h
    GROUP BY ALL
),

by_duration AS (
    SELECT
        program,
        cohort,
        t,
        count(*) AS leaving,
        count(*) FILTER (WHERE closed_early) AS d
    FROM grouped
    GROUP BY ALL
),

risk_sets AS (
    -- n_i: matches with t >= t_i (a match censored at t_i is still at risk at t_i).
    SELECT
        program,
        cohort,
        t,
        d,
        sum(leaving) OVER (PARTITION BY program, cohort ORDER BY t DESC)::BIGINT AS n
    FROM by_duration
),

estimates AS (
    -- Product and Greenwood-type sum over the closure times t_i <= day, folded over lists in
    -- time order, so the floating-point result does not depend on row order.
    SELECT
        c.program,
        c.cohort,
        c.day,
        list_aggregate(list(1 - e.d / e.n ORDER BY e.t) FILTER (WHERE e.t IS NOT NULL), 'product')
            AS km_product,
        list_sum(
            list(e.d / (e.n * (e.n - e.d)) ORDER BY e.t) FILTER (WHERE e.n > e.d)
        ) AS variance_sum,
        coalesce(bool_or(e.n = e.d), false) AS risk_set_emptied
    FROM counts AS c
    LEFT JOIN risk_sets AS e
        ON e.program = c.program AND e.cohort = c.cohort AND e.t <= c.day AND e.d > 0
    GROUP BY ALL
),

survival AS (
    SELECT
        c.*,
        CASE WHEN c.at_risk > 0 THEN coalesce(e.km_product, 1.0) END AS survival,
        coalesce(e.variance_sum, 0) AS variance_sum,
        e.risk_set_emptied,
        1.96::DOUBLE AS z
    FROM counts AS c
    JOIN estimates AS e USING (program, cohort, day)
),

intervals AS (
    SELECT
        *,
        CASE
            WHEN survival > 0 AND survival < 1 AND NOT risk_set_emptied
                THEN sqrt(variance_sum) / abs(ln(survival))
        END AS loglog_se
    FROM survival
)

SELECT
    program,
    cohort,
    day::BIGINT AS day,
    matches,
    at_risk,
    closed_early,
    survival::DOUBLE AS survival,
    pow(survival, exp(z * loglog_se))::DOUBLE AS ci_low,
    pow(survival, exp(-z * loglog_se))::DOUBLE AS ci_high
FROM intervals
ORDER BY program, cohort, day
