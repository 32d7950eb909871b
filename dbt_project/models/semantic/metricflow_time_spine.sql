-- One row per day, the time spine MetricFlow needs for time-based metrics (a view: it
-- costs nothing to build and is only read when a metrics query needs it).

with

days as (

    select generate_series(
        date '{{ var("calendar_first_year") }}-01-01',
        date '{{ var("calendar_last_year") }}-12-31',
        interval '1 day'
    )::date as date_day

)

select * from days
