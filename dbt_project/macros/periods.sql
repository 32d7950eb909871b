{#- Canonical periods (submission contract): YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY. -#}

{% macro period_type(period) -%}
    case
        when {{ period }} ~ '^[0-9]{4}-[0-9]{2}$' then 'month'
        when {{ period }} ~ '^[0-9]{4}-Q[1-4]$' then 'quarter'
        when {{ period }} ~ '^[0-9]{4}-H[12]$' then 'half_year'
        when {{ period }} ~ '^[0-9]{4}$' then 'year'
    end
{%- endmacro %}

{% macro period_months(period) -%}
    case {{ period_type(period) }}
        when 'month' then 1
        when 'quarter' then 3
        when 'half_year' then 6
        when 'year' then 12
    end
{%- endmacro %}

{% macro period_start(period) -%}
    make_date(
        substr({{ period }}, 1, 4)::int,
        case {{ period_type(period) }}
            when 'month' then substr({{ period }}, 6, 2)::int
            when 'quarter' then 3 * substr({{ period }}, 7, 1)::int - 2
            when 'half_year' then 6 * substr({{ period }}, 7, 1)::int - 5
            else 1
        end,
        1
    )
{%- endmacro %}

{% macro period_end(period) -%}
    (
        {{ period_start(period) }}
        + make_interval(months => {{ period_months(period) }})
        - interval '1 day'
    )::date
{%- endmacro %}

{#- The period type an indicator of catalog `frequency` is reported for. -#}
{% macro frequency_period_type(frequency) -%}
    case {{ frequency }}
        when 'monthly' then 'month'
        when 'quarterly' then 'quarter'
        when 'half_yearly' then 'half_year'
        when 'yearly' then 'year'
    end
{%- endmacro %}

{#- The calendar day (Vietnam time, UTC+7 all year) of a timestamp: a report sent at 23:30
    on the due date is on time wherever the server runs. -#}
{% macro local_date(timestamp_expr) -%}
    ({{ timestamp_expr }} at time zone 'Asia/Ho_Chi_Minh')::date
{%- endmacro %}
