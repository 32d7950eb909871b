-- One row per current value and per target that applies to it: the target's province is
-- the row's or '*', and the row's period ends on or before the target's deadline.

with

trended as (

    select * from {{ ref('int_indicator_values_trended') }}

),

targets as (

    select * from {{ ref('targets') }}

),

applied as (

    {{ select_targets_applied('trended', 'targets') }}

)

select * from applied
