-- stg_deliveries_push: the deliveries pushed notifications named, fetched as they landed; typed,
-- renamed and deduplicated like stg_deliveries (decision_history reads both).
-- grain: one row per delivery (decision) per landed partition, current run only
-- key: policy_number, source_partition, delivery_id
-- upstream: landed_deliveries_push
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_deliveries_push

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(delivery_id as varchar) as delivery_id,
        cast(external_id as varchar) as external_id,
        cast(order_id as varchar) as order_id,
        cast(easy_number as varchar) as easy_number,
        cast(temporary_easy_number as varchar) as temporary_easy_number,
        cast(product_code as varchar) as product_code,
        cast(status as varchar) as status,
        cast(decision_at as timestamp with time zone) as decision_at,
        cast(effective_date as date) as effective_date,
        cast(expiry_date as date) as expiry_date,
        cast(amount_value as decimal(18, 2)) as amount_value,
        cast(amount_currency as varchar) as amount_currency,
        cast(requested_amount_value as decimal(18, 2)) as requested_amount_value,
        cast(requested_amount_currency as varchar) as requested_amount_currency,
        cast(conditions as varchar) as conditions
    from landed
    where delivery_id is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, delivery_id
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    delivery_id,
    external_id,
    order_id,
    easy_number,
    temporary_easy_number,
    product_code,
    status,
    decision_at,
    effective_date,
    expiry_date,
    amount_value,
    amount_currency,
    requested_amount_value,
    requested_amount_currency,
    conditions
from deduplicated
where copy_rank = 1
