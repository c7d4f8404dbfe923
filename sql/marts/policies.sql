-- policies: the account's policies as last listed, with the currency their amounts are converted into.
-- grain: one row per policy synced into the warehouse (listed, or with landed partitions)
-- key: policy_number
-- upstream: stg_policies
-- materialized: view
--
-- A policy's row is the one of its zone's latest landed policy list (the API's GET /policies);
-- last_listed_at is when that list was extracted. first_landed_day is the first GMT day of the policy's
-- dated streams (portfolio, deliveries, notifications) in the landing zone: history before it is partial
-- (the API serves two years, and a first backfill sees one state per order and case).

with

listed as (

    select * from staging.stg_policies

),

landed as (

    select policy_number, cast(min(partition_key) as date) as first_landed_day
    from _wh_partitions
    where stream in ('portfolio', 'deliveries', 'notifications')
    group by policy_number

),

latest as (

    select
        *,
        row_number() over (partition by policy_number order by extracted_at desc) as recency
    from listed

),

current_rows as (

    select * from latest
    where recency = 1

),

numbers as (

    select policy_number from current_rows
    union
    select policy_number from landed

)

select
    numbers.policy_number,
    current_rows.customer_name,
    current_rows.currency,
    current_rows.start_date,
    current_rows.end_date,
    current_rows.extracted_at as last_listed_at,
    landed.first_landed_day
from numbers
left join current_rows on current_rows.policy_number = numbers.policy_number
left join landed on landed.policy_number = numbers.policy_number
