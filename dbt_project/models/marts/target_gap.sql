with

applied as (

    select * from {{ ref('int_targets_applied') }}

),

judged as (

    select
        *,
        {{ satisfies('comparator', 'value', 'target_value') }} as is_met,
        case
            when trend_points >= 2 and trend_slope is not null
                then trend_intercept + trend_slope * {{ day_number('target_deadline') }}
        end as trend_projection

    from applied

),

final as (

    select
        province_code,
        unit_code,
        indicator_code,
        period,
        period_end,
        value,
        target_issuer,
        target_province_code,
        comparator,
        target_value,
        target_deadline,
        {{ gap('comparator', 'value', 'target_value') }} as gap,
        case
            when comparator = '>=' and target_value <> 0
                then round(100.0 * value / target_value, 4)
        end as attainment_pct,
        case when is_met then 'met' else 'not_met' end as status,
        case
            when is_met then 'met'
            when period_end = target_deadline then 'missed'
            when trend_projection is null then 'insufficient_data'
            when {{ satisfies('comparator', 'trend_projection', 'target_value') }} then 'on_track'
            else 'at_risk'
        end as risk,
        case
            when not is_met and period_end < target_deadline
                then round(trend_projection::numeric, 4)
        end as projected_value

    from judged

)

select * from final
