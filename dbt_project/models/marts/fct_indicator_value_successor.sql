{{ config(materialized='view') }}

-- fct_indicator_value read across the 2025 administrative reform: each province's series
-- continues, after the province was merged, with the values of the province it merged into
-- (Quảng Nam 49 until 2025-06-30, then Đà Nẵng 48), so one province_code is one unbroken
-- line. A province never merged has exactly its own rows. The successor's later rows appear
-- under both codes: filter on one province_code per line, never sum across provinces here.

with recursive

facts as (

    select * from {{ ref('fct_indicator_value') }}

),

-- dim_province, not the seed: a view in the published schema must depend only on tables
-- published with it (reloading a seed would otherwise drop this view with it).
provinces as (

    select * from {{ ref('dim_province') }}

),

-- Whose values make up a province's line, for periods ending after `follows_after` (the
-- previous member's last day) up to `member_until` (this member's last day; NULL = open).
lineage as (

    select
        province_code,
        province_code as member_province_code,
        null::date as follows_after,
        valid_to as member_until,
        0 as merge_steps

    from provinces

    union all

    select
        lineage.province_code,
        successor.province_code as member_province_code,
        lineage.member_until as follows_after,
        successor.valid_to as member_until,
        lineage.merge_steps + 1 as merge_steps

    from lineage
    inner join provinces as member
        on lineage.member_province_code = member.province_code
    inner join provinces as successor
        on member.successor_code = successor.province_code
    where lineage.member_until is not null and lineage.merge_steps < 10

),

coded as (

    select
        lineage.province_code,
        facts.unit_code,
        facts.indicator_code,
        facts.period,
        facts.period_type,
        facts.period_start,
        facts.period_end,
        facts.value,
        facts.numerator,
        facts.denominator,
        facts.submission_id,
        facts.submitted_at,
        facts.province_code as reporting_province_code,
        lineage.merge_steps > 0 as is_successor_value

    from lineage
    inner join facts
        on
            lineage.member_province_code = facts.province_code
            and (lineage.follows_after is null or lineage.follows_after < facts.period_end)
            and (lineage.member_until is null or lineage.member_until >= facts.period_end)

),

final as (

    {{ select_labelled('coded', ['province', 'unit', 'indicator', 'period']) }}

)

select * from final
