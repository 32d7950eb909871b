-- Every period of every type (month, quarter, half-year, year) of the calendar years the
-- warehouse covers: the program's years, widened to any year a report names. The period
-- macros give each its type and bounds, exactly as for the periods that were reported.

with

reported_periods as (

    select
        period_start,
        period_end
    from {{ ref('stg_raw__submission_values') }}

),

bounds as (

    select
        least(
            {{ var('calendar_first_year') }},
            extract(year from min(period_start))::int
        ) as first_year,
        greatest(
            {{ var('calendar_last_year') }},
            extract(year from max(period_end))::int
        ) as last_year
    from reported_periods

),

years as (

    select generate_series(bounds.first_year, bounds.last_year) as period_year
    from bounds

),

period_codes as (

    select to_char(years.period_year, 'FM0000') || '-' || to_char(months.n, 'FM00') as period
    from years
    cross join generate_series(1, 12) as months (n)

    union all

    select to_char(years.period_year, 'FM0000') || '-Q' || quarters.n as period
    from years
    cross join generate_series(1, 4) as quarters (n)

    union all

    select to_char(years.period_year, 'FM0000') || '-H' || halves.n as period
    from years
    cross join generate_series(1, 2) as halves (n)

    union all

    select to_char(years.period_year, 'FM0000') as period
    from years

),

final as (

    select
        period,
        {{ period_type('period') }} as period_type,
        {{ period_start('period') }} as period_start,
        {{ period_end('period') }} as period_end

    from period_codes

)

select * from final
