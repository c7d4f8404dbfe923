-- stg_orders: landed order details (status of a product request), typed and deduplicated.
-- grain: one row per order per landed partition, current run only
-- key: policy_number, source_partition, order_id
-- upstream: landed_orders
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_orders

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(order_id as varchar) as order_id,
        cast(easy_number as varchar) as easy_number,
        cast(temporary_easy_number as varchar) as temporary_easy_number,
        cast(product_code as varchar) as product_code,
        cast(order_at as timestamp with time zone) as order_at,
        cast(status as varchar) as status,
        cast(status_at as timestamp with time zone) as status_at,
        cast(requested_amount_value as decimal(18, 2)) as requested_amount_value,
        cast(requested_amount_currency as varchar) as requested_amount_currency,
        cast(delivery_id as varchar) as delivery_id,
        cast(rejection_reasons as varchar) as rejection_reasons
    from landed
    where order_id is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, order_id
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    order_id,
    easy_number,
    temporary_easy_number,
    product_code,
    order_at,
    status,
    status_at,
    requested_amount_value,
    requested_amount_currency,
    delivery_id,
    rejection_reasons
from deduplicated
where copy_rank = 1
