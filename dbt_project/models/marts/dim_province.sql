{{ config(materialized='incremental', incremental_strategy='append') }}

-- Provinces with their validity and, for the provinces merged in the 2025 reform, the
-- province they merged into and the province that carries them on today (the end of the
-- successor chain).

with recursive

provinces as (

    select * from {{ ref('provinces') }}

),

succession as (

    select
        province_code,
        province_code as current_province_code,
        0 as merge_steps

    from provinces

    union all

    select
        succession.province_code,
        merged.successor_code as current_province_code,
        succession.merge_steps + 1 as merge_steps

    from succession
    inner join provinces as merged
        on succession.current_province_code = merged.province_code
    where merged.successor_code is not null and succession.merge_steps < 10

),

current_provinces as (

    select distinct on (province_code)
        province_code,
        current_province_code
    from succession
    order by province_code asc, merge_steps desc

),

final as (

    select
        provinces.province_code,
        provinces.name_vi,
        provinces.name_en,
        provinces.valid_from,
        provinces.valid_to,
        provinces.successor_code,
        current_provinces.current_province_code,
        current_province.name_vi as current_name_vi,
        current_province.name_en as current_name_en,
        provinces.valid_to is null as is_current

    from provinces
    inner join current_provinces
        on provinces.province_code = current_provinces.province_code
    inner join provinces as current_province
        on current_provinces.current_province_code = current_province.province_code

)

select * from final
{{ dimension_rows_not_built('final', 'province_code') }}
