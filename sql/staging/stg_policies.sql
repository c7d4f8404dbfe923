-- stg_policies: landed insurance policies of the contract, typed and deduplicated.
-- grain: one row per synced policy per landed partition, current run only: each policy's zone lands the
--        account's whole list, of which it keeps the row of its own policy
-- key: policy_number, source_partition
-- upstream: landed_policies
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_policies

),

renamed as (

    select
        _partition_key as source_partition,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(policy_number as varchar) as policy_number,
        cast(customer_name as varchar) as customer_name,
        cast(currency as varchar) as currency,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date
    from landed
    where policy_number = _policy_number

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by source_partition, policy_number
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    source_run_id,
    extracted_at,
    policy_number,
    customer_name,
    currency,
    start_date,
    end_date
from deduplicated
where copy_rank = 1
