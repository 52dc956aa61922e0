-- The meeting fold: for each meeting, its events seen by D in event order
-- (occurred_at, then event_id). The last event decides status and match; the start is the
-- scheduled_start of the last event that has one.
-- Meetings read from calendars (_source 'calendar', docs/data_contract.md) have no logged
-- outcome: one still scheduled counts as held once its end has passed by the end of D, and
-- one whose match has a logged meeting on the same local date is left out (the log wins).
WITH seen AS (
    SELECT *
    FROM {{ source('staging', 'meetings') }}
    WHERE CAST(timezone(getvariable('timezone'), occurred_at) AS DATE) <= getvariable('as_of')
),
-- One pass: arg_max over (occurred_at, event_id) is "the last event in event order"; it
-- skips NULLs, which is exactly "the last event that has a scheduled_start" (and duration).
last_values AS (
    SELECT
        meeting_id,
        arg_max(match_id, (occurred_at, event_id)) AS match_id,
        arg_max(event_type, (occurred_at, event_id)) AS event_type,
        arg_max_null(_source, (occurred_at, event_id)) AS _source,
        arg_max_null(channel, (occurred_at, event_id)) AS channel,
        arg_max(scheduled_start, (occurred_at, event_id)) AS scheduled_start,
        arg_max(duration_minutes, (occurred_at, event_id)) AS duration_minutes,
        count(*) AS event_count,
        min(occurred_at) AS first_event_at,
        max(occurred_at) AS last_event_at
    FROM seen
    GROUP BY meeting_id
),
folded AS (
    SELECT
        e.meeting_id,
        e.match_id,
        -- a calendar records plans, not outcomes: held once its end has passed by D's end
        {{ meeting_status_at(
            'e.event_type',
            "e._source IS NOT DISTINCT FROM 'calendar'",
            'e.scheduled_start',
            'e.duration_minutes',
            "getvariable('as_of')",
        ) }} AS status,
        e.scheduled_start AS start_at,
        CAST(timezone(getvariable('timezone'), e.scheduled_start) AS DATE) AS meeting_date,
        CAST(e.duration_minutes AS INTEGER) AS duration_minutes,
        e.channel,
        CAST(e.event_count AS INTEGER) AS event_count,
        e.first_event_at,
        e.last_event_at,
        e._source IS NOT DISTINCT FROM 'calendar' AS from_calendar
    FROM last_values AS e
)
SELECT * EXCLUDE (from_calendar)
FROM folded AS f
-- one meeting in both a calendar and the log is counted once: the log's (it has the outcome)
WHERE NOT {{ logged_in_calendar_and_log('folded', 'f', ['match_id', 'meeting_date']) }}
