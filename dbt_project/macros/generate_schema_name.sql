{#- Layers live in schemas named exactly as configured (staging, intermediate, the marts
    candidate), not dbt's default <target>_<custom> names: the schema swap at publish time
    and the BI role's grants rely on those names. A build as of a past moment puts every model
    in its own schema (macros/as_of.sql). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if var('as_of_schema', none) and node.resource_type == 'model' -%}
        {{ var('as_of_schema') | trim }}
    {%- elif custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
