{# The last day a match's meetings count: its roster end when on or before the evaluation
   date `at`, else `at` (METRICS.md, match_cadence). #}
{% macro match_window_end(ended_on, at="getvariable('as_of')") -%}
    least(coalesce({{ ended_on }}, {{ at }}), {{ at }})
{%- endmacro %}
