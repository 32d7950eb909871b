{#- The primary key (contract) begins with the unique_key's columns: it is the index of
    delete+insert's delete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'period'],
    )
}}

-- One row per (province, unit, period) a unit reported for. Ranks compare the units of a
-- province for a period, so the unit of recomputation is (province, period): an incremental
-- build recomputes every unit of each (province, period) a newer submission reported for.
-- depends_on: {{ ref('stg_raw__submission_values') }}

with

facts as (

    {{ rows_with_touched_keys(ref('fct_indicator_value'), ['province_code', 'period']) }}

),

gaps as (

    {{ rows_with_touched_keys(ref('target_gap'), ['province_code', 'period']) }}

),

reported as (

    select
        province_code,
        unit_code,
        period,
        min(period_type) as period_type,
        min(period_start) as period_start,
        min(period_end) as period_end,
        count(distinct indicator_code) as indicators_reported

    from facts
    group by province_code, unit_code, period

),

judged as (

    select
        province_code,
        unit_code,
        period,
        count(*) as targets_applicable,
        count(*) filter (where status = 'met') as targets_met,
        count(*) filter (where status = 'not_met') as targets_not_met

    from gaps
    group by province_code, unit_code, period

),

scored as (

    select
        reported.province_code,
        reported.unit_code,
        reported.period,
        reported.period_type,
        reported.period_start,
        reported.period_end,
        reported.indicators_reported,
        coalesce(judged.targets_applicable, 0) as targets_applicable,
        coalesce(judged.targets_met, 0) as targets_met,
        coalesce(judged.targets_not_met, 0) as targets_not_met,
        round(
            100.0 * judged.targets_met / nullif(judged.targets_applicable, 0), 4
        )::numeric(7, 4) as met_share

    from reported
    left join judged
        on
            reported.province_code = judged.province_code
            and reported.unit_code = judged.unit_code
            and reported.period = judged.period

),

coded as (

    select
        province_code,
        unit_code,
        period,
        period_type,
        period_start,
        period_end,
        indicators_reported,
        targets_applicable,
        targets_met,
        targets_not_met,
        met_share,
        -- Competition ranking (1, 1, 3): units with equal met_share share a rank. Units with
        -- no applicable target sort last and get no rank.
        case
            when met_share is not null
                then rank() over (
                    partition by province_code, period
                    order by met_share desc nulls last
                )
        end as rank_in_province,
        count(met_share) over (partition by province_code, period) as units_ranked

    from scored

),

final as (

    {{ select_labelled('coded', ['province', 'unit', 'period']) }}

)

select * from final
