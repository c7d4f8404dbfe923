-- easy_number_map: each temporary (Z…) EASY number the API has resolved, with its definitive number.
-- grain: one row per policy × temporary easy number that has been resolved (a Z number belongs to one
--        policy's request: the same Z number under another policy is another company's)
-- key: temporary_easy_number, policy_number
-- upstream: stg_deliveries, stg_orders, stg_order_polls, stg_portfolio, stg_portfolio_snapshot
-- materialized: table
-- refresh: by temporary number, merged by key
--
-- Evidence of a resolution, earliest first wins (ties: temporary_field, order_id, delivery_id, then the
-- smallest definitive number):
--   temporary_field  a record carries both numbers (easy_number definitive, temporary_easy_number Z…);
--   order_id         the same order is listed under the Z number and under a definitive number;
--   delivery_id      the same delivery is listed under the Z number and under a definitive number.
-- resolved_at is the extraction time at which the evidence was first complete.
-- A build recomputes the temporary numbers in _wh_scope: those whose evidence changed.

with

scope as (

    select easy_number as temporary_easy_number from _wh_scope

),

records as not materialized (

    select policy_number, easy_number, temporary_easy_number, order_id, delivery_id, extracted_at
    from staging.stg_deliveries
    union all
    select policy_number, easy_number, temporary_easy_number, order_id, delivery_id, extracted_at
    from staging.stg_orders
    union all
    select policy_number, easy_number, temporary_easy_number, order_id, delivery_id, extracted_at
    from staging.stg_order_polls
    union all
    select policy_number, easy_number, temporary_easy_number, order_id, delivery_id, extracted_at
    from staging.stg_portfolio
    union all
    select policy_number, easy_number, temporary_easy_number, order_id, delivery_id, extracted_at
    from staging.stg_portfolio_snapshot

),

records_of_scope as (

    select records.*
    from records
    inner join scope
        on scope.temporary_easy_number = records.easy_number
    union
    select records.*
    from records
    inner join scope
        on scope.temporary_easy_number = records.temporary_easy_number

),

listed_under_temporary as (

    select policy_number, easy_number as temporary_easy_number, order_id, delivery_id, extracted_at
    from records_of_scope
    where easy_number like 'Z%'

),

links_by_field as (

    select
        policy_number,
        temporary_easy_number,
        easy_number,
        order_id,
        delivery_id,
        extracted_at as resolved_at,
        'temporary_field' as resolved_through
    from records_of_scope
    where temporary_easy_number like 'Z%' and easy_number not like 'Z%'

),

links_by_order as (

    select
        listed.policy_number,
        listed.temporary_easy_number,
        definitive.easy_number,
        listed.order_id,
        definitive.delivery_id,
        case
            when listed.extracted_at > definitive.extracted_at then listed.extracted_at
            else definitive.extracted_at
        end as resolved_at,
        'order_id' as resolved_through
    from listed_under_temporary as listed
    inner join records as definitive
        on definitive.policy_number = listed.policy_number
        and definitive.order_id = listed.order_id
    where definitive.easy_number not like 'Z%'

),

links_by_delivery as (

    select
        listed.policy_number,
        listed.temporary_easy_number,
        definitive.easy_number,
        definitive.order_id,
        listed.delivery_id,
        case
            when listed.extracted_at > definitive.extracted_at then listed.extracted_at
            else definitive.extracted_at
        end as resolved_at,
        'delivery_id' as resolved_through
    from listed_under_temporary as listed
    inner join records as definitive
        on definitive.policy_number = listed.policy_number
        and definitive.delivery_id = listed.delivery_id
    where definitive.easy_number not like 'Z%'

),

links as (

    select * from links_by_field
    union all
    select * from links_by_order
    union all
    select * from links_by_delivery

),

candidates as (

    select policy_number, temporary_easy_number, count(distinct easy_number) as candidate_count
    from links
    group by policy_number, temporary_easy_number

),

ranked as (

    select
        *,
        row_number() over (
            partition by policy_number, temporary_easy_number
            order by
                resolved_at,
                case resolved_through when 'temporary_field' then 1 when 'order_id' then 2 else 3 end,
                easy_number,
                order_id nulls last,
                delivery_id nulls last
        ) as evidence_rank
    from links

)

select
    cast(ranked.temporary_easy_number as varchar) as temporary_easy_number,
    cast(ranked.policy_number as varchar) as policy_number,
    cast(ranked.easy_number as varchar) as easy_number,
    cast(ranked.order_id as varchar) as order_id,
    cast(ranked.delivery_id as varchar) as delivery_id,
    cast(ranked.resolved_through as varchar) as resolved_through,
    cast(ranked.resolved_at as timestamp with time zone) as resolved_at,
    cast(candidates.candidate_count as integer) as candidate_count
from ranked
inner join candidates
    on candidates.policy_number = ranked.policy_number
    and candidates.temporary_easy_number = ranked.temporary_easy_number
where ranked.evidence_rank = 1
