-- Supersession (submission contract): for each (province, unit, indicator, period) the row of
-- the latest accepted file wins, ordered by submitted_at then path, so the result depends
-- only on the files and not on the order they were processed in.

with

values_loaded as (

    select * from {{ ref('stg_raw__submission_values') }}

),

files as (

    select * from {{ ref('stg_raw__submission_files') }}
    where is_accepted

),

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

ranked as (

    select
        values_loaded.*,
        files.submitted_at,
        files.file_path,
        catalog.unit as indicator_unit,
        row_number() over (
            partition by
                values_loaded.province_code,
                values_loaded.unit_code,
                values_loaded.indicator_code,
                values_loaded.period
            order by files.submitted_at desc, files.file_path desc
        ) as recency_rank

    from values_loaded
    inner join files on values_loaded.submission_id = files.submission_id
    inner join catalog on values_loaded.indicator_code = catalog.indicator_code

),

current_values as (

    select
        province_code,
        unit_code,
        indicator_code,
        period,
        period_type,
        period_start,
        period_end,
        case
            when indicator_unit = 'percent' and numerator is not null and denominator is not null
                then {{ rate_pct('numerator', 'denominator') }}
            else reported_value
        end as value,
        numerator,
        denominator,
        submission_id,
        submitted_at

    from ranked
    where recency_rank = 1

)

select * from current_values
