-- Supersession (submission contract): for each (province, unit, indicator, period) the row of
-- the latest accepted file wins, ordered by submitted_at then path, so the result depends
-- only on the files and not on the order they were processed in. The incremental
-- fct_indicator_value runs the same macro on the keys new submissions touched.

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

current_values as (

    {{ select_current_values('values_loaded', 'files', 'catalog') }}

)

select * from current_values
