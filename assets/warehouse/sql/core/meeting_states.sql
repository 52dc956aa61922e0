-- The meeting fold as it stood at the end of each local day with an event (seen by D), for
-- the early warning's snapshots of the past (sql/risk/snapshots.sql, docs/model_card.md):
-- the state on day m is the row with seen_on <= m < next_seen_on. Same fold as
-- core.meetings: events in event order (occurred_at, then event_id), the last event decides
-- status and match, the start (and duration) is that of the last event that has one.
CREATE OR REPLACE TABLE core.meeting_states AS
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
    FROM staging.meetings
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
WHERE nth_from_last_of_day = 1;

COMMENT ON TABLE core.meeting_states IS 'One row per meeting and local day with one of its events seen by the as-of date: the fold of its events up to the end of that day (as core.meetings folds them as of D), valid until next_seen_on. Lets the early warning see a meeting as it stood on a past day.';
COMMENT ON COLUMN core.meeting_states.meeting_id IS 'Meeting identifier.';
COMMENT ON COLUMN core.meeting_states.seen_on IS 'Local date of the events this state includes the last of.';
COMMENT ON COLUMN core.meeting_states.next_seen_on IS 'Local date of the meeting''s next event (9999-12-31 when none): the state holds on days seen_on <= day < next_seen_on.';
COMMENT ON COLUMN core.meeting_states.match_id IS 'Match of the last event by then.';
COMMENT ON COLUMN core.meeting_states.event_type IS 'Type of the last event by then (scheduled, rescheduled, completed, cancelled, no_show).';
COMMENT ON COLUMN core.meeting_states.scheduled_start IS 'scheduled_start of the last event by then that has one; NULL when none.';
COMMENT ON COLUMN core.meeting_states.duration_minutes IS 'duration_minutes of the last event by then that has one.';
COMMENT ON COLUMN core.meeting_states.from_calendar IS 'True when the last event by then was read from a calendar (no logged outcome).';
