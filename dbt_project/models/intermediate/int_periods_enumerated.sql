-- Every period of every type (month, quarter, half-year, year) of the calendar years the
-- warehouse covers: the program's years, widened to any year a report names. The period
-- macros give each its type and bounds, exactly as for the periods that were reported.

with

reported_years as (

    -- Canonical periods begin with their year (YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY), so the
    -- smallest and largest codes name the first and last years: one pass over the text,
    -- ten times cheaper than parsing every row's dates (this view is read by dim_period,
    -- submission_completeness and their tests).
    select
        substr(min(period collate "C"), 1, 4)::int as first_reported_year,
        substr(max(period collate "C"), 1, 4)::int as last_reported_year
    from {{ ref('stg_raw__submission_values') }}

),

bounds as (

    select
        least(
            {{ var('calendar_first_year') }}, reported_years.first_reported_year
        ) as first_year,
        greatest(
            {{ var('calendar_last_year') }}, reported_years.last_reported_year
        ) as last_year
    from reported_years

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
