-- notification_events: every decision notification, matched to the decision version it announced.
-- grain: one row per policy × notification (the policy whose landing zone holds it)
-- key: notification_id, policy_number
-- upstream: stg_notifications, decision_history, easy_number_map
-- materialized: view
--
-- A notification lands in exactly one partition (the GMT day of its event_at, which never changes) and
-- staging keeps one row per policy, notification and partition, so each notification of a policy is one
-- row here (the unique_notifications check verifies it). It is matched to the decision version of its
-- policy with the same external id, and a temporary number is resolved within its policy;
-- has_decision_version is false while that delivery is not in decision_history yet. listed_policy_number
-- is the policy the notification itself names, as notified.

with

notifications as (

    select * from staging.stg_notifications

),

number_map as (

    select temporary_easy_number, policy_number, easy_number from history.easy_number_map

),

decisions as (

    select
        policy_number, easy_number, product_code, version_no, external_id, delivery_id, amount_value,
        amount_currency
    from history.decision_history
    where external_id is not null

),

final as (

    select
        notifications.notification_id,
        notifications.policy_number,
        notifications.external_id,
        notifications.event_type,
        notifications.event_at,
        coalesce(decisions.easy_number, number_map.easy_number, notifications.easy_number) as easy_number,
        case when notifications.easy_number like 'Z%' then notifications.easy_number end as temporary_easy_number,
        notifications.product_code,
        notifications.order_id,
        notifications.status,
        notifications.listed_policy_number,
        decisions.delivery_id,
        decisions.version_no,
        decisions.amount_value,
        decisions.amount_currency,
        decisions.delivery_id is not null as has_decision_version,
        notifications.extracted_at as recorded_at
    from notifications
    left join decisions
        on decisions.policy_number = notifications.policy_number
        and decisions.external_id = notifications.external_id
    left join number_map
        on number_map.policy_number = notifications.policy_number
        and number_map.temporary_easy_number = notifications.easy_number

)

select * from final
