{#- The primary key (contract) begins with the unique_key's columns: it is the index of
    delete+insert's delete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['indicator_code', 'period'],
    )
}}

-- The province's value of an indicator for a period, from its province-level units
-- (unit_type department), and its rank among the provinces that reported it. Ranks compare
-- provinces, so an incremental build recomputes every province of each (indicator, period)
-- a newer submission reported.
-- depends_on: {{ ref('stg_raw__submission_values') }}

with

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

units as (

    select * from {{ ref('units') }}

),

facts as (

    {{ rows_with_touched_keys(ref('fct_indicator_value'), ['indicator_code', 'period']) }}

),

province_level_facts as (

    select {{ current_value_columns('facts') }}
    from facts
    inner join units
        on facts.unit_code = units.unit_code
    where units.unit_type = 'department'

),

-- Indicators assigned to named units: their order in reporting_units.
named_units as (

    select
        catalog.indicator_code,
        named.unit_code,
        named.unit_order

    from catalog
    cross join
        lateral unnest(string_to_array(catalog.reporting_units, ';'))
        with ordinality as named (unit_code, unit_order)
    where catalog.reporting_units <> '*'

),

-- The first unit in catalog order that reported the period speaks for the province.
named_unit_values as (

    select
        province_level_facts.indicator_code,
        province_level_facts.period,
        province_level_facts.period_type,
        province_level_facts.period_start,
        province_level_facts.period_end,
        province_level_facts.province_code,
        province_level_facts.unit_code as reporting_unit_code,
        province_level_facts.value,
        row_number() over (
            partition by
                province_level_facts.indicator_code,
                province_level_facts.period,
                province_level_facts.province_code
            order by named_units.unit_order
        ) as unit_preference

    from province_level_facts
    inner join named_units
        on
            province_level_facts.indicator_code = named_units.indicator_code
            and province_level_facts.unit_code = named_units.unit_code

),

-- Indicators every unit reports ('*'): 100 * sum(numerator) / sum(denominator) over the
-- units that gave both, else the mean of the values.
any_unit_values as (

    select
        province_level_facts.indicator_code,
        province_level_facts.period,
        min(province_level_facts.period_type) as period_type,
        min(province_level_facts.period_start) as period_start,
        min(province_level_facts.period_end) as period_end,
        province_level_facts.province_code,
        '*' as reporting_unit_code,
        case
            when count(*) filter (where province_level_facts.has_fraction) > 0
                then {{ rate_pct(
                    'sum(province_level_facts.numerator)'
                    ~ ' filter (where province_level_facts.has_fraction)',
                    'sum(province_level_facts.denominator)'
                    ~ ' filter (where province_level_facts.has_fraction)'
                ) }}
            else round(avg(province_level_facts.value), 4)
        end as value

    from (
        select
            *,
            numerator is not null and denominator is not null as has_fraction
        from province_level_facts
    ) as province_level_facts
    inner join catalog
        on province_level_facts.indicator_code = catalog.indicator_code
    where catalog.reporting_units = '*'
    group by
        province_level_facts.indicator_code,
        province_level_facts.period,
        province_level_facts.province_code

),

province_values as (

    select
        indicator_code,
        period,
        period_type,
        period_start,
        period_end,
        province_code,
        reporting_unit_code,
        value
    from named_unit_values
    where unit_preference = 1

    union all

    select
        indicator_code,
        period,
        period_type,
        period_start,
        period_end,
        province_code,
        reporting_unit_code,
        value
    from any_unit_values

),

-- Higher is better once lower_better values (ranks, days) are negated.
scored as (

    select
        province_values.*,
        case catalog.direction
            when 'lower_better' then -province_values.value
            else province_values.value
        end as score

    from province_values
    inner join catalog
        on province_values.indicator_code = catalog.indicator_code

),

coded as (

    select
        indicator_code,
        period,
        period_type,
        period_start,
        period_end,
        province_code,
        reporting_unit_code,
        value::numeric(20, 4) as value,
        -- Competition ranking (1, 1, 3) in the indicator's direction; ties share a rank.
        rank() over (
            partition by indicator_code, period
            order by score desc nulls last
        ) as rank,
        count(*) over (partition by indicator_code, period) as provinces_ranked

    from scored

),

final as (

    {{ select_labelled('coded', ['province', 'indicator', 'period']) }}

)

select * from final
