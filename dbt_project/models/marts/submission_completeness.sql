{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'unit_code', 'indicator_code', 'period'],
        indexes=[
            {'columns': ['province_code', 'unit_code', 'indicator_code', 'period'], 'unique': true},
        ],
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

expected_reports as (

    select
        spans.province_code,
        assignments.unit_code,
        assignments.indicator_code,
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
    inner join assignments
        on periods.period_type = assignments.period_type
    {% if is_incremental() %}
    left join previous_spans
        on spans.province_code = previous_spans.province_code
    where
        previous_spans.province_code is null
        or periods.period_start < previous_spans.previous_start
        or periods.period_end > previous_spans.previous_end
        or exists (
            select 1
            from new_values
            where
                new_values.province_code = spans.province_code
                and new_values.unit_code = assignments.unit_code
                and new_values.indicator_code = assignments.indicator_code
                and new_values.period = periods.period
        )
    {% endif %}

),

final as (

    select
        expected_reports.province_code,
        expected_reports.unit_code,
        expected_reports.indicator_code,
        expected_reports.period,
        expected_reports.period_type,
        expected_reports.period_start,
        expected_reports.period_end,
        true as expected,
        facts.province_code is not null as submitted,
        -- The first report counts: a later correction does not make a timely report late.
        facts.first_submitted_at as submitted_at,
        expected_reports.period_end + {{ var('due_days') | int }} as due_date,
        case
            when facts.province_code is not null
                then
                    {{ local_date('facts.first_submitted_at') }}
                    <= expected_reports.period_end + {{ var('due_days') | int }}
        end as on_time,
        facts.submission_id

    from expected_reports
    left join facts
        on
            expected_reports.province_code = facts.province_code
            and expected_reports.unit_code = facts.unit_code
            and expected_reports.indicator_code = facts.indicator_code
            and expected_reports.period = facts.period

)

select * from final
