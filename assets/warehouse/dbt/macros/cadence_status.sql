{#
A match's cadence status at an evaluation date (METRICS.md, match_cadence; the first rule that
applies wins). Arguments are SQL expressions at that date: whether the match has ended, its
held meetings, its days since matched_on, its days since the last held meeting, and its target
meetings per month.
#}
{% macro cadence_status(ended, meetings_held, active_days, days_since_last_meeting,
    target_per_month) -%}
CASE
    WHEN {{ ended }} THEN 'ended'
    WHEN {{ meetings_held }} = 0
        AND {{ active_days }} < getvariable('first_meeting_grace_days') THEN 'too_early'
    WHEN {{ meetings_held }} = 0 THEN 'not_started'
    WHEN {{ days_since_last_meeting }} > getvariable('lapse_days') THEN 'lapsed'
    WHEN ({{ days_since_last_meeting }})::DOUBLE > 2 * 30.4375 / {{ target_per_month }}
        THEN 'at_risk'
    ELSE 'on_track'
END
{%- endmacro %}
