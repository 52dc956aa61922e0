{#
Write-audit-publish, as every model's post-hook (dbt_project.yml): inside the model's
transaction, after its new table is in place and before COMMIT, its blocking tests (severity
error in the YAML) run on the new content. A failure raises: dbt rolls the transaction back, so
the table keeps its previous content, the model is recorded as an error and what reads it is
skipped. dbt then runs the same tests again after the model, as the reported checks.
#}
{% macro audit_blocking_tests() %}
{%- if execute -%}
    {#- the data tests of macros/tests/data_tests.sql, by name -#}
    {%- set audit_of = {
        'unique_key': audit_unique_key,
        'references_known_matches': audit_references_known_matches,
        'held_meetings_in_window': audit_held_meetings_in_window,
        'held_meetings_add_up': audit_held_meetings_add_up,
        'health_score_in_range': audit_health_score_in_range,
        'small_groups_suppressed': audit_small_groups_suppressed,
    } -%}
    {%- set audits = [] -%}
    {%- for test in graph.nodes.values() -%}
        {%- if test.resource_type == 'test' and test.attached_node == model.unique_id
            and (test.config.severity | upper) == 'ERROR' and test.test_metadata -%}
            {%- set kwargs = {} -%}
            {%- for name, value in test.test_metadata.kwargs.items() if name != 'model' -%}
                {%- do kwargs.update({name: value}) -%}
            {%- endfor -%}
            {%- set failing = audit_of[test.test_metadata.name](model=this, **kwargs) -%}
            {%- do audits.append("SELECT '" ~ test.name ~ "' AS test, count(*) AS failing FROM ("
                ~ failing ~ ")") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if audits %}
SELECT error('blocking test ' || test || ' failed on ' || failing || ' rows')
FROM ({{ audits | join('\nUNION ALL\n') }})
WHERE failing > 0
    {%- endif -%}
{%- endif -%}
{% endmacro %}
