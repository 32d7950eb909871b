-- Percent indicators: the reported rate lies in [0, 100].
select
    v.submission_id,
    v.source_row_number,
    v.indicator_code,
    v.reported_value
from {batch} as v
inner join reference.indicator_catalog as c on v.indicator_code = c.indicator_code
where c.unit_of_measure = 'percent' and (v.reported_value < 0 or v.reported_value > 100)
