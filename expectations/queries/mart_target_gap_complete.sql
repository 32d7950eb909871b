-- Every fact row with an applicable target has its row in target_gap.
select
    f.province_code,
    f.unit_code,
    f.indicator_code,
    f.period,
    t.issuer,
    t.target_value
from {batch} as f
inner join reference.targets as t
    on
        f.indicator_code = t.indicator_code
        and t.province_code in (f.province_code, '*')
        and f.period_end <= t.deadline::date
where not exists (
    select 1
    from marts_candidate.target_gap as g
    where
        g.province_code = f.province_code
        and g.unit_code = f.unit_code
        and g.indicator_code = f.indicator_code
        and g.period = f.period
        and g.target_issuer = t.issuer
        and g.target_province_code = t.province_code
        and g.target_deadline = t.deadline::date
        and g.target_value = t.target_value::numeric
)
