-- stg_notifications: landed decision notifications (pull), typed and deduplicated.
-- grain: one row per notification per landed partition, current run only
-- key: policy_number, source_partition, notification_id
-- upstream: landed_notifications
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_notifications

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(notification_id as varchar) as notification_id,
        cast(external_id as varchar) as external_id,
        cast(event_type as varchar) as event_type,
        cast(event_at as timestamp with time zone) as event_at,
        cast(easy_number as varchar) as easy_number,
        cast(product_code as varchar) as product_code,
        cast(order_id as varchar) as order_id,
        cast(status as varchar) as status,
        cast(policy_number as varchar) as listed_policy_number
    from landed
    where notification_id is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, notification_id
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    notification_id,
    external_id,
    event_type,
    event_at,
    easy_number,
    product_code,
    order_id,
    status,
    listed_policy_number
from deduplicated
where copy_rank = 1
