-- A province has a successor exactly when it stopped existing (valid_to), and the successor
-- existed after that day.

with

provinces as (

    select * from {{ ref('provinces') }}

)

select merged.*

from provinces as merged
left join provinces as successor
    on merged.successor_code = successor.province_code
where
    (merged.valid_to is null) <> (merged.successor_code is null)
    or (successor.valid_to is not null and successor.valid_to <= merged.valid_to)
    or merged.valid_from > merged.valid_to
