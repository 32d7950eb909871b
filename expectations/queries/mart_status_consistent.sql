-- status is met exactly when the value satisfies the comparator, and risk is met with it.
select
    province_code,
    unit_code,
    indicator_code,
    period,
    comparator,
    value,
    target_value,
    status,
    risk
from {batch}
where
    (status = 'met') is distinct from case comparator
        when '>=' then value >= target_value
        when '<=' then value <= target_value
    end
    or (status = 'met') is distinct from (risk = 'met')
