{# A grouping column of a rollup (GROUPING SETS): '(all)' on the rows that roll it up, so a
   cohort or role of '(all)' means every cohort or role of the group. #}
{% macro rollup_label(column) -%}
CASE WHEN grouping({{ column }}) = 1 THEN '(all)' ELSE {{ column }} END
{%- endmacro %}
