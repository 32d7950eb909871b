-- Marts contract: one row per expected report and only those: the unit may report the
-- indicator (catalog reporting_units, '*' = every unit), the period is of the indicator's
-- frequency and lies within the province's reported span (and its validity); and every
-- expected report has its row. submitted says whether fct_indicator_value has the key.

-- completeness and facts are read twice, so PostgreSQL materializes them: only the columns
-- used (the marts' name columns would triple what is copied).

with

completeness as (

    select
        province_code,
        unit_code,
        indicator_code,
        period,
        expected,
        submitted,
        submitted_at
    from {{ ref('submission_completeness') }}

),

facts as (

    select {{ current_value_columns('facts') }}
    from {{ ref('fct_indicator_value') }} as facts

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

spans as (

    select
        province_code,
        min(period_start) as span_start,
        max(period_end) as span_end
    from facts
    group by province_code

),

expected_reports as (

    select
        spans.province_code,
        units.unit_code,
        catalog.indicator_code,
        periods.period

    from spans
    inner join provinces
        on spans.province_code = provinces.province_code
    cross join catalog
    inner join units
        on
            catalog.reporting_units = '*'
            or units.unit_code = any(string_to_array(catalog.reporting_units, ';'))
    inner join periods
        on
            {{ frequency_period_type('catalog.frequency') }} = periods.period_type
            and spans.span_start <= periods.period_start
            and spans.span_end >= periods.period_end
            and (provinces.valid_from is null or provinces.valid_from <= periods.period_start)
            and (provinces.valid_to is null or provinces.valid_to >= periods.period_end)

),

rows_present as (

    select
        province_code,
        unit_code,
        indicator_code,
        period
    from completeness

),

-- A full join rather than two EXCEPTs: the keys are never null and unique (the primary
-- key), and PostgreSQL hashes a join where EXCEPT sorted both sides twice.
mismatched as (

    select
        case
            when rows_present.province_code is null then 'missing' else 'not expected'
        end as problem,
        coalesce(rows_present.province_code, expected_reports.province_code) as province_code,
        coalesce(rows_present.unit_code, expected_reports.unit_code) as unit_code,
        coalesce(rows_present.indicator_code, expected_reports.indicator_code)
            as indicator_code,
        coalesce(rows_present.period, expected_reports.period) as period

    from rows_present
    full outer join expected_reports
        on
            rows_present.province_code = expected_reports.province_code
            and rows_present.unit_code = expected_reports.unit_code
            and rows_present.indicator_code = expected_reports.indicator_code
            and rows_present.period = expected_reports.period
    where rows_present.province_code is null or expected_reports.province_code is null

),

wrongly_flagged as (

    select
        'submitted flag' as problem,
        completeness.province_code,
        completeness.unit_code,
        completeness.indicator_code,
        completeness.period

    from completeness
    left join facts
        on
            completeness.province_code = facts.province_code
            and completeness.unit_code = facts.unit_code
            and completeness.indicator_code = facts.indicator_code
            and completeness.period = facts.period
    where
        not completeness.expected
        or completeness.submitted <> (facts.province_code is not null)
        or completeness.submitted_at is distinct from facts.first_submitted_at

)

select * from mismatched
union all
select * from wrongly_flagged
