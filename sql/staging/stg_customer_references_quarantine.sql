-- stg_customer_references_quarantine: companies named by the quarantined records of the customer reference lists.
-- grain: one row per easy number named by a quarantined record per landed list partition, current run
--        only, plus one row with a null easy_number when a record's easyNumber could not be read
-- key: policy_number, source_partition, easy_number
-- upstream: landed_customer_references_quarantine
-- materialized: table
-- refresh: by partition
--
-- A record is quarantined when it breaks its contract (a damaged date or amount, a missing id): the API
-- listed it all the same. The loader reads easy_number from the raw JSON as the stream reads easyNumber;
-- it is null when the raw JSON does not parse or holds no valid easyNumber.

with

landed as (

    select * from landed_customer_references_quarantine

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(easy_number as varchar) as easy_number,
        cast(reason as varchar) as reason
    from landed

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, easy_number
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    easy_number,
    reason
from deduplicated
where copy_rank = 1
