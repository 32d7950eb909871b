{{ config(materialized='view') }}

-- The revisions: every version of a key that superseded an earlier version with another
-- value (a file re-sent with the same figure revises nothing), old beside new. A view over
-- fct_indicator_value_history, whose versions and their order it takes as they are.

with

history as (

    select * from {{ ref('fct_indicator_value_history') }}

),

revised as (

    select
        province_code,
        province_name_vi,
        province_name_en,
        unit_code,
        unit_name_vi,
        unit_name_en,
        indicator_code,
        indicator_name_vi,
        indicator_name_en,
        unit_of_measure,
        period,
        period_type,
        period_start,
        period_end,
        period_label,
        period_sort_key,
        previous_value as old_value,
        value as new_value,
        previous_submission_id as old_submission_id,
        submission_id as new_submission_id,
        previous_submitted_at as old_submitted_at,
        submitted_at as new_submitted_at,
        is_current,
        -- the contract's name for it (not a reserved word in PostgreSQL)
        (value - previous_value)::numeric(20, 4) as change  -- noqa: RF04

    from history
    where
        previous_submission_id is not null
        and value is distinct from previous_value

)

select * from revised
