-- Marts contract: a scorecard row per (province, unit, period) reported, counting the
-- unit's indicators and its target_gap rows; met_share = 100 * met / applicable, NULL with
-- no applicable target, and then no rank.

with

facts as (

    select * from {{ ref('fct_indicator_value') }}

),

gaps as (

    select * from {{ ref('target_gap') }}

),

scorecard as (

    select * from {{ ref('unit_scorecard') }}

),

reported as (

    select
        province_code,
        unit_code,
        period,
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
        count(*) filter (where status = 'met') as targets_met
    from gaps
    group by province_code, unit_code, period

),

recomputed as (

    select
        reported.province_code,
        reported.unit_code,
        reported.period,
        reported.indicators_reported,
        coalesce(judged.targets_applicable, 0) as targets_applicable,
        coalesce(judged.targets_met, 0) as targets_met
    from reported
    left join judged
        on
            reported.province_code = judged.province_code
            and reported.unit_code = judged.unit_code
            and reported.period = judged.period

)

select
    coalesce(recomputed.province_code, scorecard.province_code) as province_code,
    coalesce(recomputed.unit_code, scorecard.unit_code) as unit_code,
    coalesce(recomputed.period, scorecard.period) as period

from recomputed
full outer join scorecard
    on
        recomputed.province_code = scorecard.province_code
        and recomputed.unit_code = scorecard.unit_code
        and recomputed.period = scorecard.period
where
    recomputed.province_code is null
    or scorecard.province_code is null
    or recomputed.indicators_reported <> scorecard.indicators_reported
    or recomputed.targets_applicable <> scorecard.targets_applicable
    or recomputed.targets_met <> scorecard.targets_met
    or scorecard.targets_met + scorecard.targets_not_met <> scorecard.targets_applicable
    or scorecard.met_share is distinct from round(
        100.0 * scorecard.targets_met / nullif(scorecard.targets_applicable, 0), 4
    )
    or (scorecard.met_share is null) <> (scorecard.rank_in_province is null)
