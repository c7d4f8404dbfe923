-- stg_overdues: landed overdue cases (list fields plus detail), typed and deduplicated.
-- grain: one row per overdue case per landed partition, current run only
-- key: policy_number, source_partition, overdue_id
-- upstream: landed_overdues
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_overdues

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(overdue_id as varchar) as overdue_id,
        cast(easy_number as varchar) as easy_number,
        cast(customer_reference as varchar) as customer_reference,
        cast(debt_type as varchar) as debt_type,
        cast(status as varchar) as status,
        cast(created_at as timestamp with time zone) as created_at,
        cast(updated_at as timestamp with time zone) as updated_at,
        cast(intervention_requested as boolean) as intervention_requested,
        cast(non_payment_reason as varchar) as non_payment_reason,
        cast(total_amount_value as decimal(18, 2)) as total_amount_value,
        cast(total_amount_currency as varchar) as total_amount_currency,
        cast(outstanding_amount_value as decimal(18, 2)) as outstanding_amount_value,
        cast(outstanding_amount_currency as varchar) as outstanding_amount_currency,
        cast(indemnified_amount_value as decimal(18, 2)) as indemnified_amount_value,
        cast(indemnified_amount_currency as varchar) as indemnified_amount_currency,
        cast(indemnified_on as date) as indemnified_on,
        cast(invoices as varchar) as invoices,
        cast(payments as varchar) as payments
    from landed
    where overdue_id is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, overdue_id
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    overdue_id,
    easy_number,
    customer_reference,
    debt_type,
    status,
    created_at,
    updated_at,
    intervention_requested,
    non_payment_reason,
    total_amount_value,
    total_amount_currency,
    outstanding_amount_value,
    outstanding_amount_currency,
    indemnified_amount_value,
    indemnified_amount_currency,
    indemnified_on,
    invoices,
    payments
from deduplicated
where copy_rank = 1
