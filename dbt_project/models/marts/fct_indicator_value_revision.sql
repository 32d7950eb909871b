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
        {{ labelled_code_columns('history', ['province', 'unit', 'indicator', 'period']) }},
        history.period_type,
        history.period_start,
        history.period_end,
        history.previous_value as old_value,
        history.value as new_value,
        history.previous_submission_id as old_submission_id,
        history.submission_id as new_submission_id,
        history.previous_submitted_at as old_submitted_at,
        history.submitted_at as new_submitted_at,
        history.is_current,
        -- the contract's name for it (not a reserved word in PostgreSQL)
        (history.value - history.previous_value)::numeric(20, 4) as change  -- noqa: RF04

    from history
    where
        history.previous_submission_id is not null
        and history.value is distinct from history.previous_value

)

select * from revised
