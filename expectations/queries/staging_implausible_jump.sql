-- A value that jumps implausibly from the same unit's previous period of the same type
-- (rates given as numerator/denominator count as their rate).
-- The change is scored against all changes of that indicator with a robust z-score
-- (median and MAD, so a few wild values cannot hide themselves), and only large changes
-- in absolute terms are reported: more than 20 units and more than half the previous value.
with latest as (
    select distinct on (v.province_code, v.unit_code, v.indicator_code, v.period)
        v.province_code,
        v.unit_code,
        v.indicator_code,
        v.period,
        v.period_type,
        v.period_end,
        coalesce(v.reported_value, 100.0 * v.numerator / nullif(v.denominator, 0)) as value
    from {batch} as v
    inner join staging.stg_raw__submission_files as f on v.submission_id = f.submission_id
    where coalesce(v.reported_value, 100.0 * v.numerator / nullif(v.denominator, 0)) is not null
    order by
        v.province_code, v.unit_code, v.indicator_code, v.period,
        f.submitted_at desc, f.file_path collate "C" desc
),

changes as (
    select
        province_code,
        unit_code,
        indicator_code,
        period,
        value,
        lag(value) over series as previous,
        value - lag(value) over series as change
    from latest
    window series as (
        partition by province_code, unit_code, indicator_code, period_type
        order by period_end
    )
),

centre as (
    select
        indicator_code,
        percentile_cont(0.5) within group (order by change) as median_change
    from changes
    where change is not null
    group by indicator_code
),

spread as (
    select
        c.indicator_code,
        m.median_change,
        1.4826 * percentile_cont(0.5) within group (
            order by abs(c.change - m.median_change)
        ) as robust_sd
    from changes as c
    inner join centre as m on c.indicator_code = m.indicator_code
    where c.change is not null
    group by c.indicator_code, m.median_change
)

select
    c.province_code,
    c.unit_code,
    c.indicator_code,
    c.period,
    c.previous,
    c.value,
    round(((c.change - s.median_change) / nullif(s.robust_sd, 0))::numeric, 1) as robust_z
from changes as c
inner join spread as s on c.indicator_code = s.indicator_code
where
    c.change is not null
    and abs(c.change - s.median_change) > 5 * greatest(s.robust_sd, 0.000001)
    and abs(c.change) > greatest(20, 0.5 * abs(c.previous))
