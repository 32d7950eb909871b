{#- The steps from submitted rows to judged targets, shared by the intermediate views (the
    full computation) and the incremental marts (the same computation on the affected keys
    only), so both give the same answer by construction. Each macro returns one `select`
    over the relations or CTE names it is given. -#}

{#- Every accepted version of every key, ranked for supersession (submission contract): for
    each (province, unit, indicator, period) the row of the latest accepted file wins,
    ordered by submitted_at then path; the ledger id breaks a tie only between two versions
    of one path with the same modification time, so the order never depends on the order
    the files were ingested in. Rank 1 (recency_rank) is the current value; rank n + 1 is
    the version rank n superseded. `values_loaded` has the columns of
    stg_raw__submission_values, `files` those of stg_raw__submission_files (accepted files
    only), `catalog` those of the indicator_catalog seed, `periods` those of
    int_periods_enumerated (dim_period has them too): a period's type and bounds come from
    there, parsed once per period rather than once per value. A version's value: for
    percent indicators the rate computed from numerator/denominator when both were given,
    else the value reported; four decimals, as the marts store it, so every mart computes
    from the same value. -#}
{% macro select_value_versions(values_loaded, files, catalog, periods) -%}
    select
        ranked.province_code,
        ranked.unit_code,
        ranked.indicator_code,
        ranked.period,
        {{ periods }}.period_type,
        {{ periods }}.period_start,
        {{ periods }}.period_end,
        cast(
            case
                when
                    ranked.indicator_unit_of_measure = 'percent'
                    and ranked.numerator is not null
                    and ranked.denominator is not null
                    then {{ rate_pct('ranked.numerator', 'ranked.denominator') }}
                else ranked.reported_value
            end as numeric(20, 4)
        ) as value,
        ranked.numerator,
        ranked.denominator,
        ranked.submission_id,
        ranked.submitted_at,
        ranked.first_submitted_at,
        ranked.recency_rank

    from (
        select
            {{ values_loaded }}.province_code,
            {{ values_loaded }}.unit_code,
            {{ values_loaded }}.indicator_code,
            {{ values_loaded }}.period,
            {{ values_loaded }}.numerator,
            {{ values_loaded }}.denominator,
            {{ values_loaded }}.reported_value,
            {{ values_loaded }}.submission_id,
            {{ files }}.submitted_at,
            {{ catalog }}.unit_of_measure as indicator_unit_of_measure,
            row_number() over (
                partition by
                    {{ values_loaded }}.province_code,
                    {{ values_loaded }}.unit_code,
                    {{ values_loaded }}.indicator_code,
                    {{ values_loaded }}.period
                order by
                    {{ files }}.submitted_at desc,
                    -- byte order, as the loader compares paths: the same winner whatever
                    -- the database's collation
                    {{ files }}.file_path collate "C" desc,
                    {{ files }}.submission_id desc
            ) as recency_rank,
            min({{ files }}.submitted_at) over (
                partition by
                    {{ values_loaded }}.province_code,
                    {{ values_loaded }}.unit_code,
                    {{ values_loaded }}.indicator_code,
                    {{ values_loaded }}.period
            ) as first_submitted_at

        from {{ values_loaded }}
        inner join {{ files }}
            on {{ values_loaded }}.submission_id = {{ files }}.submission_id
        inner join {{ catalog }}
            on {{ values_loaded }}.indicator_code = {{ catalog }}.indicator_code
    ) as ranked
    -- a period the calendar lacks keeps its row, with NULL bounds: the marts' not-null
    -- constraints (and foreign keys to dim_period) then fail the build
    left join {{ periods }} on ranked.period = {{ periods }}.period
{%- endmacro %}

{#- The current value of each key: the version ranked first (select_value_versions). -#}
{% macro select_current_values(values_loaded, files, catalog, periods) -%}
    select
        versions.province_code,
        versions.unit_code,
        versions.indicator_code,
        versions.period,
        versions.period_type,
        versions.period_start,
        versions.period_end,
        versions.value,
        versions.numerator,
        versions.denominator,
        versions.submission_id,
        versions.submitted_at,
        versions.first_submitted_at

    from ({{ select_value_versions(values_loaded, files, catalog, periods) }}) as versions

    where versions.recency_rank = 1
{%- endmacro %}

{#- The least-squares line through a unit's values of an indicator for the periods ending on
    or before each row's period (value against period_end in days), for projecting to a
    target's deadline. A window over period_end with the default RANGE frame includes every
    period ending on the same day, which is exactly "on or before this one".
    Beside it, the series' baseline for the progress status (macro progress_status): its
    first value by period_end, the period breaking a tie between two period types ending
    on one day so the baseline never depends on the order rows are read in. -#}
{% macro select_trended(current_values) -%}
    select
        {{ current_values }}.*,
        regr_count({{ current_values }}.value, {{ day_number(current_values ~ '.period_end') }})
            over trend_window as trend_points,
        regr_slope({{ current_values }}.value, {{ day_number(current_values ~ '.period_end') }})
            over trend_window as trend_slope,
        regr_intercept(
            {{ current_values }}.value, {{ day_number(current_values ~ '.period_end') }}
        ) over trend_window as trend_intercept,
        first_value({{ current_values }}.value) over baseline_window as baseline_value,
        first_value({{ current_values }}.period_end) over baseline_window as baseline_period_end

    from {{ current_values }}
    window
        series_window as (
            partition by
                {{ current_values }}.province_code,
                {{ current_values }}.unit_code,
                {{ current_values }}.indicator_code
        ),
        trend_window as (series_window order by {{ current_values }}.period_end),
        baseline_window as (
            series_window
            order by {{ current_values }}.period_end, {{ current_values }}.period collate "C"
        )
{%- endmacro %}

{#- One row per value and per target that applies to it: the target's province is the row's
    or '*', and the row's period ends on or before the target's deadline. -#}
{% macro select_targets_applied(trended, targets) -%}
    select
        {{ trended }}.*,
        {{ targets }}.issuer as target_issuer,
        {{ targets }}.comparator,
        {{ targets }}.target_value,
        {{ targets }}.deadline as target_deadline,
        {{ targets }}.province_code as target_province_code

    from {{ trended }}
    inner join {{ targets }}
        on
            {{ trended }}.indicator_code = {{ targets }}.indicator_code
            and {{ targets }}.province_code in ({{ trended }}.province_code, '*')
            and {{ trended }}.period_end <= {{ targets }}.deadline
{%- endmacro %}

{#- The columns select_current_values gives: fct_indicator_value's without the names and
    labels beside its codes. A mart computing from fct_indicator_value selects these, so
    the wide label columns are not carried through its joins, sorts and windows. -#}
{% macro current_value_columns(relation) -%}
    {%- set columns = [
        'province_code', 'unit_code', 'indicator_code', 'period', 'period_type',
        'period_start', 'period_end', 'value', 'numerator', 'denominator', 'submission_id',
        'submitted_at', 'first_submitted_at',
    ] -%}
    {%- for column in columns %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
