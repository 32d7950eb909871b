-- No period ends after the file that reports it arrived (Vietnam's calendar date).
select
    v.submission_id,
    v.source_row_number,
    v.period,
    f.submitted_at
from {batch} as v
inner join staging.stg_raw__submission_files as f on v.submission_id = f.submission_id
where v.period_end > (f.submitted_at at time zone 'Asia/Ho_Chi_Minh')::date
