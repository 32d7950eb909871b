with

current_values as (

    select * from {{ ref('int_indicator_values_current') }}

),

final as (

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
        submitted_at

    from current_values

)

select * from final
