{#- The primary key (contract) begins with the unique_key's columns: it is the index of
    delete+insert's delete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'unit_code', 'indicator_code', 'period'],
    )
}}

-- Incremental: a build recomputes supersession only for the keys that submissions newer
-- than the schema's watermark reported, over every accepted row of those keys (a new file
-- may lose to an older one with a later submitted_at), and replaces those keys.
-- depends_on: {{ ref('stg_raw__submission_values') }}

with

values_loaded as (

    {{ rows_with_touched_keys(
        ref('stg_raw__submission_values'),
        ['province_code', 'unit_code', 'indicator_code', 'period']
    ) }}

),

files as (

    select * from {{ ref('stg_raw__submission_files') }}
    where is_accepted

),

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

current_values as (

    {{ select_current_values('values_loaded', 'files', 'catalog') }}

),

coded as (

    select
        province_code,
        unit_code,
        indicator_code,
        period,
        period_type,
        period_start,
        period_end,
        value,
        numerator,
        denominator,
        submission_id,
        submitted_at,
        first_submitted_at

    from current_values

),

final as (

    {{ select_labelled('coded', ['province', 'unit', 'indicator', 'period']) }}

)

select * from final
