{{ config(materialized='incremental', incremental_strategy='append') }}

-- Every period of the calendar with its names in Vietnamese, as reports write them
-- ("Tháng 3/2024", "Quý III/2024", "6 tháng đầu năm 2024"), and in English.

with

periods as (

    select * from {{ ref('int_periods_enumerated') }}

),

numbered as (

    select
        *,
        extract(year from period_start)::int as period_year,
        case period_type
            when 'month' then extract(month from period_start)::int
            when 'quarter' then extract(quarter from period_start)::int
            when 'half_year' then case when extract(month from period_start) = 1 then 1 else 2 end
            else 1
        end as period_number

    from periods

),

named as (

    select
        period,
        period_type,
        period_start,
        period_end,
        period_year,
        period_number,
        case period_type
            when 'month' then 'Tháng ' || period_number || '/' || period_year
            when 'quarter'
                then 'Quý ' || (array['I', 'II', 'III', 'IV'])[period_number] || '/' || period_year
            when 'half_year'
                then
                    '6 tháng '
                    || case when period_number = 1 then 'đầu' else 'cuối' end
                    || ' năm '
                    || period_year
            else 'Năm ' || period_year
        end as name_vi,
        case period_type
            when 'month' then to_char(period_start, 'FMMonth YYYY')
            when 'quarter' then 'Q' || period_number || ' ' || period_year
            when 'half_year' then 'H' || period_number || ' ' || period_year
            else period_year::text
        end as name_en,
        period_end + {{ var('due_days') | int }} as due_date,
        -- Sorts in time: the month, quarter, half or year starting in the same month order
        -- month < quarter < half_year < year (2024031 = March 2024, 2024012 = Q1 2024).
        (
            (period_year * 100 + extract(month from period_start)::int) * 10
            + case period_type
                when 'month' then 1
                when 'quarter' then 2
                when 'half_year' then 3
                else 4
            end
        ) as period_sort_key

    from numbered

),

-- The label sorts in time as text too: the canonical period first, then its name.
final as (

    select
        *,
        period || ' · ' || name_vi as period_label
    from named

)

select * from final
{{ dimension_rows_not_built('final', 'period') }}
