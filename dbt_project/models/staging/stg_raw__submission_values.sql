with

source as (

    select * from {{ source('raw', 'submission_value') }}

),

typed as (

    select
        submission_id,
        sheet_index as source_sheet_index,
        sheet as source_sheet,
        row_number as source_row_number,
        province_code,
        unit_code,
        indicator_code,
        period,
        {{ period_type('period') }} as period_type,
        {{ period_start('period') }} as period_start,
        {{ period_end('period') }} as period_end,
        numerator,
        denominator,
        value as reported_value,
        note

    from source
    where {{ known_submission('source.submission_id') }}

)

select * from typed
