-- Program health evaluated as of each month end (docs/dashboards.md): one row per (program,
-- cohort, month) from the month of the program's first matched_on through the month of D,
-- cohort '(all)' included. A month is evaluated on E = least(month_end, D), so the month of D
-- is the current partial month (is_partial) and its figures are those of program_health.
-- The definitions are program_health's and match_cadence's with E in place of D; every record
-- is taken as known at D (core is built for D), as in monthly_trends.
WITH program_health_months AS (
    WITH run AS (SELECT getvariable('as_of') AS as_of)
    SELECT
        p.program,
        last_day(month_start::DATE) AS month_end,
        least(last_day(month_start::DATE), run.as_of) AS evaluated_on
    FROM (
        SELECT program, min(matched_on) AS first_matched_on
        FROM {{ ref('match_cadence') }}
        GROUP BY program
    ) AS p
    CROSS JOIN run
    CROSS JOIN LATERAL (
        SELECT unnest(generate_series(
            date_trunc('month', p.first_matched_on), run.as_of, INTERVAL 1 MONTH
        )) AS month_start
    )
),

-- Satisfaction over (E - 90, E] per group and month, suppressed by the shared disclosure-control
-- rule with the cohorts of one program and month as siblings (program_health's rule).
disclosure_input AS (
    WITH recent AS (
        SELECT
            m.program,
            {{ rollup_label('mc.cohort') }} AS cohort,
            m.month_end,
            avg(r.satisfaction) AS satisfaction_mean,
            count(DISTINCT r.respondent_key) AS respondents
        FROM {{ ref('survey_responses') }} AS r
        JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
        JOIN program_health_months AS m
            ON m.program = mc.program
            AND r.submitted_on > m.evaluated_on - 90
            AND r.submitted_on <= m.evaluated_on
        WHERE r.satisfaction IS NOT NULL
        GROUP BY GROUPING SETS ((m.program, mc.cohort, m.month_end), (m.program, m.month_end))
    )
    SELECT
        *,
        NULL::VARCHAR AS role,  -- no role split: rule (1) of the shared rule never applies
        {'program': program, 'cohort': cohort, 'month_end': month_end} AS role_siblings,
        {'program': program, 'month_end': month_end} AS cohort_siblings,
        NULL::BOOLEAN AS suppressed
    FROM recent
),

disclosure_cells AS ({{ disclosure_control('disclosure_input') }}),

run AS (
    SELECT
        getvariable('as_of') AS as_of,
        getvariable('min_group_size') AS k,
        getvariable('lapse_days') AS lapse_days,
        getvariable('first_meeting_grace_days') AS grace_days,
        getvariable('timezone') AS timezone
),

groups AS (
    -- Every cohort of the program gets every month of the program, so series line up.
    SELECT DISTINCT program, cohort FROM {{ ref('match_cadence') }}
    UNION ALL
    SELECT DISTINCT program, '(all)' FROM {{ ref('match_cadence') }}
),

held_meetings AS (
    SELECT mc.match_id, mt.meeting_date
    FROM {{ ref('match_cadence') }} AS mc
    CROSS JOIN run
    JOIN {{ ref('meetings') }} AS mt
        ON mt.match_id = mc.match_id
        AND mt.status = 'completed'
        AND mt.meeting_date BETWEEN mc.matched_on AND coalesce(mc.ended_on, run.as_of)
),

-- Each match known at E, with its window end least(ended_on, E) and its held meetings by then:
-- meetings counted per month, then summed over the months up to E (held meetings lie in the
-- match window, so none after ended_on or D is counted).
meetings_by_month AS (
    SELECT match_id, last_day(meeting_date) AS month_end, count(*) AS held, max(meeting_date) AS last_on
    FROM held_meetings
    GROUP BY match_id, last_day(meeting_date)
),

early_goals AS (
    -- Matches with a goal set within 30 days of matching (goal coverage).
    SELECT DISTINCT g.match_id
    FROM {{ ref('goal_status') }} AS g
    JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
    WHERE g.set_on <= mc.matched_on + 30
),

cadence_at AS (
    SELECT
        mc.match_id, mc.program, mc.cohort, mc.matched_on, mc.target_per_month,
        m.month_end, m.evaluated_on,
        mc.ended_on IS NULL OR mc.ended_on > m.evaluated_on AS is_active,
        {{ match_window_end('mc.ended_on', 'm.evaluated_on') }}
            AS window_end,
        eg.match_id IS NOT NULL AS has_early_goal,
        coalesce(sum(mm.held) OVER by_month, 0) AS meetings_held,
        max(mm.last_on) OVER by_month AS last_meeting_on
    FROM {{ ref('match_cadence') }} AS mc
    JOIN program_health_months AS m ON m.program = mc.program AND mc.matched_on <= m.evaluated_on
    LEFT JOIN meetings_by_month AS mm ON mm.match_id = mc.match_id AND mm.month_end = m.month_end
    LEFT JOIN early_goals AS eg ON eg.match_id = mc.match_id
    WINDOW by_month AS (PARTITION BY mc.match_id ORDER BY m.month_end)
),

status_at AS (
    SELECT
        c.*,
        c.window_end - c.matched_on AS active_days,
        CASE WHEN c.window_end - c.matched_on >= 14
            THEN c.meetings_held / ((c.window_end - c.matched_on) / 30.4375)
        END
            AS meetings_per_month,
        {{ cadence_status(
            'NOT c.is_active',
            'c.meetings_held',
            'c.window_end - c.matched_on',
            'c.window_end - c.last_meeting_on',
            'c.target_per_month',
        ) }} AS status
    FROM cadence_at AS c
    CROSS JOIN run
),

cadence AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        month_end,
        count(*) FILTER (WHERE is_active) AS active_matches,
        count(*) FILTER (WHERE status = 'on_track')
        / nullif(count(*) FILTER (WHERE is_active AND status <> 'too_early'), 0)
            AS on_track_share,
        count(*) FILTER (WHERE status IN ('not_started', 'lapsed', 'at_risk'))
            AS pairs_needing_attention,
        -- means of doubles over a sorted list: the same bits whatever the arrival order
        list_avg(list_sort(list(meetings_per_month) FILTER (WHERE is_active)))
            AS meetings_per_month,
        list_avg(list_sort(
            list(target_per_month) FILTER (WHERE is_active AND meetings_per_month IS NOT NULL)
        )) AS target_per_month,
        -- goal coverage: matches matched by E - 30 with a goal set within 30 days of matching
        avg(CASE WHEN has_early_goal THEN 1.0 ELSE 0.0 END)
            FILTER (WHERE matched_on <= evaluated_on - 30) AS goal_coverage
    FROM status_at
    GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
),

-- Goal status at E: achieved when achieved_on <= E, abandoned when abandoned (its last event)
-- by E, else open; overdue when open with a target date before E. The local date of the last
-- event is worked out once per goal, not once per goal and month.
goal_dates AS (
    SELECT
        g.program, g.cohort, g.set_on, g.achieved_on, g.status, g.target_date, mc.matched_on,
        CAST(timezone(run.timezone, cg.last_event_at) AS DATE) AS last_event_on
    FROM {{ ref('goal_status') }} AS g
    JOIN {{ ref('goals') }} AS cg USING (goal_id)
    JOIN {{ ref('match_cadence') }} AS mc ON mc.match_id = g.match_id
    CROSS JOIN run
),

goals_at AS (
    SELECT
        g.program, g.cohort, m.month_end,
        coalesce(g.achieved_on <= m.evaluated_on, false) AS achieved,
        g.status = 'abandoned' AND g.last_event_on <= m.evaluated_on AS abandoned,
        g.target_date, m.evaluated_on
    FROM goal_dates AS g
    JOIN program_health_months AS m
        ON m.program = g.program
        AND g.set_on <= m.evaluated_on
        AND g.matched_on <= m.evaluated_on
),

goals AS (
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        month_end,
        count(*) FILTER (WHERE NOT achieved AND NOT abandoned AND target_date < evaluated_on)
            AS goals_overdue,
        count(*) FILTER (WHERE achieved)
        / nullif(count(*) FILTER (
            WHERE achieved OR abandoned OR target_date < evaluated_on
        ), 0) AS goal_attainment_rate
    FROM goals_at
    GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
),

satisfaction AS (
    SELECT program, cohort, month_end, respondents AS satisfaction_respondents,
        CASE WHEN NOT suppressed THEN satisfaction_mean END AS satisfaction_mean
    FROM disclosure_cells
),

answered_invitations AS ({{ answered_invitations() }})
,

-- Invitations counted per day first: each month's 90 days then sum a few hundred rows.
invitations_by_day AS (
    SELECT
        program,
        cohort,
        sent_on,
        count(*) AS invited,
        count(*) FILTER (WHERE responded) AS responded
    FROM answered_invitations
    GROUP BY program, cohort, sent_on
),

engagement AS (
    SELECT
        i.program,
        {{ rollup_label('i.cohort') }} AS cohort,
        m.month_end,
        sum(i.responded)::BIGINT / sum(i.invited)::BIGINT AS response_rate_90d
    FROM invitations_by_day AS i
    JOIN program_health_months AS m
        ON m.program = i.program
        AND i.sent_on > m.evaluated_on - 90
        AND i.sent_on <= m.evaluated_on
    GROUP BY GROUPING SETS ((i.program, i.cohort, m.month_end), (i.program, m.month_end))
),

meetings_in_month AS (
    SELECT
        mc.program,
        {{ rollup_label('mc.cohort') }} AS cohort,
        last_day(h.meeting_date) AS month_end,
        count(*) AS meetings_held
    FROM held_meetings AS h
    JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
    GROUP BY GROUPING SETS ((mc.program, mc.cohort, last_day(h.meeting_date)),
        (mc.program, last_day(h.meeting_date)))
),

goals_in_month AS (
    -- Goals set, and goals achieved (as of D), in the month up to E.
    SELECT
        program,
        {{ rollup_label('cohort') }} AS cohort,
        month_end,
        sum(is_set) AS goals_set,
        sum(is_achieved) AS goals_achieved
    FROM (
        SELECT program, cohort, last_day(set_on) AS month_end, 1 AS is_set, 0 AS is_achieved
        FROM {{ ref('goal_status') }}
        UNION ALL
        SELECT program, cohort, last_day(achieved_on), 0, 1
        FROM {{ ref('goal_status') }}
        WHERE achieved_on IS NOT NULL
    )
    GROUP BY GROUPING SETS ((program, cohort, month_end), (program, month_end))
),

responses_in_month AS (
    SELECT
        mc.program,
        {{ rollup_label('mc.cohort') }} AS cohort,
        last_day(r.submitted_on) AS month_end,
        count(*) AS responses
    FROM {{ ref('survey_responses') }} AS r
    JOIN {{ ref('match_cadence') }} AS mc USING (match_id)
    GROUP BY GROUPING SETS ((mc.program, mc.cohort, last_day(r.submitted_on)),
        (mc.program, last_day(r.submitted_on)))
),

components AS (
    SELECT
        gr.program,
        gr.cohort,
        m.month_end,
        m.evaluated_on,
        m.month_end > m.evaluated_on AS is_partial,
        coalesce(c.active_matches, 0) AS active_matches,
        c.on_track_share::DOUBLE AS on_track_share,
        coalesce(c.pairs_needing_attention, 0) AS pairs_needing_attention,
        c.meetings_per_month::DOUBLE AS meetings_per_month,
        c.target_per_month::DOUBLE AS target_per_month,
        coalesce(mm.meetings_held, 0) AS meetings_held,
        coalesce(gm.goals_set, 0)::BIGINT AS goals_set,
        coalesce(gm.goals_achieved, 0)::BIGINT AS goals_achieved,
        coalesce(rm.responses, 0) AS responses,
        coalesce(g.goals_overdue, 0) AS goals_overdue,
        g.goal_attainment_rate::DOUBLE AS goal_attainment_rate,
        c.goal_coverage::DOUBLE AS goal_coverage,
        coalesce(s.satisfaction_respondents, 0) AS satisfaction_respondents,
        s.satisfaction_mean::DOUBLE AS satisfaction_mean,
        e.response_rate_90d::DOUBLE AS response_rate_90d
    FROM groups AS gr
    JOIN program_health_months AS m USING (program)
    LEFT JOIN cadence AS c USING (program, cohort, month_end)
    LEFT JOIN goals AS g USING (program, cohort, month_end)
    LEFT JOIN satisfaction AS s USING (program, cohort, month_end)
    LEFT JOIN engagement AS e USING (program, cohort, month_end)
    LEFT JOIN meetings_in_month AS mm USING (program, cohort, month_end)
    LEFT JOIN goals_in_month AS gm USING (program, cohort, month_end)
    LEFT JOIN responses_in_month AS rm USING (program, cohort, month_end)
),

scored AS (
    SELECT
        *,
        (on_track_share IS NOT NULL)::INTEGER + (goal_attainment_rate IS NOT NULL)::INTEGER
        + (satisfaction_mean IS NOT NULL)::INTEGER + (response_rate_90d IS NOT NULL)::INTEGER
            AS health_parts,
        (100 * (
            coalesce(0.35::DOUBLE * on_track_share, 0)
            + coalesce(0.25::DOUBLE * goal_attainment_rate, 0)
            + coalesce(0.25::DOUBLE * (satisfaction_mean - 1) / 4, 0)
            + coalesce(0.15::DOUBLE * response_rate_90d, 0)
        ) / nullif(
            CASE WHEN on_track_share IS NULL THEN 0 ELSE 0.35::DOUBLE END
            + CASE WHEN goal_attainment_rate IS NULL THEN 0 ELSE 0.25::DOUBLE END
            + CASE WHEN satisfaction_mean IS NULL THEN 0 ELSE 0.25::DOUBLE END
            + CASE WHEN response_rate_90d IS NULL THEN 0 ELSE 0.15::DOUBLE END, 0
        ))::DOUBLE AS health_score
    FROM components
)

SELECT
    *,
    CASE
        WHEN health_score >= 75 THEN 'green'
        WHEN health_score >= 60 THEN 'amber'
        WHEN health_score IS NOT NULL THEN 'red'
    END AS health_band
FROM scored
ORDER BY program, cohort, month_end
