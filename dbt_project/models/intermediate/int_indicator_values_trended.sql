-- The least-squares line through a unit's values of an indicator for the periods ending on
-- or before each row's period (value against period_end in days), for projecting to a
-- target's deadline (macro select_trended).

with

current_values as (

    select * from {{ ref('int_indicator_values_current') }}

),

trended as (

    {{ select_trended('current_values') }}

)

select * from trended
