{#- The marts' primary and foreign keys, as declared in their contracts (model-level
    `constraints` in _marts__models.yml), held by PostgreSQL so BI tools can discover how
    facts join dimensions.

    dbt creates them with a table, but a build does not keep them all: a dimension is
    rebuilt every night as a new table swapped in for the old one, whose `drop ... cascade`
    takes the facts' foreign keys with it, and a primary key created under the new table's
    temporary name keeps that name. So once the models are built, `declare_keys` (part of
    `finish_marts_build`) gives each primary key its conventional name (<table>_pkey) and
    adds each declared foreign key that is missing, which validates it in one scan. A fact
    row whose code has no dimension row fails the build here, before any gate or publish. -#}

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
    declare
        existing text;
    begin
    {%- for relation, name, columns in primary %}
        select conname into existing from pg_constraint
        where conrelid = '{{ relation }}'::regclass and contype = 'p';
        if existing is null then
            alter table {{ relation }}
                add constraint {{ name }} primary key ({{ columns | join(', ') }});
        elsif existing <> '{{ name }}' then
            execute format('alter table {{ relation }} rename constraint %I to {{ name }}', existing);
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
