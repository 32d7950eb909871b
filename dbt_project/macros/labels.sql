{#- Names beside codes, so a BI dataset of one mart needs no join: every fact mart selects
    its rows through this macro. `relation` (a CTE name) has the code columns of `codes`:
    province (province_code), unit (unit_code), indicator (indicator_code), period (period).
    The names come from the dimensions published with the mart (left joins: a code with no
    dimension row keeps its row, and the foreign key the mart declares then fails the build).
    The indicator brings its unit_of_measure, so a row says what its numbers are. -#}
{% macro select_labelled(relation, codes) -%}
    {%- set dimensions = label_dimensions() -%}
    select
        {{ relation }}.*
        {%- for code in codes %}
            {%- for column, name in dimensions[code][2] %},
        labelled_{{ code }}.{{ column }} as {{ name }}
            {%- endfor %}
        {%- endfor %}

    from {{ relation }}
    {%- for code in codes %}
    left join {{ ref(dimensions[code][0]) }} as labelled_{{ code }}
        on {{ relation }}.{{ dimensions[code][1] }} = labelled_{{ code }}.{{ dimensions[code][1] }}
    {%- endfor %}
{%- endmacro %}

{#- code: (dimension, key column, [(dimension column, name in the marts)...]): the names
    select_labelled puts beside each code. -#}
{% macro label_dimensions() -%}
    {{ return({
        'province': ('dim_province', 'province_code', [
            ('name_vi', 'province_name_vi'), ('name_en', 'province_name_en')]),
        'unit': ('dim_unit', 'unit_code', [
            ('name_vi', 'unit_name_vi'), ('name_en', 'unit_name_en')]),
        'indicator': ('dim_indicator', 'indicator_code', [
            ('name_vi', 'indicator_name_vi'), ('name_en', 'indicator_name_en'),
            ('unit_of_measure', 'unit_of_measure')]),
        'period': ('dim_period', 'period', [
            ('period_label', 'period_label'), ('period_sort_key', 'period_sort_key')]),
    }) }}
{%- endmacro %}

{#- The codes and their names, as select_labelled gave them to `relation`: for a mart that
    passes a labelled mart's rows on (fct_indicator_value and the revisions, from the
    history). -#}
{% macro labelled_code_columns(relation, codes) -%}
    {%- set dimensions = label_dimensions() -%}
    {%- set columns = [] -%}
    {%- for code in codes -%}
        {%- do columns.append(dimensions[code][1]) -%}
        {%- for _, name in dimensions[code][2] -%}
            {%- do columns.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for column in columns %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
