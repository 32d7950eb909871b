-- The least-squares line through a unit's values of an indicator for the periods ending on
-- or before each row's period (value against period_end in days), for projecting to a
-- target's deadline. A window over period_end with the default RANGE frame includes every
-- period ending on the same day, which is exactly "on or before this one".

with

current_values as (

    select * from {{ ref('int_indicator_values_current') }}

),

trended as (

    select
        province_code,
        unit_code,
        indicator_code,
        period,
        period_type,
        period_start,
        period_end,
        value,
        numerator,
        denominator,
        submission_id,
        submitted_at,
        regr_count(value, {{ day_number('period_end') }}) over trend_window as trend_points,
        regr_slope(value, {{ day_number('period_end') }}) over trend_window as trend_slope,
        regr_intercept(value, {{ day_number('period_end') }}) over trend_window
            as trend_intercept

    from current_values
    window trend_window as (
        partition by province_code, unit_code, indicator_code
        order by period_end
    )

)

select * from trended
