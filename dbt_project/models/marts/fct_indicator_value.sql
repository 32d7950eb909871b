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
        {{ labelled_code_columns('history', ['province', 'unit', 'indicator', 'period']) }},
        history.period_type,
        history.period_start,
        history.period_end,
        history.value,
        history.numerator,
        history.denominator,
        history.submission_id,
        history.submitted_at,
        history.first_submitted_at

    from history
    where history.is_current

)

select * from final
