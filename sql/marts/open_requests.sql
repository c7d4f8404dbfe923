-- open_requests: what waits for Coface, and since when.
-- grain: one row per policy × order whose current status is pending (order_statuses.is_pending)
-- key: order_id, policy_number
-- upstream: request_pipeline, order_statuses, data_as_of, company_history
-- materialized: view
--
-- waiting_hours runs from the request to the end of the as-of day; hours_in_status from the current
-- status's date (status_at).

with

requests as (

    select * from marts.request_pipeline

),

pending as (

    select requests.*
    from requests
    inner join marts.order_statuses on order_statuses.status = requests.status
    where order_statuses.is_pending

),

as_of as (

    select cast(as_of_day + 1 as timestamp with time zone) as as_of_end from marts.data_as_of

),

current_companies as (

    select policy_number, easy_number, company_name, country_code from history.company_history
    where is_current

)

select
    pending.order_id,
    pending.policy_number,
    pending.easy_number,
    pending.temporary_easy_number,
    current_companies.company_name,
    current_companies.country_code,
    pending.product_code,
    pending.status,
    pending.requested_at,
    pending.status_at as in_status_since,
    cast(extract(epoch from (as_of.as_of_end - pending.requested_at)) as double precision) / 3600 as waiting_hours,
    cast(extract(epoch from (as_of.as_of_end - pending.status_at)) as double precision) / 3600 as hours_in_status,
    pending.requested_amount_value,
    pending.requested_amount_currency
from pending
cross join as_of
left join current_companies
    on current_companies.policy_number = pending.policy_number
    and current_companies.easy_number = pending.easy_number
