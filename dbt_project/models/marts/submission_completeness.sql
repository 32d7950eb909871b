{#- The primary key (contract) begins with the unique_key's columns: it is the index of
    delete+insert's delete. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'unit_code', 'indicator_code', 'period'],
    )
}}

-- The reports that were expected, and whether and when they came. A unit is expected to
-- report each indicator the catalog assigns it (reporting_units; '*' = every unit) for every
-- period of the indicator's frequency lying within the province's reported span (from the
-- start of the earliest period it reported to the end of the latest) and within the
-- province's validity (a province merged in 2025 owes nothing after its merger).
-- Incremental: a newer submission can extend its province's span, adding expected reports,
-- and marks its own keys submitted; a build recomputes exactly those rows.
-- depends_on: {{ ref('stg_raw__submission_values') }}

with

facts as (

    select * from {{ ref('fct_indicator_value') }}

),

catalog as (

    select * from {{ ref('indicator_catalog') }}

),

units as (

    select * from {{ ref('units') }}

),

provinces as (

    select * from {{ ref('provinces') }}

),

periods as (

    select * from {{ ref('int_periods_enumerated') }}

),

{% if is_incremental() %}

new_values as (

    {{ submission_values_since_watermark() }}

),

changed_provinces as (

    select distinct province_code
    from new_values

),

new_periods as (

    select distinct
        province_code,
        period
    from new_values

),

new_keys as (

    select distinct
        province_code,
        unit_code,
        indicator_code,
        period
    from new_values

),

-- The span each province's rows in this table already cover (empty after a reset).
previous_spans as (

    select
        province_code,
        min(period_start) as previous_start,
        max(period_end) as previous_end
    from {{ this }}
    where province_code in (select changed_provinces.province_code from changed_provinces)
    group by province_code

),

{% endif %}

spans as (

    select
        province_code,
        min(period_start) as span_start,
        max(period_end) as span_end

    from facts
    {% if is_incremental() %}
    where province_code in (select changed_provinces.province_code from changed_provinces)
    {% endif %}
    group by province_code

),

assignments as (

    select
        catalog.indicator_code,
        units.unit_code,
        {{ frequency_period_type('catalog.frequency') }} as period_type

    from catalog
    inner join units
        on
            catalog.reporting_units = '*'
            or units.unit_code = any(string_to_array(catalog.reporting_units, ';'))

),

-- The periods each province owes reports for. An incremental build keeps only the periods
-- that extend the province's previous span or that new submissions name, before the join
-- to every unit and indicator: that join over the whole span is what costs.
province_periods as (

    select
        spans.province_code,
        periods.period,
        periods.period_type,
        periods.period_start,
        periods.period_end

    from spans
    inner join provinces
        on spans.province_code = provinces.province_code
    inner join periods
        on
            spans.span_start <= periods.period_start
            and spans.span_end >= periods.period_end
            and (provinces.valid_from is null or provinces.valid_from <= periods.period_start)
            and (provinces.valid_to is null or provinces.valid_to >= periods.period_end)
    {% if is_incremental() %}
    left join previous_spans
        on spans.province_code = previous_spans.province_code
    -- Joins, not `or exists (…)`: under an `or`, PostgreSQL runs such a subquery once per
    -- row, where a hash join reads each side once.
    left join new_periods
        on
            spans.province_code = new_periods.province_code
            and periods.period = new_periods.period
    where
        previous_spans.province_code is null
        or periods.period_start < previous_spans.previous_start
        or periods.period_end > previous_spans.previous_end
        or new_periods.province_code is not null
    {% endif %}

),

expected_reports as (

    select
        province_periods.province_code,
        assignments.unit_code,
        assignments.indicator_code,
        province_periods.period,
        province_periods.period_type,
        province_periods.period_start,
        province_periods.period_end

    from province_periods
    inner join assignments
        on province_periods.period_type = assignments.period_type
    {% if is_incremental() %}
    -- A period extending the province's previous span, or a key new submissions name.
    left join previous_spans
        on province_periods.province_code = previous_spans.province_code
    left join new_keys
        on
            province_periods.province_code = new_keys.province_code
            and assignments.unit_code = new_keys.unit_code
            and assignments.indicator_code = new_keys.indicator_code
            and province_periods.period = new_keys.period
    where
        previous_spans.province_code is null
        or province_periods.period_start < previous_spans.previous_start
        or province_periods.period_end > previous_spans.previous_end
        or new_keys.province_code is not null
    {% endif %}

),

coded as (

    select
        expected_reports.province_code,
        expected_reports.unit_code,
        expected_reports.indicator_code,
        expected_reports.period,
        expected_reports.period_type,
        expected_reports.period_start,
        expected_reports.period_end,
        true as expected,
        reported_facts.province_code is not null as submitted,
        -- The first report counts: a later correction does not make a timely report late.
        reported_facts.first_submitted_at as submitted_at,
        expected_reports.period_end + {{ var('due_days') | int }} as due_date,
        case
            when reported_facts.province_code is not null
                then
                    {{ local_date('reported_facts.first_submitted_at') }}
                    <= expected_reports.period_end + {{ var('due_days') | int }}
        end as on_time,
        reported_facts.submission_id

    from expected_reports
    -- The table itself, not the `facts` CTE: PostgreSQL materializes a CTE read twice, and
    -- joining that copy took twice as long as the whole incremental model does now.
    left join {{ ref('fct_indicator_value') }} as reported_facts
        on
            expected_reports.province_code = reported_facts.province_code
            and expected_reports.unit_code = reported_facts.unit_code
            and expected_reports.indicator_code = reported_facts.indicator_code
            and expected_reports.period = reported_facts.period

),

final as (

    {{ select_labelled('coded', ['province', 'unit', 'indicator', 'period']) }}

)

select * from final
