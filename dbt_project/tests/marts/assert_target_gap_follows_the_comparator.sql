-- Marts contract: gap = target - value for >= and value - target for <=; attainment
-- 100 * value / target for >= only (NULL for a zero target); status met exactly when the
-- value satisfies the comparator; risk met exactly when status is met, missed only on the
-- deadline, and a projection exactly behind on_track/at_risk; progress_status
-- target_achieved exactly when status is met.

with

gaps as (

    select * from {{ ref('target_gap') }}

)

select *

from gaps
where
    gap is distinct from case comparator
        when '>=' then target_value - value
        when '<=' then value - target_value
    end
    or attainment_pct is distinct from case
        when comparator = '>=' and target_value <> 0
            then round(100.0 * value / target_value, 4)
    end
    or (status = 'met') is distinct from case comparator
        when '>=' then value >= target_value
        when '<=' then value <= target_value
    end
    or (risk = 'met') <> (status = 'met')
    or (progress_status = 'target_achieved') <> (status = 'met')
    or (risk = 'missed' and period_end <> target_deadline)
    or (risk <> 'met' and period_end = target_deadline and risk <> 'missed')
    or (projected_value is not null) <> (risk in ('on_track', 'at_risk'))
    or (
        risk in ('on_track', 'at_risk')
        and (risk = 'on_track') is distinct from case comparator
            when '>=' then projected_value >= target_value
            when '<=' then projected_value <= target_value
        end
    )
    or period_end > target_deadline
