-- The goal fold as it stood at the end of each local day with an event (seen by D), for the
-- early warning's snapshots of the past (sql/risk/snapshots.sql): the state on day m is the
-- row with seen_on <= m < next_seen_on. Same fold as core.goals: events in event order, the
-- goal belongs to the match of its first event, a goal exists once a `set` event is seen.
WITH events AS (
    SELECT
        goal_id,
        CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) AS seen_on,
        event_type,
        first_value(match_id) OVER events_so_far AS match_id,
        count(*) FILTER (WHERE event_type = 'set') OVER events_so_far AS set_events,
        -- a struct keeps the last set event's target_date even when it is NULL
        (last_value(CASE WHEN event_type = 'set' THEN {'d': target_date} END IGNORE NULLS)
            OVER events_so_far).d AS target_date,
        last_value(CASE WHEN event_type = 'progress' THEN progress_pct END IGNORE NULLS)
            OVER events_so_far AS last_progress_pct,
        row_number() OVER (
            PARTITION BY goal_id, CAST(timezone(getvariable('timezone'), occurred_at) AS DATE)
            ORDER BY occurred_at DESC, event_id DESC
        ) AS nth_from_last_of_day
    FROM {{ source('staging', 'goals') }}
    WHERE CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) <= getvariable('as_of')
    WINDOW events_so_far AS (
        PARTITION BY goal_id ORDER BY occurred_at, event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)
SELECT
    goal_id,
    seen_on,
    lead(seen_on, 1, DATE '9999-12-31') OVER (PARTITION BY goal_id ORDER BY seen_on)
        AS next_seen_on,
    match_id,
    CASE event_type WHEN 'achieved' THEN 'achieved' WHEN 'abandoned' THEN 'abandoned' ELSE 'open' END
        AS status,
    target_date,
    CASE WHEN event_type = 'achieved' THEN 100.0 ELSE coalesce(last_progress_pct, 0.0) END::DOUBLE
        AS progress_pct
FROM events
WHERE nth_from_last_of_day = 1 AND set_events > 0
