{#- The marts' primary and foreign keys, as declared in their contracts (model-level
    `constraints` in _marts__models.yml), held by PostgreSQL so BI tools can discover how
    facts join dimensions.

    They are added once a build's models are built, by `declare_keys` (part of
    `finish_marts_build`), not when dbt creates a table:
    - a table is created empty and then filled: keys present while it fills would check
      every row one by one, where adding them afterwards is one index build and one
      validating scan per key (postgres__get_table_columns_and_constraints below leaves
      them out of the CREATE);
    - a dimension rebuilt as a new table swapped in for the old one would take the facts'
      foreign keys with it (`drop ... cascade`), and each build would validate them again
      over the whole facts: dimensions are incremental instead, and only gain rows
      (dimension_rows_not_built).
    `declare_keys` adds each declared key that is missing: a fact row whose code has no
    dimension row fails the build there, before any gate or publish. -#}

{#- The relation a constraint's `to` names: ref('model') (as parsed) or already rendered. -#}
{% macro key_target(to) %}
    {%- set named = modules.re.match("^ref\\(\\s*['\"]([a-z0-9_]+)['\"]\\s*\\)$", to | trim) -%}
    {%- if not named -%}{{ return(to) }}{%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == named.group(1) -%}
            {{ return(api.Relation.create(node.database, node.schema, node.alias)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("constraint refers to an unknown model: " ~ to) }}
{% endmacro %}

{#- SQL (one DO block): the declared keys of every table mart built into the marts schema. -#}
{% macro declared_keys_sql() %}
    {%- set primary = [] -%}
    {%- set foreign = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name') -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and node.config.materialized in ['table', 'incremental'] and node.constraints -%}
            {%- set relation = api.Relation.create(node.database, node.schema, node.alias) -%}
            {%- for constraint in node.constraints -%}
                {%- if constraint.type == 'primary_key' -%}
                    {%- do primary.append((relation, node.alias ~ '_pkey', constraint.columns)) -%}
                {%- elif constraint.type == 'foreign_key' -%}
                    {%- do foreign.append((relation, constraint.name, constraint.columns,
                        key_target(constraint.to), constraint.to_columns)) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    do $keys$
    begin
    {%- for relation, name, columns in primary %}
        if not exists (
            select from pg_constraint
            where conrelid = '{{ relation }}'::regclass and contype = 'p'
        ) then
            alter table {{ relation }}
                add constraint {{ name }} primary key ({{ columns | join(', ') }});
        end if;
    {%- endfor %}
    {%- for relation, name, columns, target, target_columns in foreign %}
        if not exists (
            select from pg_constraint
            where conrelid = '{{ relation }}'::regclass and conname = '{{ name }}'
        ) then
            alter table {{ relation }}
                add constraint {{ name }} foreign key ({{ columns | join(', ') }})
                references {{ target }} ({{ target_columns | join(', ') }});
        end if;
    {%- endfor %}
    end
    $keys$
{% endmacro %}

{% macro declare_keys() %}
    {%- do run_query(declared_keys_sql()) -%}
{% endmacro %}

{#- run-operation, after every model and test of a build succeeded: the keys, then the
    incremental state (macros/incremental_state.sql). -#}
{% macro finish_marts_build() %}
    {%- do declare_keys() -%}
    {%- do commit_incremental_build() -%}
{% endmacro %}

{#- The columns of a table dbt creates, without its primary and foreign keys: an enforced
    contract's table is created empty and then filled, and keys present while it fills
    would check every row one by one (a full build took 2.7 times as long). declare_keys
    adds them once the rows are in: one index build and one validating scan per key. -#}
{% macro postgres__get_table_columns_and_constraints() %}
    {%- set raw_column_constraints = adapter.render_raw_columns_constraints(
        raw_columns=model['columns']) -%}
    {%- set later = ['primary_key', 'foreign_key'] -%}
    {%- set raw_model_constraints = adapter.render_raw_model_constraints(
        raw_constraints=model['constraints'] | rejectattr('type', 'in', later) | list) -%}
    (
    {% for c in raw_column_constraints -%}
      {{ c }}{{ "," if not loop.last or raw_model_constraints }}
    {% endfor %}
    {% for c in raw_model_constraints -%}
        {{ c }}{{ "," if not loop.last }}
    {% endfor -%}
    )
{% endmacro %}

{#- SQL: the filter that keeps only the rows of a dimension not yet in it. A dimension
    changes only by gaining rows (a period a report names beyond the calendar) between two
    changes of the project's fingerprint, and a new fingerprint starts the build from an
    empty schema (begin_incremental_build): so a dimension's rows are never replaced, and
    the foreign keys pointing at them stay in place from one night to the next. -#}
{% macro dimension_rows_not_built(relation, key) -%}
    {%- if is_incremental() %}
    where not exists (
        select from {{ this }} as built
        where built.{{ key }} = {{ relation }}.{{ key }}
    )
    {%- endif %}
{%- endmacro %}
