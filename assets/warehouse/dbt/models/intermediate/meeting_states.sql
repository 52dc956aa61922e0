-- The meeting fold as it stood at the end of each local day with an event (seen by D), for
-- the early warning's snapshots of the past (sql/risk/snapshots.sql, docs/model_card.md):
-- the state on day m is the row with seen_on <= m < next_seen_on. Same fold as
-- core.meetings: events in event order (occurred_at, then event_id), the last event decides
-- status and match, the start (and duration) is that of the last event that has one.
WITH events AS (
    SELECT
        meeting_id,
        match_id,
        event_type,
        _source,
        CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) AS seen_on,
        last_value(scheduled_start IGNORE NULLS) OVER events_so_far AS scheduled_start,
        last_value(duration_minutes IGNORE NULLS) OVER events_so_far AS duration_minutes,
        row_number() OVER (
            PARTITION BY meeting_id, CAST(timezone(getvariable('timezone'), occurred_at) AS DATE)
            ORDER BY occurred_at DESC, event_id DESC
        ) AS nth_from_last_of_day
    FROM {{ source('staging', 'meetings') }}
    WHERE CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) <= getvariable('as_of')
    WINDOW events_so_far AS (
        PARTITION BY meeting_id ORDER BY occurred_at, event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)
SELECT
    meeting_id,
    seen_on,
    lead(seen_on, 1, DATE '9999-12-31') OVER (PARTITION BY meeting_id ORDER BY seen_on)
        AS next_seen_on,
    match_id,
    event_type,
    scheduled_start,
    CAST(duration_minutes AS INTEGER) AS duration_minutes,
    _source IS NOT DISTINCT FROM 'calendar' AS from_calendar
FROM events
WHERE nth_from_last_of_day = 1
