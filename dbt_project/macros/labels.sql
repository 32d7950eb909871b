{#- Names beside codes, so a BI dataset of one mart needs no join: every fact mart selects
    its rows through this macro. `relation` (a CTE name) has the code columns of `codes`:
    province (province_code), unit (unit_code), indicator (indicator_code), period (period).
    The names come from the dimensions published with the mart (left joins: a code with no
    dimension row keeps its row, and the foreign key the mart declares then fails the build).
    The indicator brings its unit_of_measure, so a row says what its numbers are. -#}
{% macro select_labelled(relation, codes) -%}
    select
        {{ relation }}.*
        {%- if 'province' in codes %},
        labelled_province.name_vi as province_name_vi,
        labelled_province.name_en as province_name_en
        {%- endif %}
        {%- if 'unit' in codes %},
        labelled_unit.name_vi as unit_name_vi,
        labelled_unit.name_en as unit_name_en
        {%- endif %}
        {%- if 'indicator' in codes %},
        labelled_indicator.name_vi as indicator_name_vi,
        labelled_indicator.name_en as indicator_name_en,
        labelled_indicator.unit_of_measure
        {%- endif %}
        {%- if 'period' in codes %},
        labelled_period.period_label,
        labelled_period.period_sort_key
        {%- endif %}

    from {{ relation }}
    {%- if 'province' in codes %}
    left join {{ ref('dim_province') }} as labelled_province
        on {{ relation }}.province_code = labelled_province.province_code
    {%- endif %}
    {%- if 'unit' in codes %}
    left join {{ ref('dim_unit') }} as labelled_unit
        on {{ relation }}.unit_code = labelled_unit.unit_code
    {%- endif %}
    {%- if 'indicator' in codes %}
    left join {{ ref('dim_indicator') }} as labelled_indicator
        on {{ relation }}.indicator_code = labelled_indicator.indicator_code
    {%- endif %}
    {%- if 'period' in codes %}
    left join {{ ref('dim_period') }} as labelled_period
        on {{ relation }}.period = labelled_period.period
    {%- endif %}
{%- endmacro %}
