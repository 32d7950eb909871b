{#- The primary key (contract) begins with the unique_key's columns: it is the index of
    delete+insert's delete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'unit_code', 'indicator_code', 'period'],
    )
}}

-- Every value each unit ever reported for a key, with the interval during which it was
-- the current value: known from its submission's submitted_at until the submitted_at of
-- the version that superseded it (NULL while current). Supersession is
-- select_value_versions', so the current rows here are exactly fct_indicator_value's
-- (which reads them from here). Incremental like fct_indicator_value: a build recomputes
-- the versions of the keys that submissions newer than the watermark reported (a new file
-- may land between two older versions) and replaces those keys.
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

periods as (

    select * from {{ ref('dim_period') }}

),

versions as (

    {{ select_value_versions('values_loaded', 'files', 'catalog', 'periods') }}

),

dated as (

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
        first_submitted_at,
        submitted_at as known_from,
        -- the next newer version (rank one less) superseded this one; the next older
        -- (rank one more) is the one this one superseded
        lag(submitted_at) over key_versions as known_to,
        lag(submission_id) over key_versions as superseded_by_submission_id,
        lead(value) over key_versions as previous_value,
        lead(submission_id) over key_versions as previous_submission_id,
        lead(submitted_at) over key_versions as previous_submitted_at,
        (count(*) over key_versions_all - recency_rank + 1)::integer as version_number,
        recency_rank = 1 as is_current

    from versions
    window
        key_versions as (
            partition by province_code, unit_code, indicator_code, period
            order by recency_rank
        ),
        key_versions_all as (
            partition by province_code, unit_code, indicator_code, period
        )

),

final as (

    {{ select_labelled('dated', ['province', 'unit', 'indicator', 'period']) }}

)

select * from final
