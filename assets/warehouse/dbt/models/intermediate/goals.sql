-- The goal fold: events seen by D in event order (occurred_at, then event_id). The goal
-- belongs to the match of its first event; its definition comes from the last `set` event.
WITH seen AS (
    SELECT *, CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) AS occurred_on
    FROM {{ source('staging', 'goals') }}
    WHERE CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) <= getvariable('as_of')
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY goal_id ORDER BY occurred_at, event_id) AS nth_event,
        row_number() OVER (PARTITION BY goal_id ORDER BY occurred_at DESC, event_id DESC) AS nth_from_last,
        row_number() OVER (
            PARTITION BY goal_id, event_type ORDER BY occurred_at, event_id
        ) AS nth_of_type,
        row_number() OVER (
            PARTITION BY goal_id, event_type ORDER BY occurred_at DESC, event_id DESC
        ) AS nth_of_type_from_last
    FROM seen
),
first_event AS (SELECT goal_id, match_id FROM ranked WHERE nth_event = 1),
last_event AS (SELECT goal_id, event_type, occurred_at AS last_event_at FROM ranked WHERE nth_from_last = 1),
first_set AS (SELECT goal_id, occurred_on FROM ranked WHERE event_type = 'set' AND nth_of_type = 1),
last_set AS (SELECT * FROM ranked WHERE event_type = 'set' AND nth_of_type_from_last = 1),
last_progress AS (
    SELECT goal_id, progress_pct FROM ranked WHERE event_type = 'progress' AND nth_of_type_from_last = 1
),
last_achieved AS (
    SELECT goal_id, occurred_on FROM ranked WHERE event_type = 'achieved' AND nth_of_type_from_last = 1
)
SELECT
    s.goal_id,
    f.match_id,
    s.horizon,
    coalesce(s.category, 'other') AS category,
    s.target_date,
    coalesce(regexp_matches(s.measure, '[^[:space:]]'), false) AS has_measure,
    fs.occurred_on AS set_on,
    CASE l.event_type WHEN 'achieved' THEN 'achieved' WHEN 'abandoned' THEN 'abandoned' ELSE 'open' END
        AS status,
    CASE WHEN l.event_type = 'achieved' THEN 100.0 ELSE coalesce(p.progress_pct, 0.0) END
        AS progress_pct,
    CASE WHEN l.event_type = 'achieved' THEN a.occurred_on END AS achieved_on,
    l.last_event_at
FROM last_set AS s
JOIN first_event AS f USING (goal_id)
JOIN last_event AS l USING (goal_id)
JOIN first_set AS fs USING (goal_id)
LEFT JOIN last_progress AS p USING (goal_id)
LEFT JOIN last_achieved AS a USING (goal_id)
