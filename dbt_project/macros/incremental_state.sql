{#- Incremental marts that catch up from any older state of themselves.

    The marts are built into the candidate schema, which is published by renaming schemas,
    so the candidate a build starts from is an older build (several nights old, or a build
    that failed half way), never necessarily the last one. Its state therefore travels with
    the schema, as the schema's comment:

        chitieu incremental state: fingerprint=<md5> through_submission_id=<n> ...

    `through_submission_id` says every incremental mart of the schema is up to date with all
    submissions whose ledger id is at most n (ids are an identity: a file ingested later
    has a larger id). `fingerprint` is an md5 of everything else the marts depend on: the
    project's files, the expectations and the vars (chitieu/freshness.py). A build

    1. (`dbt run-operation begin_incremental_build`, before the models) notes the largest
       ledger id it can see as `pending_through_submission_id` (this assumes no ingest is
       still committing when a build starts, which the pipeline and the DAG guarantee: an id
       handed out earlier but committed later would be missed); when the fingerprint
       differs (new code or contracts, edited targets, another due_days) or there is no
       state, it empties the schema first, so every mart is created anew, with today's
       contract, and built from every submission;
    2. rebuilds in each incremental mart only what submissions after n can have changed,
       by delete+insert (the pre-hook, prepare_incremental, still empties a mart whose
       state is unknown when a build did not go through step 1);
    3. (`dbt run-operation finish_marts_build`, once every model and test of the build
       succeeded: the marts' keys (macros/keys.sql), then commit_incremental_build) records
       the new fingerprint and through = pending. A build that fails
       leaves the old state, so the next one redoes its work: delete+insert of a key is
       idempotent.

    Begin and commit are separate dbt invocations, not on-run-start/on-run-end hooks, because
    in Airflow the build is one dbt invocation per model (Cosmos): hooks would note `pending`
    again before every model and never see all the marts built in one invocation.
    `chitieu build` runs the same three steps (begin, `dbt build`, commit).

    `--full-refresh` rebuilds every mart from scratch and records the state the same way.

    A backfill (var `rebuild_periods: {from: <date>, to: <date>}`) also rebuilds, from every
    loaded submission, the rows of the periods ending within those dates: the incremental
    marts treat the rows of those periods as if they were new. -#}

{% macro incremental_state_prefix() -%}
    chitieu incremental state:
{%- endmacro %}

{#- The schema the marts are built into (hooks have no `this`). -#}
{% macro incremental_state_schema() -%}
    {{ var('marts_schema', 'marts_candidate') | trim }}
{%- endmacro %}

{#- unique_ids of this project's incremental models. -#}
{% macro incremental_model_ids() %}
    {%- set ids = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and node.config.materialized == 'incremental' -%}
            {%- do ids.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ids | sort) }}
{% endmacro %}

{#- md5 of what the marts depend on besides the submissions: the project's files, the
    expectations and the vars the models read, computed by chitieu (chitieu/freshness.py,
    which also tells a night with nothing new) and passed as a var. Without it (dbt run by
    hand), no state matches and the incremental marts rebuild from every submission; a
    build's state is never begun or committed without it. -#}
{% macro incremental_fingerprint() %}
    {{ return(var('inputs_fingerprint', 'none')) }}
{% endmacro %}

{% macro required_fingerprint() %}
    {%- set fingerprint = incremental_fingerprint() -%}
    {%- if fingerprint == 'none' -%}
        {{ exceptions.raise_compiler_error(
            "var inputs_fingerprint is missing: run the marts build with chitieu") }}
    {%- endif -%}
    {{ return(fingerprint) }}
{% endmacro %}

{#- SQL: the ledger id this model's table is up to date with, NULL when the schema has no
    state for the current fingerprint (then the model rebuilds from every submission). -#}
{% macro incremental_watermark() -%}
    (
        select
            substring(
                obj_description(namespace.oid, 'pg_namespace')
                from 'fingerprint={{ incremental_fingerprint() }} through_submission_id=([0-9]+)'
            )::bigint
        from pg_namespace as namespace
        where namespace.nspname = '{{ this.schema }}'
    )
{%- endmacro %}

{#- Pre-hook of every incremental mart, in its transaction:
    - hash joins only: an incremental build joins a small set of keys to large tables on
      several columns, which PostgreSQL estimates at about one row whatever the statistics;
      the nested loops it then picks cost a hundred times what a hash join does. `set
      local` ends with the model's transaction;
    - empty the mart when its state is unknown or stale, so it is rebuilt from every
      submission. -#}
{% macro prepare_incremental() -%}
    {%- if is_incremental() -%}
        set local enable_nestloop = off;
        delete from {{ this }} where {{ incremental_watermark() }} is null
    {%- endif -%}
{%- endmacro %}

{#- SQL: the submitted rows (stg_raw__submission_values) of submissions newer than the
    watermark; every row when there is none. A model calling this declares
    `-- depends_on: ref('stg_raw__submission_values')`. -#}
{% macro submission_values_since_watermark() -%}
    {%- set rebuild = var('rebuild_periods', none) -%}
    select *
    from {{ ref('stg_raw__submission_values') }}
    where
        submission_id > coalesce({{ incremental_watermark() }}, 0)
        {%- if rebuild %}
            or period_end between date '{{ rebuild["from"] }}' and date '{{ rebuild["to"] }}'
        {%- endif %}
{%- endmacro %}

{#- run-operation, before a build: remember the newest submission this build can see; a
    schema whose state is stale is emptied first. -#}
{% macro begin_incremental_build() %}
    {%- if not incremental_model_ids() -%}{{ return('') }}{%- endif -%}
    {%- set schema = incremental_state_schema() -%}
    {%- set statement -%}
    create schema if not exists {{ schema }};
    do $state$
    declare
        committed text := coalesce(
            substring(
                obj_description('{{ schema }}'::regnamespace, 'pg_namespace')
                from 'fingerprint=[0-9a-f]{32} through_submission_id=[0-9]+'
            ),
            'no state'
        );
        pending bigint := (
            select coalesce(max(submission_id), 0) from {{ source('raw', 'submission_file') }}
        );
    begin
        -- Stale or no state: every incremental mart would be emptied and rebuilt anyway, so
        -- start from an empty schema, whose tables dbt then creates with today's contracts
        -- (column order, types, keys) instead of appending new columns to old tables.
        if committed not like 'fingerprint={{ required_fingerprint() }} %' then
            committed := 'no state';
            execute format('drop schema %I cascade', '{{ schema }}');
            execute format('create schema %I', '{{ schema }}');
        end if;
        execute format(
            'comment on schema %I is %L',
            '{{ schema }}',
            '{{ incremental_state_prefix() }} ' || committed
            || ' pending_through_submission_id=' || pending
        );
    end
    $state$;
    {%- endset -%}
    {%- do run_query(statement) -%}
{% endmacro %}

{#- run-operation, after every model and test of a build succeeded: the schema is up to
    date with what the build saw when it began, under the current fingerprint. -#}
{% macro commit_incremental_build() %}
    {%- if not incremental_model_ids() -%}{{ return('') }}{%- endif -%}
    {%- set schema = incremental_state_schema() -%}
    {%- set statement -%}
    do $state$
    declare
        pending text := substring(
            obj_description('{{ schema }}'::regnamespace, 'pg_namespace')
            from 'pending_through_submission_id=([0-9]+)'
        );
    begin
        if pending is not null then
            execute format(
                'comment on schema %I is %L',
                '{{ schema }}',
                '{{ incremental_state_prefix() }} fingerprint={{ required_fingerprint() }}'
                || ' through_submission_id=' || pending
            );
        end if;
    end
    $state$;
    {%- endset -%}
    {%- do run_query(statement) -%}
{% endmacro %}

{#- SQL: the rows of `relation` whose `keys` columns equal those of a row submitted after
    the watermark: what an incremental model recomputes (every row when the model is not
    incremental). A model calling this declares
    `-- depends_on: ref('stg_raw__submission_values')`. -#}
{% macro rows_with_touched_keys(relation, keys) -%}
    select touched.*
    from {{ relation }} as touched
    {%- if is_incremental() %}
        inner join (
            select distinct {{ keys | join(', ') }}
            from ({{ submission_values_since_watermark() }}) as new_values
        ) as touched_keys
            on
            {%- for key in keys %}
                {% if not loop.first %}and {% endif %}touched.{{ key }} = touched_keys.{{ key }}
            {%- endfor %}
    {%- endif %}
{%- endmacro %}
