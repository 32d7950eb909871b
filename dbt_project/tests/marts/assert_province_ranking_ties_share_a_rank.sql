-- Marts contract: rank 1 is the best province by the indicator's direction, and provinces
-- with equal values share a rank: 1 + the number of provinces strictly better (1, 1, 3),
-- counted here without rank().

with

ranking as (

    select * from {{ ref('province_ranking') }}

),

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

scored as (

    select
        ranking.indicator_code,
        ranking.period,
        ranking.province_code,
        ranking.rank,
        ranking.provinces_ranked,
        case catalog.direction
            when 'higher_better' then ranking.value
            when 'lower_better' then -ranking.value
        end as score

    from ranking
    inner join catalog
        on ranking.indicator_code = catalog.indicator_code

),

counted as (

    select
        indicator_code,
        period,
        province_code,
        rank,
        provinces_ranked,
        -- provinces at least as good, minus those exactly as good: the strictly better
        count(*) over (
            partition by indicator_code, period
            order by score desc nulls last
            range between unbounded preceding and current row
        ) - count(*) over (partition by indicator_code, period, score) as provinces_better,
        count(*) over (partition by indicator_code, period) as provinces_in_period

    from scored

)

select *
from counted
where
    rank <> 1 + provinces_better
    or provinces_ranked <> provinces_in_period
