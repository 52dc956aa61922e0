-- Early-warning snapshots (docs/model_card.md): one row per (snapshot_on, match) where
-- snapshot_on is every month end m <= D - horizon, and D itself (the matches to score), for
-- every match active at m. Features use only what was recorded by m: meeting and goal events
-- whose occurred_at local date is <= m, as core.meeting_states / core.goal_states hold them
-- (the fold as it stood at the end of each day). The roster is
-- read as it stands: an ended_on after m was not known at m, so such a match is active at m
-- (a roster row replaced later cannot be undone; docs/model_card.md, limits).
-- The label looks forward from m with what D knows: closes early (METRICS.md, Outcomes) or
-- holds no meeting within (m, m + horizon]; a match ending `completed` in it is a negative.
-- Read by the early warning (assets/warehouse/early_warning.py); never published.
WITH run AS (
    SELECT
        getvariable('as_of') AS as_of,
        getvariable('timezone') AS tz,
        getvariable('lapse_days') AS lapse_days,
        getvariable('first_meeting_grace_days') AS grace_days,
        getvariable('default_target_per_month') AS default_target,
        {{ var('risk_horizon_days') }} AS horizon
),

calendar AS (
    SELECT DISTINCT snapshot_on
    FROM (
        SELECT last_day(unnest(generate_series(
            date_trunc('month', (SELECT min(matched_on) FROM {{ ref('matches') }}))::TIMESTAMP,
            run.as_of::TIMESTAMP,
            INTERVAL 1 MONTH
        )))::DATE AS snapshot_on
        FROM run
    ) AS month_ends
    CROSS JOIN run
    WHERE snapshot_on <= run.as_of - run.horizon
    UNION
    SELECT as_of FROM run
),

active_all AS (
    -- Known at m and not ended by m (an ending dated after m was not known at m).
    SELECT
        c.snapshot_on,
        m.match_id,
        m.program,
        m.cohort,
        m.mentor_key,
        m.mentee_key,
        m.matched_on,
        m.ended_on AS roster_ended_on,
        m.end_reason,
        coalesce(m.target_meetings_per_month, run.default_target)::DOUBLE AS target_per_month,
        c.snapshot_on - m.matched_on AS active_days,
        count(*) OVER (PARTITION BY c.snapshot_on, m.mentor_key) AS mentor_load
    FROM calendar AS c
    JOIN {{ ref('matches') }} AS m
        ON m.matched_on <= c.snapshot_on
        AND (m.ended_on IS NULL OR m.ended_on > c.snapshot_on)
    CROSS JOIN run
),

snapshot_matches AS (
    -- Past its first weeks (matched at least the grace days before m); at D every active
    -- match is kept (the young ones are listed, not scored).
    SELECT a.*
    FROM active_all AS a
    CROSS JOIN run
    WHERE a.snapshot_on = run.as_of OR a.active_days >= run.grace_days
),

meetings_at AS (
    -- Only the meetings of the snapshots' matches, as each stood at its month end (a meeting
    -- of a match ended by m is never read at m).
    SELECT
        c.snapshot_on,
        s.meeting_id,
        s.match_id,
        -- a calendar meeting still scheduled counts as held once its end has passed by m
        {{ meeting_status_at(
            's.event_type', 's.from_calendar', 's.scheduled_start', 's.duration_minutes',
            'c.snapshot_on',
        ) }} AS status,
        CAST(timezone(run.tz, s.scheduled_start) AS DATE) AS meeting_date,
        s.from_calendar
    FROM (SELECT DISTINCT snapshot_on, match_id FROM snapshot_matches) AS c
    JOIN {{ ref('meeting_states') }} AS s
        ON s.match_id = c.match_id
        AND s.seen_on <= c.snapshot_on
        AND c.snapshot_on < s.next_seen_on
    CROSS JOIN run
),

window_meetings AS (
    -- As core.meetings and match_cadence: the log wins over a calendar on the same date;
    -- meetings without a date, or dated outside [matched_on, m], count nowhere.
    SELECT
        k.snapshot_on,
        k.match_id,
        f.meeting_id,
        f.status,
        f.meeting_date,
        CASE
            WHEN f.status IN ('completed', 'cancelled', 'no_show')
                THEN row_number() OVER (
                    PARTITION BY
                        k.snapshot_on, k.match_id, f.status IN ('completed', 'cancelled', 'no_show')
                    ORDER BY f.meeting_date DESC, f.meeting_id DESC
                )
        END AS nth_latest_outcome
    FROM snapshot_matches AS k
    JOIN meetings_at AS f
        ON f.snapshot_on = k.snapshot_on
        AND f.match_id = k.match_id
        AND f.meeting_date BETWEEN k.matched_on AND k.snapshot_on
    WHERE NOT {{ logged_in_calendar_and_log(
        'meetings_at', 'f', ['snapshot_on', 'match_id', 'meeting_date']
    ) }}
),

meeting_counts AS (
    SELECT
        snapshot_on,
        match_id,
        count(*) FILTER (WHERE status = 'completed') AS meetings_held,
        count(*) FILTER (WHERE status = 'cancelled') AS meetings_cancelled,
        count(*) FILTER (WHERE status = 'no_show') AS meetings_no_show,
        count(*) FILTER (WHERE status = 'completed' AND meeting_date > snapshot_on - 30)
            AS held_last_30d,
        count(*) FILTER (WHERE status = 'completed' AND meeting_date > snapshot_on - 90)
            AS held_last_90d,
        count(*) FILTER (WHERE nth_latest_outcome <= 5) AS last5_meetings,
        count(*) FILTER (WHERE nth_latest_outcome <= 5 AND status = 'cancelled')
            AS last5_cancelled,
        count(*) FILTER (WHERE nth_latest_outcome <= 5 AND status = 'no_show') AS last5_no_show,
        count(*) FILTER (WHERE nth_latest_outcome <= 5 AND status IN ('completed', 'no_show'))
            AS last5_held_or_no_show,
        min(meeting_date) FILTER (WHERE status = 'completed') AS first_meeting_on,
        max(meeting_date) FILTER (WHERE status = 'completed') AS last_meeting_on
    FROM window_meetings
    GROUP BY snapshot_on, match_id
),

held_meeting_gaps AS (
    SELECT
        snapshot_on,
        match_id,
        meeting_date - lag(meeting_date) OVER (
            PARTITION BY snapshot_on, match_id ORDER BY meeting_date
        ) AS gap_days
    FROM window_meetings
    WHERE status = 'completed'
),

gap_stats AS (
    SELECT
        snapshot_on,
        match_id,
        count(gap_days) AS gap_count,
        quantile_cont(gap_days, 0.5) AS median_gap_days,
        sum(gap_days) AS gap_sum,
        count(gap_days) * sum(gap_days * gap_days) - sum(gap_days) * sum(gap_days) AS gap_spread
    FROM held_meeting_gaps
    GROUP BY snapshot_on, match_id
),

goal_counts AS (
    -- goal_status as of m: overdue when open with a target date before m.
    SELECT
        k.snapshot_on,
        k.match_id,
        count(*) AS goals_set,
        count(*) FILTER (WHERE g.status = 'achieved') AS goals_achieved,
        count(*) FILTER (WHERE g.status = 'open' AND g.target_date < k.snapshot_on)
            AS goals_overdue,
        -- in a fixed order: the same bits whatever order the rows arrive in
        avg(g.progress_pct ORDER BY g.goal_id) AS goal_progress_mean
    FROM snapshot_matches AS k
    JOIN {{ ref('goal_states') }} AS g
        ON g.match_id = k.match_id
        AND g.seen_on <= k.snapshot_on
        AND k.snapshot_on < g.next_seen_on
    GROUP BY k.snapshot_on, k.match_id
),

people AS (
    SELECT
        participant_key,
        nullif(trim(department), '') AS department,
        nullif(trim(location), '') AS location
    FROM {{ ref('participants') }}
),

measured AS (
    SELECT
        k.*,
        coalesce(c.meetings_held, 0) AS meetings_held,
        coalesce(c.meetings_cancelled, 0) AS meetings_cancelled,
        coalesce(c.meetings_no_show, 0) AS meetings_no_show,
        coalesce(c.held_last_30d, 0) AS held_last_30d,
        coalesce(c.held_last_90d, 0) AS held_last_90d,
        coalesce(c.last5_meetings, 0) AS last5_meetings,
        coalesce(c.last5_cancelled, 0) AS last5_cancelled,
        coalesce(c.last5_no_show, 0) AS last5_no_show,
        coalesce(c.last5_held_or_no_show, 0) AS last5_held_or_no_show,
        c.first_meeting_on - k.matched_on AS days_to_first_meeting,
        k.snapshot_on - c.last_meeting_on AS days_since_last_meeting,
        g.median_gap_days::DOUBLE AS median_gap_days,
        CASE
            WHEN g.gap_count >= 2 AND g.gap_sum <> 0 THEN sqrt(g.gap_spread) / g.gap_sum
        END::DOUBLE AS gap_cv,
        coalesce(gc.goals_set, 0) AS goals_set,
        coalesce(gc.goals_achieved, 0) AS goals_achieved,
        coalesce(gc.goals_overdue, 0) AS goals_overdue,
        gc.goal_progress_mean::DOUBLE AS goal_progress_mean,
        -- unknown (a blank or a missing participants row) counts as not the same
        coalesce(mentor.department = mentee.department, false) AS same_department,
        coalesce(mentor.location = mentee.location, false) AS same_location
    FROM snapshot_matches AS k
    LEFT JOIN meeting_counts AS c USING (snapshot_on, match_id)
    LEFT JOIN gap_stats AS g USING (snapshot_on, match_id)
    LEFT JOIN goal_counts AS gc USING (snapshot_on, match_id)
    LEFT JOIN people AS mentor ON mentor.participant_key = k.mentor_key
    LEFT JOIN people AS mentee ON mentee.participant_key = k.mentee_key
),

rated AS (
    SELECT
        m.*,
        CASE
            WHEN m.active_days >= 14 THEN m.meetings_held / (m.active_days / 30.4375)
        END / m.target_per_month AS cadence_ratio,
        (m.meetings_cancelled / nullif(m.meetings_held + m.meetings_cancelled + m.meetings_no_show, 0))
            ::DOUBLE AS cancellation_rate,
        (m.meetings_no_show / nullif(m.meetings_held + m.meetings_no_show, 0))::DOUBLE
            AS no_show_rate,
        (m.last5_cancelled / nullif(m.last5_meetings, 0))::DOUBLE AS last5_cancellation_rate,
        (m.last5_no_show / nullif(m.last5_held_or_no_show, 0))::DOUBLE AS last5_no_show_rate
    FROM measured AS m
),

labelled AS (
    SELECT
        r.snapshot_on,
        r.match_id,
        r.snapshot_on + run.horizon <= run.as_of AS label_known,
        r.roster_ended_on <= r.snapshot_on + run.horizon
            AND r.end_reason IS DISTINCT FROM 'completed' AS closes_early,
        r.roster_ended_on <= r.snapshot_on + run.horizon
            AND r.end_reason IS NOT DISTINCT FROM 'completed' AS ends_completed,
        EXISTS (
            SELECT 1
            FROM {{ ref('meetings') }} AS later
            WHERE later.match_id = r.match_id
                AND later.status = 'completed'
                AND later.meeting_date > r.snapshot_on
                AND later.meeting_date
                <= least(r.snapshot_on + run.horizon, coalesce(r.roster_ended_on, r.snapshot_on + run.horizon))
        ) AS meets_later
    FROM rated AS r
    CROSS JOIN run
)

SELECT
    r.snapshot_on,
    r.match_id,
    r.program,
    r.cohort,
    r.mentor_key,
    r.mentee_key,
    r.matched_on,
    r.active_days,
    r.target_per_month,
    r.meetings_held,
    r.meetings_cancelled,
    r.meetings_no_show,
    r.held_last_30d,
    r.held_last_90d,
    r.last5_meetings,
    r.last5_cancelled,
    r.last5_no_show,
    r.days_since_last_meeting,
    r.days_to_first_meeting,
    -- least() skips NULLs in DuckDB, so the NULL case is spelled out (as in match_cadence).
    CASE WHEN r.cadence_ratio IS NOT NULL THEN least(r.cadence_ratio, 1.0) END::DOUBLE
        AS cadence_attainment,
    r.cancellation_rate,
    r.no_show_rate,
    r.median_gap_days,
    r.gap_cv,
    r.goals_set,
    r.goals_achieved,
    r.goals_overdue,
    r.goal_progress_mean,
    r.mentor_load,
    r.same_department,
    r.same_location,
    r.active_days >= run.grace_days AS past_first_weeks,
    -- match_cadence's status rules, applied at m
    {{ cadence_status(
        'false',
        'r.meetings_held',
        'r.active_days',
        'r.days_since_last_meeting',
        'r.target_per_month',
    ) }} AS rule_status,
    -- the model's inputs: every one defined for every row (docs/model_card.md, features)
    coalesce(r.days_since_last_meeting, r.active_days)::DOUBLE AS f_days_without_meeting,
    (r.meetings_held = 0)::DOUBLE AS f_never_met,
    (r.held_last_30d / (r.target_per_month * 30 / 30.4375))::DOUBLE AS f_held_30d_vs_target,
    (r.held_last_90d / (r.target_per_month * 90 / 30.4375))::DOUBLE AS f_held_90d_vs_target,
    CASE WHEN r.cadence_ratio IS NOT NULL THEN least(r.cadence_ratio, 1.0) ELSE 0 END::DOUBLE
        AS f_cadence_attainment,
    coalesce(r.cancellation_rate, 0)::DOUBLE AS f_cancellation_rate,
    coalesce(r.last5_cancellation_rate - r.cancellation_rate, 0)::DOUBLE
        AS f_cancellation_rate_change,
    coalesce(r.no_show_rate, 0)::DOUBLE AS f_no_show_rate,
    coalesce(r.last5_no_show_rate - r.no_show_rate, 0)::DOUBLE AS f_no_show_rate_change,
    coalesce(r.gap_cv, 0)::DOUBLE AS f_gap_cv,
    coalesce(r.days_to_first_meeting, r.active_days)::DOUBLE AS f_days_to_first_meeting,
    r.goals_set::DOUBLE AS f_goals_set,
    r.goals_overdue::DOUBLE AS f_goals_overdue,
    coalesce(r.goal_progress_mean, 0)::DOUBLE AS f_goal_progress,
    r.mentor_load::DOUBLE AS f_mentor_load,
    r.same_department::DOUBLE AS f_same_department,
    r.same_location::DOUBLE AS f_same_location,
    (r.active_days / 30.4375)::DOUBLE AS f_months_active,
    r.target_per_month AS f_target_per_month,
    l.label_known,
    CASE
        WHEN l.label_known THEN coalesce(l.closes_early, false)
            OR (NOT coalesce(l.ends_completed, false) AND NOT l.meets_later)
    END AS label
FROM rated AS r
JOIN labelled AS l USING (snapshot_on, match_id)
CROSS JOIN run
ORDER BY r.snapshot_on, r.match_id
