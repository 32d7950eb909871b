-- Marts contract: the province's value is that of the unit named first in the catalog's
-- reporting_units (among the province-level units that reported the period); for '*' it is
-- 100 * sum(numerator) / sum(denominator) over the units that gave both, else the mean.

with

ranking as (

    select * from {{ ref('province_ranking') }}

),

-- Read twice below, so PostgreSQL materializes it: the computed columns, not the names.
facts as (

    select {{ current_value_columns('facts') }}
    from {{ ref('fct_indicator_value') }} as facts
    inner join {{ ref('units') }} as units
        on facts.unit_code = units.unit_code
    where units.unit_type = 'department'

),

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

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

first_reporting_units as (

    select distinct on (facts.indicator_code, facts.period, facts.province_code)
        facts.indicator_code,
        facts.period,
        facts.province_code,
        facts.unit_code,
        facts.value

    from facts
    inner join named_units
        on
            facts.indicator_code = named_units.indicator_code
            and facts.unit_code = named_units.unit_code
    order by
        facts.indicator_code,
        facts.period,
        facts.province_code,
        named_units.unit_order

),

any_unit_values as (

    select
        facts.indicator_code,
        facts.period,
        facts.province_code,
        coalesce(
            {{ rate_pct(
                'sum(facts.numerator) filter (where facts.denominator is not null)',
                'sum(facts.denominator) filter (where facts.numerator is not null)'
            ) }},
            round(avg(facts.value), 4)
        ) as value

    from facts
    inner join catalog
        on facts.indicator_code = catalog.indicator_code
    where catalog.reporting_units = '*'
    group by facts.indicator_code, facts.period, facts.province_code

),

expected_values as (

    select
        indicator_code,
        period,
        province_code,
        unit_code as reporting_unit_code,
        value
    from first_reporting_units

    union all

    select
        indicator_code,
        period,
        province_code,
        '*' as reporting_unit_code,
        value
    from any_unit_values

)

select
    ranking.value as value_in_ranking,
    expected_values.value as value_expected,
    coalesce(ranking.indicator_code, expected_values.indicator_code) as indicator_code,
    coalesce(ranking.period, expected_values.period) as period,
    coalesce(ranking.province_code, expected_values.province_code) as province_code

from ranking
full outer join expected_values
    on
        ranking.indicator_code = expected_values.indicator_code
        and ranking.period = expected_values.period
        and ranking.province_code = expected_values.province_code
where
    ranking.province_code is null
    or expected_values.province_code is null
    or ranking.reporting_unit_code <> expected_values.reporting_unit_code
    or ranking.value <> expected_values.value
