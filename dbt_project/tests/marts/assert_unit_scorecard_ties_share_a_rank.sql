-- Marts contract: rank_in_province is 1 for the best met_share among the province's units
-- for the period, and units with equal met_share share a rank: 1 + the number of units
-- strictly better (1, 1, 3), counted here without rank().

with

scorecard as (

    select * from {{ ref('unit_scorecard') }}
    where met_share is not null

),

counted as (

    select
        province_code,
        unit_code,
        period,
        rank_in_province,
        units_ranked,
        -- units at least as good, minus those exactly as good: the units strictly better
        count(*) over (
            partition by province_code, period
            order by met_share desc
            range between unbounded preceding and current row
        ) - count(*) over (partition by province_code, period, met_share) as units_better,
        count(*) over (partition by province_code, period) as units_with_share

    from scorecard

)

select *
from counted
where
    rank_in_province <> 1 + units_better
    or units_ranked <> units_with_share
