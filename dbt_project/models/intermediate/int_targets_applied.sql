-- One row per current value and per target that applies to it: the target's province is
-- the row's or '*', and the row's period ends on or before the target's deadline.

with

trended as (

    select * from {{ ref('int_indicator_values_trended') }}

),

targets as (

    select * from {{ ref('targets') }}

),

applied as (

    select
        trended.province_code,
        trended.unit_code,
        trended.indicator_code,
        trended.period,
        trended.period_type,
        trended.period_start,
        trended.period_end,
        trended.value,
        trended.numerator,
        trended.denominator,
        trended.submission_id,
        trended.submitted_at,
        trended.trend_points,
        trended.trend_slope,
        trended.trend_intercept,
        targets.issuer as target_issuer,
        targets.comparator,
        targets.target_value,
        targets.deadline as target_deadline,
        targets.province_code as target_province_code

    from trended
    inner join targets
        on
            trended.indicator_code = targets.indicator_code
            and targets.province_code in (trended.province_code, '*')
            and trended.period_end <= targets.deadline

)

select * from applied
