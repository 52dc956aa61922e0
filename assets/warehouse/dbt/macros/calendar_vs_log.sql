{#
Calendars (_source 'calendar', docs/data_contract.md) record plans, not outcomes; the log
records outcomes. Two rules, used by core.meetings (at D) and the early warning's snapshots
(at each month end):
#}

{# A meeting's status at the end of local day `at`: rescheduled is scheduled, and a calendar
   meeting still scheduled counts as held once its end has passed. #}
{% macro meeting_status_at(event_type, from_calendar, scheduled_start, duration_minutes, at) -%}
CASE
    WHEN {{ event_type }} = 'rescheduled' THEN 'scheduled'
    WHEN {{ from_calendar }} AND {{ event_type }} = 'scheduled'
        AND {{ scheduled_start }} + to_minutes(coalesce({{ duration_minutes }}, 0))
            <= timezone(getvariable('timezone'), CAST({{ at }} + 1 AS TIMESTAMP))
        THEN 'completed'
    ELSE {{ event_type }}
END
{%- endmacro %}

{# True for a calendar meeting that the log also has (same `keys`, e.g. match and date): the
   meeting is counted once, the log's (it has the outcome). `f` is the row's alias in
   `meetings`, which has a from_calendar column. #}
{% macro logged_in_calendar_and_log(meetings, f, keys) -%}
({{ f }}.from_calendar AND EXISTS (
    SELECT 1
    FROM {{ meetings }} AS logged
    WHERE NOT logged.from_calendar
    {%- for key in keys %}
        AND logged.{{ key }} = {{ f }}.{{ key }}
    {%- endfor %}
))
{%- endmacro %}
