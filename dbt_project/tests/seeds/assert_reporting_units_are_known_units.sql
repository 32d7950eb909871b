-- Every unit the catalog names in reporting_units exists in the units seed ('*' = any unit).

with

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

units as (

    select * from {{ ref('units') }}

),

named_units as (

    select
        catalog.indicator_code,
        named.unit_code

    from catalog
    cross join lateral unnest(string_to_array(catalog.reporting_units, ';')) as named (unit_code)
    where catalog.reporting_units <> '*'

)

select named_units.*

from named_units
left join units
    on named_units.unit_code = units.unit_code
where units.unit_code is null
