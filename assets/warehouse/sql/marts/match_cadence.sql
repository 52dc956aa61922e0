-- One row per known match (matched_on <= D): how often the pair meets, as of D.
-- The meeting fold (status, date, owning match) is done in core; this file applies the window,
-- the cadence figures and the status rules of METRICS.md.
CREATE OR REPLACE TABLE marts.match_cadence AS
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
        CASE WHEN m.ended_on <= run.as_of THEN m.ended_on ELSE run.as_of END AS window_end,
        coalesce(m.target_meetings_per_month, run.default_target)::DOUBLE AS target_per_month
    FROM core.known_matches AS k
    JOIN core.matches AS m USING (match_id)
    CROSS JOIN run
),

meetings_in_window AS (
    -- Meetings without a date, or dated outside [matched_on, end], count nowhere.
    SELECT k.match_id, mt.meeting_id, mt.status, mt.meeting_date
    FROM known_matches AS k
    JOIN core.meetings AS mt
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
    CASE
        WHEN f.ended_on IS NOT NULL THEN 'ended'
        WHEN f.meetings_held = 0 AND f.active_days < run.grace_days THEN 'too_early'
        WHEN f.meetings_held = 0 THEN 'not_started'
        WHEN f.days_since_last_meeting > run.lapse_days THEN 'lapsed'
        WHEN f.days_since_last_meeting::DOUBLE > 2 * 30.4375 / f.target_per_month THEN 'at_risk'
        ELSE 'on_track'
    END AS status
FROM figures AS f
CROSS JOIN run
ORDER BY f.program, f.cohort, f.match_id;

COMMENT ON TABLE marts.match_cadence IS 'One row per known match (roster match with matched_on <= as-of date D): meeting cadence and status as of D. A meeting counts when its date is in the window [matched_on, end], end = ended_on if <= D else D.';
COMMENT ON COLUMN marts.match_cadence.match_id IS 'Match identifier from the roster.';
COMMENT ON COLUMN marts.match_cadence.program IS 'Mentoring program of the match.';
COMMENT ON COLUMN marts.match_cadence.cohort IS 'Cohort of the match within its program.';
COMMENT ON COLUMN marts.match_cadence.mentor_key IS 'Pseudonymous key of the mentor.';
COMMENT ON COLUMN marts.match_cadence.mentee_key IS 'Pseudonymous key of the mentee.';
COMMENT ON COLUMN marts.match_cadence.matched_on IS 'Date the match started.';
COMMENT ON COLUMN marts.match_cadence.ended_on IS 'Roster end date when it is on or before D; NULL otherwise (an ending dated after D has not happened yet).';
COMMENT ON COLUMN marts.match_cadence.is_active IS 'True when ended_on is NULL, i.e. the match has not ended by D.';
COMMENT ON COLUMN marts.match_cadence.active_days IS 'Days from matched_on to end (ended_on if on or before D, else D).';
COMMENT ON COLUMN marts.match_cadence.target_per_month IS 'Meetings a month expected: the roster target of the match, else the default setting.';
COMMENT ON COLUMN marts.match_cadence.meetings_held IS 'Completed meetings dated within the match window.';
COMMENT ON COLUMN marts.match_cadence.meetings_cancelled IS 'Cancelled meetings dated within the match window.';
COMMENT ON COLUMN marts.match_cadence.meetings_no_show IS 'No-show meetings dated within the match window.';
COMMENT ON COLUMN marts.match_cadence.meetings_per_month IS 'meetings_held / (active_days / 30.4375); NULL when active_days < 14.';
COMMENT ON COLUMN marts.match_cadence.cadence_attainment IS 'least(meetings_per_month / target_per_month, 1); NULL when meetings_per_month is NULL.';
COMMENT ON COLUMN marts.match_cadence.first_meeting_on IS 'Date of the first held meeting in the window; NULL when none.';
COMMENT ON COLUMN marts.match_cadence.days_to_first_meeting IS 'first_meeting_on - matched_on, in days.';
COMMENT ON COLUMN marts.match_cadence.last_meeting_on IS 'Date of the last held meeting in the window; NULL when none.';
COMMENT ON COLUMN marts.match_cadence.days_since_last_meeting IS 'end - last_meeting_on, in days; NULL when no meeting was held.';
COMMENT ON COLUMN marts.match_cadence.median_gap_days IS 'Continuous median of the day gaps between consecutive held-meeting dates (same-day meetings give 0); NULL with fewer than 2 held meetings.';
COMMENT ON COLUMN marts.match_cadence.gap_cv IS 'Population standard deviation of the gaps divided by their mean; NULL with fewer than 2 gaps or a mean of 0.';
COMMENT ON COLUMN marts.match_cadence.cancellation_rate IS 'cancelled / (held + cancelled + no_show); NULL when that sum is 0.';
COMMENT ON COLUMN marts.match_cadence.no_show_rate IS 'no_show / (held + no_show); NULL when that sum is 0.';
COMMENT ON COLUMN marts.match_cadence.status IS 'First that applies: ended (not active); too_early (no held meeting, active_days < grace days); not_started (no held meeting); lapsed (days_since_last_meeting > lapse days); at_risk (days_since_last_meeting > 2 x 30.4375 / target_per_month); on_track.';
