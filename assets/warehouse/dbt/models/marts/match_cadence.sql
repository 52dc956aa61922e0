-- One row per known match (matched_on <= D): how often the pair meets, as of D.
-- The meeting fold (status, date, owning match) is done in core; this file applies the window,
-- the cadence figures and the status rules of METRICS.md.
WITH run AS (
    SELECT
        getvariable('as_of') AS as_of,
        getvariable('lapse_days') AS lapse_days,
        getvariable('first_meeting_grace_days') AS grace_days,
        getvariable('default_target_per_month') AS default_target
),

known_matches AS (
    -- An ending recorded for a date after D has not happened yet as of D.
    SELECT
        m.match_id,
        m.program,
        m.cohort,
        m.mentor_key,
        m.mentee_key,
        m.matched_on,
        CASE WHEN m.ended_on <= run.as_of THEN m.ended_on END AS ended_on,
        {{ match_window_end('m.ended_on', 'run.as_of') }} AS window_end,
        coalesce(m.target_meetings_per_month, run.default_target)::DOUBLE AS target_per_month
    FROM {{ ref('known_matches') }} AS k
    JOIN {{ ref('matches') }} AS m USING (match_id)
    CROSS JOIN run
),

meetings_in_window AS (
    -- Meetings without a date, or dated outside [matched_on, end], count nowhere.
    SELECT k.match_id, mt.meeting_id, mt.status, mt.meeting_date
    FROM known_matches AS k
    JOIN {{ ref('meetings') }} AS mt
        ON mt.match_id = k.match_id
        AND mt.meeting_date BETWEEN k.matched_on AND k.window_end
),

meeting_counts AS (
    SELECT
        match_id,
        count(*) FILTER (WHERE status = 'completed') AS meetings_held,
        count(*) FILTER (WHERE status = 'cancelled') AS meetings_cancelled,
        count(*) FILTER (WHERE status = 'no_show') AS meetings_no_show,
        min(meeting_date) FILTER (WHERE status = 'completed') AS first_meeting_on,
        max(meeting_date) FILTER (WHERE status = 'completed') AS last_meeting_on
    FROM meetings_in_window
    GROUP BY match_id
),

held_meeting_gaps AS (
    -- Days between consecutive held-meeting dates; two meetings on one day give a gap of 0.
    SELECT
        match_id,
        meeting_date
        - lag(meeting_date) OVER (PARTITION BY match_id ORDER BY meeting_date) AS gap_days
    FROM meetings_in_window
    WHERE status = 'completed'
),

gap_stats AS (
    SELECT
        match_id,
        count(gap_days) AS gap_count,
        quantile_cont(gap_days, 0.5) AS median_gap_days,
        sum(gap_days) AS gap_sum,
        -- n * population variance * n, from exact integer sums: order-independent bits.
        count(gap_days) * sum(gap_days * gap_days) - sum(gap_days) * sum(gap_days) AS gap_spread
    FROM held_meeting_gaps
    GROUP BY match_id
),

measured AS (
    SELECT
        k.*,
        k.window_end - k.matched_on AS active_days,
        coalesce(c.meetings_held, 0) AS meetings_held,
        coalesce(c.meetings_cancelled, 0) AS meetings_cancelled,
        coalesce(c.meetings_no_show, 0) AS meetings_no_show,
        c.first_meeting_on,
        c.last_meeting_on,
        g.gap_count,
        g.median_gap_days,
        g.gap_sum,
        g.gap_spread
    FROM known_matches AS k
    LEFT JOIN meeting_counts AS c USING (match_id)
    LEFT JOIN gap_stats AS g USING (match_id)
),

figures AS (
    SELECT
        m.*,
        CASE
            WHEN m.active_days >= 14
                THEN m.meetings_held / (m.active_days / 30.4375)
        END AS meetings_per_month,
        m.first_meeting_on - m.matched_on AS days_to_first_meeting,
        m.window_end - m.last_meeting_on AS days_since_last_meeting
    FROM measured AS m
)

SELECT
    f.match_id,
    f.program,
    f.cohort,
    f.mentor_key,
    f.mentee_key,
    f.matched_on,
    f.ended_on,
    f.ended_on IS NULL AS is_active,
    f.active_days,
    f.target_per_month,
    f.meetings_held,
    f.meetings_cancelled,
    f.meetings_no_show,
    f.meetings_per_month::DOUBLE AS meetings_per_month,
    -- least() skips NULLs in DuckDB, so the NULL case is spelled out.
    CASE
        WHEN f.meetings_per_month IS NOT NULL
            THEN least(f.meetings_per_month / f.target_per_month, 1.0)
    END::DOUBLE AS cadence_attainment,
    f.first_meeting_on,
    f.days_to_first_meeting,
    f.last_meeting_on,
    f.days_since_last_meeting,
    f.median_gap_days::DOUBLE AS median_gap_days,
    CASE
        -- stddev_pop / mean = sqrt(n*sum(g^2) - sum(g)^2) / sum(g)
        WHEN f.gap_count >= 2 AND f.gap_sum <> 0
            THEN sqrt(f.gap_spread) / f.gap_sum
    END::DOUBLE AS gap_cv,
    (
        f.meetings_cancelled
        / nullif(f.meetings_held + f.meetings_cancelled + f.meetings_no_show, 0)
    )::DOUBLE AS cancellation_rate,
    (f.meetings_no_show / nullif(f.meetings_held + f.meetings_no_show, 0))::DOUBLE AS no_show_rate,
    -- The first rule that applies wins (METRICS.md order).
    {{ cadence_status(
        'f.ended_on IS NOT NULL',
        'f.meetings_held',
        'f.active_days',
        'f.days_since_last_meeting',
        'f.target_per_month',
    ) }} AS status
FROM figures AS f
CROSS JOIN run
ORDER BY f.program, f.cohort, f.match_id
