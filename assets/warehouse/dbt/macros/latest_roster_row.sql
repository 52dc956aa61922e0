{# A roster row's key keeps its latest row: by file name, then path, then line - the order the
   files were written in, never the order they were loaded in (docs/architecture.md). #}
{% macro latest_roster_row(key, alias) -%}
QUALIFY row_number() OVER (
    PARTITION BY {{ alias }}.{{ key }}
    ORDER BY {{ alias }}._file_name DESC, {{ alias }}._source_path DESC, {{ alias }}._line DESC
) = 1
{%- endmacro %}
