{#- dbt's is_incremental(), which the SQL lint can force true (var lint_incremental_branches)
    so that it checks both branches of every incremental model, against an empty database
    (`make lint-sql`: dbt_project/.sqlfluff-incremental). -#}
{% macro is_incremental() %}
    {%- if var('lint_incremental_branches', false) -%}
        {{ return(model.config.materialized == 'incremental') }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{% endmacro %}
