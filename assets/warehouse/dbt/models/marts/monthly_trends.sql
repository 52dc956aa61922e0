-- History for dashboards (METRICS.md "Trends"): one row per (program, cohort, month_end) for
-- every calendar month end <= D from the month of the program's first matched_on onward, cohort
-- '(all)' included. A month end after D is never a point, and neither is D itself unless it is
-- a month end, so the current partial month has no row yet.
-- Every record is taken as known at D (core is built for D): the figures of a past month are
-- recomputed from today's knowledge, not frozen as they were reported then.
WITH disclosure_input AS (
    WITH response_figures AS (
        -- Kept responses (the latest per survey, respondent and match, as of D) of known matches by
        -- submitted month; satisfaction's figures count only the responses that answer it.
        SELECT
            program,
            {{ rollup_label('cohort') }} AS cohort,
            month_end,
            count(*) AS responses,
            avg(satisfaction) AS satisfaction_mean,
            count(DISTINCT respondent_key) FILTER (WHERE satisfaction IS NOT NULL)
                AS satisfaction_respondents
        FROM (
            SELECT mc.program, mc.cohort, last_day(r.submitted_on) AS month_end,
                r.respondent_key, r.satisfaction
            FROM {{ ref('survey_responses') }} AS r
            JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
        )
        GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
    )

    SELECT
        *,
        -- no role split: rule (1) has nothing to do; rule (2) runs over a program's cohorts per
        -- month. A month of responses without satisfaction (0 respondents) is no group.
        NULL::VARCHAR AS role,
        NULL::VARCHAR AS role_siblings,
        {'program': program, 'month_end': month_end} AS cohort_siblings,
        satisfaction_respondents AS respondents,
        NULL::BOOLEAN AS suppressed
    FROM response_figures
),

disclosure_cells AS ({{ disclosure_control('disclosure_input') }}),

run AS (
    SELECT
        getvariable('as_of') AS as_of,
        getvariable('lapse_days') AS lapse_days,
        getvariable('first_meeting_grace_days') AS grace_days
),

known_matches AS (
    -- match_cadence holds the known matches, their D-capped ended_on and target.
    SELECT
        match_id, program, cohort, matched_on, ended_on, target_per_month,
        coalesce(ended_on, run.as_of) AS window_end
    FROM {{ ref('match_cadence') }}
    CROSS JOIN run
),

program_months AS (
    SELECT p.program, last_day(month_start::DATE) AS month_end
    FROM (
        SELECT program, min(matched_on) AS first_matched_on
        FROM known_matches
        GROUP BY program
    ) AS p
    CROSS JOIN run
    CROSS JOIN LATERAL (
        SELECT unnest(generate_series(
            date_trunc('month', p.first_matched_on), run.as_of, INTERVAL 1 MONTH
        )) AS month_start
    )
    WHERE last_day(month_start::DATE) <= run.as_of
),

grid AS (
    -- Every cohort of the program gets every month of the program, so series line up.
    SELECT cohorts.program, cohorts.cohort, pm.month_end
    FROM (
        SELECT DISTINCT program, cohort FROM known_matches
        UNION ALL
        SELECT DISTINCT program, '(all)' FROM known_matches
    ) AS cohorts
    JOIN program_months AS pm USING (program)
),

held_meetings AS (
    -- Held meetings within their match window as of D (the match_cadence rule).
    SELECT k.match_id, k.program, k.cohort, mt.meeting_date
    FROM known_matches AS k
    JOIN {{ ref('meetings') }} AS mt
        ON mt.match_id = k.match_id
        AND mt.status = 'completed'
        AND mt.meeting_date BETWEEN k.matched_on AND k.window_end
),

-- Status of each match at each month end M, by the match_cadence rules with M in place of D:
-- known when matched_on <= M, ended when ended_on <= M, end = least(ended_on, M).
matches_at_month_end AS (
    SELECT
        k.match_id,
        k.program,
        k.cohort,
        pm.month_end,
        k.target_per_month,
        k.ended_on IS NULL OR k.ended_on > pm.month_end AS is_active,
        {{ match_window_end('k.ended_on', 'pm.month_end') }} AS month_window_end,
        k.matched_on
    FROM known_matches AS k
    JOIN program_months AS pm
        ON pm.program = k.program
        AND k.matched_on <= pm.month_end
),

meetings_by_month_end AS (
    SELECT
        m.match_id,
        m.month_end,
        count(h.meeting_date) AS meetings_held,
        max(h.meeting_date) AS last_meeting_on
    FROM matches_at_month_end AS m
    LEFT JOIN held_meetings AS h
        ON h.match_id = m.match_id
        AND h.meeting_date BETWEEN m.matched_on AND m.month_window_end
    GROUP BY m.match_id, m.month_end
),

status_at_month_end AS (
    SELECT
        m.program,
        m.cohort,
        m.month_end,
        m.is_active,
        {{ cadence_status(
            'NOT m.is_active',
            'c.meetings_held',
            'm.month_window_end - m.matched_on',
            'm.month_window_end - c.last_meeting_on',
            'm.target_per_month',
        ) }} AS status
    FROM matches_at_month_end AS m
    JOIN meetings_by_month_end AS c USING (match_id, month_end)
    CROSS JOIN run
),

match_figures AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        month_end,
        count(*) FILTER (WHERE is_active) AS active_matches,
        count(*) FILTER (WHERE status = 'on_track')
        / nullif(count(*) FILTER (WHERE is_active AND status <> 'too_early'), 0)
            AS on_track_share
    FROM status_at_month_end
    GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
),

meeting_figures AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        month_end,
        count(*) AS meetings_held
    FROM (SELECT program, cohort, last_day(meeting_date) AS month_end FROM held_meetings)
    GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
),

goal_events AS (
    -- A goal counts as set in the month of set_on and as achieved in the month of achieved_on.
    SELECT program, cohort, last_day(set_on) AS month_end, 1 AS set_count, 0 AS achieved_count
    FROM {{ ref('goal_status') }}
    UNION ALL
    SELECT program, cohort, last_day(achieved_on), 0, 1
    FROM {{ ref('goal_status') }}
    WHERE achieved_on IS NOT NULL
),

goal_figures AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        month_end,
        sum(set_count) AS goals_set,
        sum(achieved_count) AS goals_achieved
    FROM goal_events
    GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
)

SELECT
    g.program,
    g.cohort,
    g.month_end,
    coalesce(mf.active_matches, 0) AS active_matches,
    coalesce(me.meetings_held, 0) AS meetings_held,
    mf.on_track_share::DOUBLE AS on_track_share,
    coalesce(gf.goals_set, 0)::BIGINT AS goals_set,
    coalesce(gf.goals_achieved, 0)::BIGINT AS goals_achieved,
    coalesce(rf.responses, 0) AS responses,
    coalesce(rf.satisfaction_respondents, 0) AS satisfaction_respondents,
    CASE WHEN NOT rf.suppressed THEN rf.satisfaction_mean END::DOUBLE AS satisfaction_mean
FROM grid AS g
LEFT JOIN match_figures AS mf USING (program, cohort, month_end)
LEFT JOIN meeting_figures AS me USING (program, cohort, month_end)
LEFT JOIN goal_figures AS gf USING (program, cohort, month_end)
LEFT JOIN disclosure_cells AS rf USING (program, cohort, month_end)
ORDER BY g.program, g.cohort, g.month_end
