{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'unit_code', 'indicator_code', 'period'],
        indexes=[
            {'columns': ['province_code', 'unit_code', 'indicator_code', 'period'], 'unique': true},
        ],
    )
}}

-- Incremental: a build recomputes supersession only for the keys that submissions newer
-- than the schema's watermark reported, over every accepted row of those keys (a new file
-- may lose to an older one with a later submitted_at), and replaces those keys.
-- depends_on: {{ ref('stg_raw__submission_values') }}

with

{% if is_incremental() %}

touched_keys as (

    select distinct
        new_values.province_code,
        new_values.unit_code,
        new_values.indicator_code,
        new_values.period
    from ({{ submission_values_since_watermark() }}) as new_values

),

values_loaded as (

    select submission_values.*
    from {{ ref('stg_raw__submission_values') }} as submission_values
    inner join touched_keys
        on
            submission_values.province_code = touched_keys.province_code
            and submission_values.unit_code = touched_keys.unit_code
            and submission_values.indicator_code = touched_keys.indicator_code
            and submission_values.period = touched_keys.period

),

{% else %}

values_loaded as (

    select * from {{ ref('stg_raw__submission_values') }}

),

{% endif %}

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

final as (

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

)

select * from final
