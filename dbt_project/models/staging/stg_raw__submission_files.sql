with

source as (

    select * from {{ source('raw', 'submission_file') }}

),

renamed as (

    select
        submission_id,
        path as file_path,
        size_bytes,
        sha256,
        file_format,
        submitted_at,
        outcome,
        row_count,
        error_count,
        duplicate_of as duplicate_of_submission_id,
        seen_at,
        outcome = 'accepted' as is_accepted

    from source
    where {{ known_submission('source.submission_id') }}

)

select * from renamed
