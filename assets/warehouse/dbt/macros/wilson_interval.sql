{# Wilson score interval of a rate p on n trials (95 %): centre -/+ half-width; `side` is '-'
   for the low bound, '+' for the high one. NULL when n is 0. #}
{% macro wilson_interval(p, n, side) -%}
{%- set z = '1.96::DOUBLE' -%}
(
    ({{ p }} + {{ z }} * {{ z }} / (2 * {{ n }})) / (1 + {{ z }} * {{ z }} / {{ n }})
    {{ side }} {{ z }}
    * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z }} * {{ z }} / (4 * {{ n }} * {{ n }}))
    / (1 + {{ z }} * {{ z }} / {{ n }})
)
{%- endmacro %}
