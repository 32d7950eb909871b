-- Marts contract: one target_gap row per fct_indicator_value row and per target that
-- applies to it (the target's province is the row's or '*', the period ends on or before
-- the deadline), no more and no fewer; this also checks the incremental builds.

with

facts as (

    select * from {{ ref('fct_indicator_value') }}

),

targets as (

    select * from {{ ref('targets') }}

),

gaps as (

    select * from {{ ref('target_gap') }}

),

applicable as (

    select
        facts.province_code,
        facts.unit_code,
        facts.indicator_code,
        facts.period,
        facts.value,
        targets.issuer as target_issuer,
        targets.province_code as target_province_code,
        targets.deadline as target_deadline,
        targets.target_value::numeric(20, 4) as target_value

    from facts
    inner join targets
        on
            facts.indicator_code = targets.indicator_code
            and targets.province_code in (facts.province_code, '*')
            and facts.period_end <= targets.deadline

),

present as (

    select
        province_code,
        unit_code,
        indicator_code,
        period,
        value,
        target_issuer,
        target_province_code,
        target_deadline,
        target_value

    from gaps

),

missing as (

    select * from applicable
    except all
    select * from present

),

extra as (

    select * from present
    except all
    select * from applicable

)

select
    'missing' as problem,
    missing.*
from missing

union all

select
    'extra' as problem,
    extra.*
from extra
