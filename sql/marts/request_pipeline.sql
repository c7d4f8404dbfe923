-- request_pipeline: the life of each product request (order), from asking to Coface's answer.
-- grain: one row per policy × order
-- key: order_id, policy_number
-- upstream: order_history, decision_history, order_statuses, data_as_of
-- materialized: view
--
-- Hours in each status sum the order's states in order_history (a pending state still current counts up
-- to the end of the as-of day; a status the nightly syncs never saw between two fetches is not counted,
-- see order_history). The first decision is the earliest decision of decision_history naming the order.
-- outcome: rejected or annulled (the order's final status), else granted / partial / refused by the first
-- decision (decided for another status, as an information product's), else pending. A request whose
-- buyer was identified later keeps its temporary Z number beside the definitive one.

with

states as (

    select * from history.order_history

),

as_of as (

    select cast(as_of_day + 1 as timestamp with time zone) as as_of_end from marts.data_as_of

),

timed as (

    select
        states.policy_number,
        states.order_id,
        states.status,
        cast(extract(epoch from (coalesce(states.valid_to, as_of.as_of_end) - states.valid_from)) as double precision)
            / 3600 as hours
    from states
    cross join as_of

),

hours_by_status as (

    select
        timed.policy_number,
        timed.order_id,
        sum(case when timed.status = 'STATUS_STARTED' then timed.hours end) as hours_started,
        sum(case when timed.status = 'STATUS_PENDING_DEBTOR_VALIDATION' then timed.hours end)
            as hours_pending_debtor_validation,
        sum(case when timed.status = 'STATUS_PENDING_UNDERWRITING' then timed.hours end) as hours_pending_underwriting,
        sum(case when timed.status = 'STATUS_PENDING_COMPLEMENTARY_INFORMATION' then timed.hours end)
            as hours_pending_complementary_information,
        sum(case when timed.status = 'STATUS_PENDING_ON_HOLD' then timed.hours end) as hours_pending_on_hold,
        sum(case when order_statuses.is_pending then timed.hours end) as hours_pending_total
    from timed
    left join marts.order_statuses on order_statuses.status = timed.status
    group by timed.policy_number, timed.order_id

),

current_states as (

    select * from states
    where is_current

),

decisions as (

    select
        policy_number,
        order_id,
        decision_at,
        status,
        amount_value,
        amount_currency,
        row_number() over (partition by policy_number, order_id order by decision_at, version_no) as decision_rank
    from history.decision_history
    where order_id is not null and decision_at is not null

),

first_decisions as (

    select * from decisions
    where decision_rank = 1

),

final as (

    select
        current_states.order_id,
        current_states.policy_number,
        current_states.easy_number,
        current_states.temporary_easy_number,
        current_states.product_code,
        current_states.order_at as requested_at,
        current_states.requested_amount_value,
        current_states.requested_amount_currency,
        current_states.status,
        current_states.status_at,
        case
            when current_states.status = 'STATUS_REJECTED' then 'rejected'
            when current_states.status = 'STATUS_ANNULED' then 'annulled'
            when first_decisions.status = 'DECIDED_FULL' then 'granted'
            when first_decisions.status = 'DECIDED_PARTIAL' then 'partial'
            when first_decisions.status = 'DECIDED_REFUSED' then 'refused'
            when first_decisions.status is not null then 'decided'
            else 'pending'
        end as outcome,
        first_decisions.decision_at as first_decision_at,
        cast(extract(epoch from (first_decisions.decision_at - current_states.order_at)) as double precision)
            / 3600 as hours_to_first_decision,
        first_decisions.status as first_decision_status,
        first_decisions.amount_value as granted_amount_value,
        first_decisions.amount_currency as granted_amount_currency,
        hours_by_status.hours_started,
        hours_by_status.hours_pending_debtor_validation,
        hours_by_status.hours_pending_underwriting,
        hours_by_status.hours_pending_complementary_information,
        hours_by_status.hours_pending_on_hold,
        hours_by_status.hours_pending_total,
        current_states.rejection_reasons,
        current_states.delivery_id
    from current_states
    left join hours_by_status
        on hours_by_status.policy_number = current_states.policy_number
        and hours_by_status.order_id = current_states.order_id
    left join first_decisions
        on first_decisions.policy_number = current_states.policy_number
        and first_decisions.order_id = current_states.order_id

)

select
    order_id,
    policy_number,
    easy_number,
    temporary_easy_number,
    product_code,
    requested_at,
    requested_amount_value,
    requested_amount_currency,
    status,
    status_at,
    cast(outcome as varchar) as outcome,
    first_decision_at,
    hours_to_first_decision,
    first_decision_status,
    granted_amount_value,
    granted_amount_currency,
    hours_started,
    hours_pending_debtor_validation,
    hours_pending_underwriting,
    hours_pending_complementary_information,
    hours_pending_on_hold,
    hours_pending_total,
    rejection_reasons,
    delivery_id
from final
