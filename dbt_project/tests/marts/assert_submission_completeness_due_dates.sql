-- Marts contract: the report is due due_days (default 5) after the period ends; on_time is
-- NULL when nothing was submitted, else whether the first submission came by the due date
-- (Vietnam time).

with

completeness as (

    select * from {{ ref('submission_completeness') }}

)

select *

from completeness
where
    due_date <> period_end + {{ var('due_days') | int }}
    or (on_time is null) <> (not submitted)
    or on_time <> ({{ local_date('submitted_at') }} <= due_date)
