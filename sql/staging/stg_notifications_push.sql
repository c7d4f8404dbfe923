-- stg_notifications_push: pushed notifications the receiver accepted, typed, one per message.
-- grain: one row per accepted push message per landed partition (its GMT landing day), current run only
-- key: policy_number, source_partition, message_id
-- upstream: landed_notifications_push
-- materialized: table
-- refresh: by partition
--
-- A message is kept once (by MessageId) by the receiver; the same notification pushed to two
-- subscriptions is two messages. pushed_at is the message's Timestamp (its first sending), received_at
-- when the receiver accepted it: their difference is the push's latency.

with

landed as (

    select * from landed_notifications_push

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(message_id as varchar) as message_id,
        cast(topic_arn as varchar) as topic_arn,
        cast(pushed_at as timestamp with time zone) as pushed_at,
        cast(received_at as timestamp with time zone) as received_at,
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
    where message_id is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, message_id
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    message_id,
    topic_arn,
    pushed_at,
    received_at,
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
