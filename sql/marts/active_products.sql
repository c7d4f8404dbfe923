-- active_products: what the API's portfolio follow-up lists today, so "our Coface portfolio" matches Coface.
-- grain: one row per policy × company × product the portfolio lists: its last decision when it is active,
--        or inactive and less than two years old at the as-of day (information products, refused,
--        cancelled and deleted decisions included), or a request still pending when there is no decision
-- key: easy_number, product_code, policy_number
-- upstream: decision_history, order_history, delivery_statuses, order_statuses, data_as_of, company_history
-- materialized: view
--
-- The portfolio lists a company "with an active product, or with a pending status, and the main detail of
-- the last decision taken by product"; a cancelled or deleted decision stays listed for two years from
-- its date. A product closed by a reconciliation snapshot (deleted, aged_out) is not listed.
-- current_portfolio stays the covers in force. pending_order_id / pending_status: a later request for the
-- product still pending (an increase asked for, say), beside its decision.

with

current_decisions as (

    select * from history.decision_history
    where is_current and change_kind not in ('deleted', 'aged_out')

),

current_orders as (

    select * from history.order_history
    where is_current

),

pending_orders as (

    select current_orders.*
    from current_orders
    inner join marts.order_statuses on order_statuses.status = current_orders.status
    where order_statuses.is_pending

),

latest_pending as (

    select
        *,
        row_number() over (
            partition by policy_number, easy_number, product_code order by order_at desc, order_id desc
        ) as recency
    from pending_orders

),

as_of as (

    select as_of_day from marts.data_as_of

),

listed_decisions as (

    select current_decisions.*, coalesce(delivery_statuses.is_active, false) as is_active
    from current_decisions
    cross join as_of
    left join marts.delivery_statuses on delivery_statuses.status = current_decisions.status
    where coalesce(delivery_statuses.is_active, false)
        or current_decisions.valid_from > cast(as_of.as_of_day as timestamp with time zone) - interval '2 years'

),

listed_products as (

    select policy_number, easy_number, product_code from listed_decisions
    union
    select policy_number, easy_number, product_code from latest_pending where recency = 1

),

current_companies as (

    select policy_number, easy_number, company_name, country_code from history.company_history
    where is_current

),

final as (

    select
        listed_products.easy_number,
        listed_products.product_code,
        listed_products.policy_number,
        current_companies.company_name,
        current_companies.country_code,
        case when listed_decisions.easy_number is null then 'pending' else 'decided' end as listed_as,
        listed_decisions.status,
        listed_decisions.is_active,
        listed_decisions.amount_value,
        listed_decisions.amount_currency,
        listed_decisions.decision_at,
        listed_decisions.effective_date,
        listed_decisions.expiry_date,
        listed_decisions.delivery_id,
        listed_decisions.version_no,
        pending.order_id as pending_order_id,
        pending.status as pending_status,
        pending.order_at as pending_since
    from listed_products
    left join listed_decisions
        on listed_decisions.policy_number = listed_products.policy_number
        and listed_decisions.easy_number = listed_products.easy_number
        and listed_decisions.product_code = listed_products.product_code
    left join latest_pending as pending
        on pending.policy_number = listed_products.policy_number
        and pending.easy_number = listed_products.easy_number
        and pending.product_code = listed_products.product_code
        and pending.recency = 1
    left join current_companies
        on current_companies.policy_number = listed_products.policy_number
        and current_companies.easy_number = listed_products.easy_number

)

select
    easy_number,
    product_code,
    policy_number,
    company_name,
    country_code,
    cast(listed_as as varchar) as listed_as,
    status,
    is_active,
    amount_value,
    amount_currency,
    decision_at,
    effective_date,
    expiry_date,
    delivery_id,
    version_no,
    pending_order_id,
    pending_status,
    pending_since
from final
