{#- Shared arithmetic of the marts contract, so every model computes it the same way. -#}

{#- A rate on the 0-100 scale from a numerator and a denominator. -#}
{% macro rate_pct(numerator, denominator) -%}
    round(100.0 * {{ numerator }} / nullif({{ denominator }}, 0), 4)
{%- endmacro %}

{#- Days since a fixed epoch: the x axis of the least-squares trend. -#}
{% macro day_number(date_expr) -%}
    ({{ date_expr }} - date '2000-01-01')
{%- endmacro %}

{#- Whether `value` satisfies `comparator target` (comparator is '>=' or '<='). -#}
{% macro satisfies(comparator, value, target) -%}
    case {{ comparator }}
        when '>=' then {{ value }} >= {{ target }}
        when '<=' then {{ value }} <= {{ target }}
    end
{%- endmacro %}

{#- How far `value` is from `target`, positive when short of it. -#}
{% macro gap(comparator, value, target) -%}
    case {{ comparator }}
        when '>=' then {{ target }} - {{ value }}
        when '<=' then {{ value }} - {{ target }}
    end
{%- endmacro %}

{#- Open SDG's progress measure (docs/marts-contract.md, target_gap). The compound annual
    growth rate from `base` on `base_date` to `value` on `date`, a year being 365.25 days:
    (value / base)^(1 / years) - 1. NULL where the exponential model has no answer: a base
    of 0 or less, a negative value, or no time between the two dates. -#}
{% macro annual_growth(base, base_date, value, date) -%}
    case
        when {{ base }} > 0 and {{ value }} >= 0 and {{ date }} > {{ base_date }}
            then power(
                ({{ value }} / {{ base }})::double precision,
                365.25 / ({{ date }} - {{ base_date }})::double precision
            ) - 1
    end
{%- endmacro %}

{#- Open SDG's progress status of `value` against `comparator target`, from the annual growth
    observed since the series' baseline and the one required from the baseline to reach the
    target by its deadline (annual_growth): target_achieved when the value satisfies the
    target; else R = d * observed / |required|, d = 1 for >= and -1 for <= (so a falling
    value is progress towards a <= target), against sdg-build's thresholds: R >= 0.95
    substantial_progress, >= 0.6 moderate_progress, >= 0 limited_progress, < 0
    deterioration. insufficient_data where a growth rate is NULL or the target is 0 or less
    (compound growth never reaches 0; Open SDG substitutes 0.001, which then decides the
    answer). -#}
{% macro progress_status(comparator, value, target, observed_growth, required_growth) -%}
    {%- set toward_target -%}
        (case {{ comparator }} when '>=' then 1 when '<=' then -1 end * {{ observed_growth }})
    {%- endset -%}
    case
        when {{ satisfies(comparator, value, target) }} then 'target_achieved'
        when
            {{ observed_growth }} is null or {{ required_growth }} is null or {{ target }} <= 0
            then 'insufficient_data'
        -- R >= k multiplied out by |required|, which is 0 only when the baseline was on the
        -- target: the value has since left it the wrong way (R tends to minus infinity), and
        -- only the last test holds.
        when {{ toward_target }} >= 0.95 * abs({{ required_growth }}) then 'substantial_progress'
        when {{ toward_target }} >= 0.6 * abs({{ required_growth }}) then 'moderate_progress'
        when {{ toward_target }} >= 0 then 'limited_progress'
        when {{ toward_target }} < 0 then 'deterioration'
    end
{%- endmacro %}
