-- fct_indicator_value_successor: a province that was never merged has exactly its own rows;
-- a merged province has its own rows up to its last day and its successor's after it.

with

lines as (

    select * from {{ ref('fct_indicator_value_successor') }}

),

facts as (

    select * from {{ ref('fct_indicator_value') }}

),

provinces as (

    select * from {{ ref('dim_province') }}

)

select
    lines.province_code,
    lines.reporting_province_code,
    lines.period

from lines
inner join provinces
    on lines.province_code = provinces.province_code
left join facts
    on
        lines.reporting_province_code = facts.province_code
        and lines.unit_code = facts.unit_code
        and lines.indicator_code = facts.indicator_code
        and lines.period = facts.period
where
    facts.value is distinct from lines.value
    or (provinces.valid_to is null and lines.reporting_province_code <> lines.province_code)
    or (
        provinces.valid_to is not null
        and (lines.period_end <= provinces.valid_to)
        <> (lines.reporting_province_code = lines.province_code)
    )
