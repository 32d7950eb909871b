{{ config(materialized='incremental', incremental_strategy='append') }}

with

units as (

    select * from {{ ref('units') }}

),

final as (

    select
        unit_code,
        name_vi,
        name_en,
        unit_type

    from units

)

select * from final
{{ dimension_rows_not_built('final', 'unit_code') }}
