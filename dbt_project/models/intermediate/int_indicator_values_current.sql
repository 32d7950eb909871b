-- Supersession (submission contract): for each (province, unit, indicator, period) the row of
-- the latest accepted file wins, ordered by submitted_at then path, so the result depends
-- only on the files and not on the order they were processed in. The incremental
-- fct_indicator_value_history ranks the versions of the keys new submissions touched with
-- the same macro (select_value_versions).

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

periods as (

    select * from {{ ref('int_periods_enumerated') }}

),

current_values as (

    {{ select_current_values('values_loaded', 'files', 'catalog', 'periods') }}

)

select * from current_values
