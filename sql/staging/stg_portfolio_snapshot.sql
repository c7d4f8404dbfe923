-- stg_portfolio_snapshot: landed reconciliation snapshots of the whole portfolio, typed and deduplicated.
-- grain: one row per company × product per landed partition, current run only
-- key: policy_number, source_partition, easy_number, product_code
-- upstream: landed_portfolio_snapshot
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_portfolio_snapshot

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(easy_number as varchar) as easy_number,
        cast(company_name as varchar) as company_name,
        cast(street_address as varchar) as street_address,
        cast(postal_code as varchar) as postal_code,
        cast(city as varchar) as city,
        cast(country_code as varchar) as country_code,
        cast(legal_identifiers as varchar) as legal_identifiers,
        cast(is_head_office as boolean) as is_head_office,
        cast(head_office_easy_number as varchar) as head_office_easy_number,
        cast(customer_reference as varchar) as customer_reference,
        cast(product_code as varchar) as product_code,
        cast(order_id as varchar) as order_id,
        cast(order_date as date) as order_date,
        cast(order_status as varchar) as order_status,
        cast(delivery_id as varchar) as delivery_id,
        cast(external_id as varchar) as external_id,
        cast(status as varchar) as status,
        cast(decision_at as timestamp with time zone) as decision_at,
        cast(effective_date as date) as effective_date,
        cast(expiry_date as date) as expiry_date,
        cast(amount_value as decimal(18, 2)) as amount_value,
        cast(amount_currency as varchar) as amount_currency,
        cast(temporary_easy_number as varchar) as temporary_easy_number
    from landed
    where easy_number is not null and product_code is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, easy_number, product_code
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
    company_name,
    street_address,
    postal_code,
    city,
    country_code,
    legal_identifiers,
    is_head_office,
    head_office_easy_number,
    customer_reference,
    product_code,
    order_id,
    order_date,
    order_status,
    delivery_id,
    external_id,
    status,
    decision_at,
    effective_date,
    expiry_date,
    amount_value,
    amount_currency,
    temporary_easy_number
from deduplicated
where copy_rank = 1
