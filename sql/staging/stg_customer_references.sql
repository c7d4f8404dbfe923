-- stg_customer_references: landed customer references set on companies, typed and deduplicated.
-- grain: one row per company per landed list (the GMT day of the refresh that listed it), current run only
-- key: policy_number, source_partition, easy_number
-- upstream: landed_customer_references
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_customer_references

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(easy_number as varchar) as easy_number,
        cast(customer_reference as varchar) as customer_reference,
        cast(updated_at as timestamp with time zone) as updated_at
    from landed
    where easy_number is not null

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
    customer_reference,
    updated_at
from deduplicated
where copy_rank = 1
