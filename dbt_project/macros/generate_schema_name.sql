{#- Layers live in schemas named exactly as configured (staging, intermediate, the marts
    candidate), not dbt's default <target>_<custom> names: the schema swap at publish time
    and the BI role's grants rely on those names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
