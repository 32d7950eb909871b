{#- The primary key (contract) begins with the unique_key's columns: it is the index of
    delete+insert's delete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'unit_code', 'indicator_code', 'period'],
    )
}}

-- The current version of each key of fct_indicator_value_history, which computes
-- supersession (already up to date in this build). Incremental: a build replaces the keys
-- that submissions newer than the schema's watermark reported.
-- depends_on: {{ ref('stg_raw__submission_values') }}

with

history as (

    {{ rows_with_touched_keys(
        ref('fct_indicator_value_history'),
        ['province_code', 'unit_code', 'indicator_code', 'period']
    ) }}

),

final as (

    select
        province_code,
        province_name_vi,
        province_name_en,
        unit_code,
        unit_name_vi,
        unit_name_en,
        indicator_code,
        indicator_name_vi,
        indicator_name_en,
        unit_of_measure,
        period,
        period_type,
        period_start,
        period_end,
        period_label,
        period_sort_key,
        value,
        numerator,
        denominator,
        submission_id,
        submitted_at,
        first_submitted_at

    from history
    where is_current

)

select * from final
