{{ config(materialized='incremental', incremental_strategy='append') }}

with

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

targets as (

    select * from {{ ref('targets') }}

),

target_counts as (

    select
        indicator_code,
        count(*) as targets_set
    from targets
    group by indicator_code

),

final as (

    select
        catalog.indicator_code,
        catalog.name_vi,
        catalog.name_en,
        catalog.unit_of_measure,
        catalog.direction,
        catalog.reporting_units,
        catalog.frequency,
        {{ frequency_period_type('catalog.frequency') }} as period_type,
        coalesce(target_counts.targets_set, 0) as targets_set,
        catalog.source

    from catalog
    left join target_counts
        on catalog.indicator_code = target_counts.indicator_code

)

select * from final
{{ dimension_rows_not_built('final', 'indicator_code') }}
