-- notification_events: every decision notification, matched to the decision version it announced.
-- grain: one row per notification
-- key: notification_id
-- upstream: stg_notifications, decision_history, easy_number_map
-- materialized: view
--
-- A notification seen in several partitions counts once (its latest extraction wins; recorded_at is
-- the first). It is matched to the decision version with the same external id; has_decision_version
-- is false while that delivery is not in decision_history yet.

with

notifications as (

    select * from staging.stg_notifications

),

number_map as (

    select temporary_easy_number, easy_number from history.easy_number_map

),

decisions as (

    select easy_number, product_code, version_no, external_id, delivery_id, amount_value, amount_currency
    from history.decision_history
    where external_id is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by notification_id
            order by extracted_at desc, source_partition desc
        ) as copy_rank,
        min(extracted_at) over (partition by notification_id) as first_recorded_at
    from notifications

),

latest as (

    select * from ranked
    where copy_rank = 1

),

final as (

    select
        latest.notification_id,
        latest.external_id,
        latest.event_type,
        latest.event_at,
        coalesce(decisions.easy_number, number_map.easy_number, latest.easy_number) as easy_number,
        case when latest.easy_number like 'Z%' then latest.easy_number end as temporary_easy_number,
        latest.product_code,
        latest.order_id,
        latest.status,
        latest.policy_number,
        decisions.delivery_id,
        decisions.version_no,
        decisions.amount_value,
        decisions.amount_currency,
        decisions.delivery_id is not null as has_decision_version,
        latest.first_recorded_at as recorded_at
    from latest
    left join decisions
        on decisions.external_id = latest.external_id
    left join number_map
        on number_map.temporary_easy_number = latest.easy_number

)

select * from final
