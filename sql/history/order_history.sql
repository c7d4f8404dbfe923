-- order_history: SCD2 history of order (product request) statuses.
-- grain: one row per distinct state of a policy's order (an order id is the policy's request: the same
--        id under another policy is another order)
-- key: order_id, policy_number, version_no (current version: valid_to is null)
-- upstream: stg_orders, stg_order_polls, easy_number_map
-- materialized: table
-- refresh: by company
--
-- Order details come from the orders stream and from the re-polls of pending orders (order_polls).
-- valid_from is the order's status date (status_at; order_at, then the first extraction, when absent);
-- valid_to is the next state's valid_from. A state is a distinct combination of the business columns
-- (status, status_at, definitive easy number, delivery, requested amount, rejection reasons); the
-- extraction metadata never makes a new version. change_kind: annulled (STATUS_ANNULED),
-- rejected (STATUS_REJECTED), closed (STATUS_CLOSED), observed otherwise. A temporary number is resolved
-- within the order's policy.
-- Only the rows of the numbers in scope are returned: a Z number in scope may be another policy's request,
-- resolved there to a company the build is not recomputing (whose rows it does not delete).

with

scope as (

    select easy_number from _wh_scope

),

number_map as (

    select temporary_easy_number, policy_number, easy_number from history.easy_number_map

),

orders as (

    select * from staging.stg_orders
    where easy_number in (select easy_number from scope)
    union all
    select * from staging.stg_order_polls
    where easy_number in (select easy_number from scope)

),

resolved as (

    select
        orders.policy_number,
        orders.order_id,
        coalesce(number_map.easy_number, orders.easy_number) as easy_number,
        coalesce(
            case when orders.temporary_easy_number like 'Z%' then orders.temporary_easy_number end,
            case when orders.easy_number like 'Z%' then orders.easy_number end
        ) as temporary_easy_number,
        orders.product_code,
        orders.order_at,
        orders.status,
        orders.status_at,
        orders.requested_amount_value,
        orders.requested_amount_currency,
        orders.delivery_id,
        orders.rejection_reasons,
        orders.extracted_at
    from orders
    left join number_map
        on number_map.temporary_easy_number = orders.easy_number
        and number_map.policy_number = orders.policy_number

),

order_facts as (

    select
        policy_number,
        order_id,
        max(temporary_easy_number) as temporary_easy_number,
        max(product_code) as product_code,
        min(order_at) as order_at
    from resolved
    group by policy_number, order_id

),

states as (

    select
        policy_number,
        order_id,
        easy_number,
        status,
        status_at,
        requested_amount_value,
        requested_amount_currency,
        delivery_id,
        rejection_reasons,
        min(extracted_at) as recorded_at
    from resolved
    group by
        policy_number, order_id, easy_number, status, status_at, requested_amount_value,
        requested_amount_currency, delivery_id, rejection_reasons

),

sequenced as (

    select
        states.*,
        coalesce(states.status_at, order_facts.order_at, states.recorded_at) as valid_from,
        order_facts.temporary_easy_number,
        order_facts.product_code,
        order_facts.order_at
    from states
    inner join order_facts
        on order_facts.policy_number = states.policy_number
        and order_facts.order_id = states.order_id

),

numbered as (

    select
        *,
        lead(valid_from) over ordered_states as valid_to,
        row_number() over ordered_states as version_no
    from sequenced
    window ordered_states as (
        partition by policy_number, order_id
        order by valid_from, recorded_at, status, delivery_id nulls last, easy_number,
            requested_amount_value nulls last, requested_amount_currency nulls last,
            rejection_reasons nulls last
    )

)

select
    cast(order_id as varchar) as order_id,
    cast(policy_number as varchar) as policy_number,
    cast(version_no as integer) as version_no,
    cast(valid_from as timestamp with time zone) as valid_from,
    cast(valid_to as timestamp with time zone) as valid_to,
    valid_to is null as is_current,
    cast(
        case status
            when 'STATUS_ANNULED' then 'annulled'
            when 'STATUS_REJECTED' then 'rejected'
            when 'STATUS_CLOSED' then 'closed'
            else 'observed'
        end as varchar
    ) as change_kind,
    cast(recorded_at as timestamp with time zone) as recorded_at,
    easy_number,
    cast(temporary_easy_number as varchar) as temporary_easy_number,
    product_code,
    order_at,
    status,
    status_at,
    requested_amount_value,
    requested_amount_currency,
    delivery_id,
    rejection_reasons
from numbered
where easy_number in (select easy_number from scope)
