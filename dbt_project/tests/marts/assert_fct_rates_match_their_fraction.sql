-- Marts contract: for percent indicators the value is the rate on the 0-100 scale, computed
-- from numerator/denominator when they were given.

with

facts as (

    select * from {{ ref('fct_indicator_value') }}

),

catalog as (

    select * from {{ ref('indicator_catalog') }}

)

select
    facts.province_code,
    facts.unit_code,
    facts.indicator_code,
    facts.period,
    facts.value

from facts
inner join catalog
    on facts.indicator_code = catalog.indicator_code
where
    catalog.unit_of_measure = 'percent'
    and (
        facts.value not between 0 and 100
        or (
            facts.numerator is not null
            and facts.denominator is not null
            and facts.value <> {{ rate_pct('facts.numerator', 'facts.denominator') }}
        )
    )
