-- gap is target − value for >= and value − target for <=.
select
    province_code,
    unit_code,
    indicator_code,
    period,
    comparator,
    value,
    target_value,
    gap
from {batch}
where
    gap is distinct from case comparator
        when '>=' then target_value - value
        when '<=' then value - target_value
    end
