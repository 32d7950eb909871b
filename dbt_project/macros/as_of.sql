{#- A build of the whole project as of a past moment (chitieu/as_of.py, for
    `chitieu report --as-of`): the vars `as_of_schema` (every model is built into that one
    schema, apart from the nightly build's) and `known_before` (a timestamp) make staging
    hold only the submissions submitted before that moment, so every model computes what
    the files submitted by then gave. In every other build neither var is set. -#}

{#- SQL condition on a submission id: true for the submissions the build may see. -#}
{% macro known_submission(submission_id) -%}
    {%- if var('known_before', none) -%}
        {{ submission_id }} in (
            select known.submission_id
            from {{ source('raw', 'submission_file') }} as known
            where known.submitted_at < '{{ var("known_before") }}'::timestamptz
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
