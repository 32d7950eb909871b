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

-- Every period's type and bounds, parsed once per period (by the macros dim_period is
-- built with) rather than once per version.
periods as (

    select * from {{ ref('dim_period') }}

),

versions as (

    {{ select_value_versions('values_loaded', 'files', 'catalog') }}

),

valued as (

    select
        versions.*,
        {{ version_value('versions') }} as value

    from versions

),

dated as (

    select
        valued.province_code,
        valued.unit_code,
        valued.indicator_code,
        valued.period,
        -- NULL for a period dim_period lacks: the column's not-null constraint fails the
        -- build (the foreign key to dim_period would too)
        periods.period_type,
        periods.period_start,
        periods.period_end,
        valued.value,
        valued.numerator,
        valued.denominator,
        valued.submission_id,
        valued.submitted_at,
        valued.first_submitted_at,
        valued.submitted_at as known_from,
        -- the next newer version (rank one less) superseded this one; the next older
        -- (rank one more) is the one this one superseded
        lag(valued.submitted_at) over key_versions as known_to,
        lag(valued.submission_id) over key_versions as superseded_by_submission_id,
        lead(valued.value) over key_versions as previous_value,
        lead(valued.submission_id) over key_versions as previous_submission_id,
        lead(valued.submitted_at) over key_versions as previous_submitted_at,
        (count(*) over key_versions_all - valued.recency_rank + 1)::integer as version_number,
        valued.recency_rank = 1 as is_current

    from valued
    left join periods on valued.period = periods.period
    window
        key_versions as (
            partition by
                valued.province_code, valued.unit_code, valued.indicator_code, valued.period
            order by valued.recency_rank
        ),
        key_versions_all as (
            partition by
                valued.province_code, valued.unit_code, valued.indicator_code, valued.period
        )

),

final as (

    {{ select_labelled('dated', ['province', 'unit', 'indicator', 'period']) }}

)

select * from final
