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
