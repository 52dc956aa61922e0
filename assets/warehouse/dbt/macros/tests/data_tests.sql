{#
The warehouse's data tests (docs/architecture.md, "Blocking checks"), attached to their models
in the YAML. Each is a macro returning its failing rows (audit_<name>, also run by
audit_blocking_tests before a model's table is committed) and the dbt test of that name.
`severity: error` (the default) is blocking; `warn` only reports.
#}

{% macro audit_unique_key(model, key) %}
SELECT CAST(({{ key }}) AS VARCHAR) AS duplicate_key, count(*) AS rows
FROM {{ model }}
GROUP BY ALL
HAVING count(*) > 1
{% endmacro %}
{% test unique_key(model, key) %}{{ audit_unique_key(model=model, key=key) }}{% endtest %}


{# Rows whose match_id is not in the roster: kept, left out of the marts until it appears. #}
{% macro audit_references_known_matches(model) %}
SELECT match_id FROM {{ model }}
WHERE match_id NOT IN (SELECT match_id FROM {{ ref('matches') }})
{% endmacro %}
{% test references_known_matches(model) %}{{ audit_references_known_matches(model=model) }}{% endtest %}


{# Held meetings dated outside their match's window [matched_on, end]; they count nowhere. #}
{% macro audit_held_meetings_in_window(model) %}
SELECT m.meeting_id
FROM {{ model }} AS m
JOIN {{ ref('matches') }} AS k USING (match_id)
WHERE k.matched_on <= getvariable('as_of') AND m.status = 'completed'
    AND (m.meeting_date < k.matched_on
        OR m.meeting_date > {{ match_window_end('k.ended_on') }})
{% endmacro %}
{% test held_meetings_in_window(model) %}{{ audit_held_meetings_in_window(model=model) }}{% endtest %}


{# One row per known match, and meetings_held equals the held meetings in core within each
   match's window. #}
{% macro audit_held_meetings_add_up(model) %}
WITH known AS (
    SELECT match_id, matched_on, {{ match_window_end('ended_on') }} AS window_end
    FROM {{ ref('matches') }}
    WHERE matched_on <= getvariable('as_of')
),
held AS (
    SELECT m.match_id, count(*) AS n
    FROM {{ ref('meetings') }} AS m
    JOIN known AS k USING (match_id)
    WHERE m.status = 'completed' AND m.meeting_date BETWEEN k.matched_on AND k.window_end
    GROUP BY ALL
)
SELECT c.match_id
FROM {{ model }} AS c
LEFT JOIN held AS h USING (match_id)
WHERE c.meetings_held <> coalesce(h.n, 0)
    OR (SELECT count(*) FROM known) <> (SELECT count(*) FROM {{ model }})
{% endmacro %}
{% test held_meetings_add_up(model) %}{{ audit_held_meetings_add_up(model=model) }}{% endtest %}


{# health_score lies in [0, 100] and its band matches it. #}
{% macro audit_health_score_in_range(model) %}
SELECT program || '/' || cohort AS label FROM {{ model }}
WHERE health_score < 0 OR health_score > 100 OR (health_score IS NULL) <> (health_band IS NULL)
{% endmacro %}
{% test health_score_in_range(model) %}{{ audit_health_score_in_range(model=model) }}{% endtest %}


{#
No figure about fewer than k respondents is shown in the clear, directly or by subtraction: no
shown group under k, no shown mentor/mentee sibling of a hidden one, no cohorts whose hidden
members are one or under k together beside a shown one - the disclosure-control rule
(macros/disclosure_control.sql) at its fixed point. `value` is the figure a reader sees (NULL
when hidden); `dimensions` the grouping columns, cohort and (if any) role among them.
#}
{% macro audit_small_groups_suppressed(model, value, dimensions, respondents='n_respondents',
    has_suppressed_column=true) %}
{%- set others = dimensions | reject('in', ['cohort', 'role']) | list -%}
{%- set has_role = 'role' in dimensions -%}
{%- set label = [] -%}
{%- for d in dimensions %}{% do label.append('CAST(' ~ d ~ ' AS VARCHAR)') %}{% endfor -%}
WITH cells AS (
    SELECT
        *,
        {{ label | join(" || '/' || ") }} AS label,
        {{ 'role' if has_role else 'NULL::VARCHAR' }} AS cell_role,
        {{ value }} IS NULL AS hidden,
        {{ respondents }} AS cell_respondents,
        ({{ (others + ['cohort']) | join(', ') }}) AS role_siblings,
        ({{ (others + (['role'] if has_role else [])) | join(', ') }}) AS cohort_siblings
    FROM {{ model }}
    WHERE {{ respondents }} > 0
),
cohort_families AS (
    SELECT
        count(*) FILTER (WHERE hidden) AS hidden_count,
        sum(cell_respondents) FILTER (WHERE hidden) AS hidden_respondents,
        string_agg(label, ', ') FILTER (WHERE NOT hidden) AS shown
    FROM cells
    WHERE cohort <> '(all)'
    GROUP BY cohort_siblings
)
SELECT label FROM cells
WHERE (cell_respondents < getvariable('min_group_size') AND NOT hidden)
    {%- if has_suppressed_column %}
    OR suppressed <> ({{ value }} IS NULL)  -- the flag must say what the reader sees
    {%- endif %}
UNION ALL
SELECT c.label
FROM cells AS c
JOIN cells AS s ON s.role_siblings = c.role_siblings AND s.cell_role <> c.cell_role
WHERE c.cell_role IN ('mentor', 'mentee') AND s.cell_role IN ('mentor', 'mentee')
    AND NOT c.hidden AND s.hidden
UNION ALL
SELECT shown FROM cohort_families
WHERE shown IS NOT NULL AND (hidden_count = 1
    OR hidden_count > 1 AND hidden_respondents < getvariable('min_group_size'))
{% endmacro %}
{% test small_groups_suppressed(model, value, dimensions, respondents='n_respondents',
    has_suppressed_column=true) %}{{ audit_small_groups_suppressed(model=model, value=value, dimensions=dimensions, respondents=respondents, has_suppressed_column=has_suppressed_column) }}{% endtest %}
