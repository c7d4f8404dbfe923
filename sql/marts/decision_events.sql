-- decision_events: every change in a policy × company × product's decision, with what it changed from.
-- grain: one row per decision_history version (each decision, and each closing by a snapshot)
-- key: easy_number, product_code, policy_number, version_no
-- upstream: decision_history, company_history
-- materialized: view
--
-- event_kind, the first that applies: withdrawn, cancelled, expired, deleted, aged_out (from change_kind),
-- refused (status DECIDED_REFUSED, a refusal of a first request included), first_decision (version 1),
-- increase or decrease (amount in the same currency went up or down), status_change (same amount, new
-- status), unchanged (a new decision repeating the previous one). is_first_decision marks version 1 whatever
-- its kind, so first requests are counted apart from later changes.

with

versions as (

    select * from history.decision_history

),

current_companies as (

    select policy_number, easy_number, company_name, country_code from history.company_history
    where is_current

),

with_previous as (

    select
        *,
        lag(status) over key_versions as previous_status,
        lag(amount_value) over key_versions as previous_amount_value,
        lag(amount_currency) over key_versions as previous_amount_currency
    from versions
    window key_versions as (partition by policy_number, easy_number, product_code order by version_no)

),

classified as (

    select
        *,
        case
            when change_kind <> 'observed' then change_kind
            when status = 'DECIDED_REFUSED' then 'refused'
            when version_no = 1 then 'first_decision'
            when amount_currency = previous_amount_currency and amount_value > previous_amount_value
                then 'increase'
            when amount_currency = previous_amount_currency and amount_value < previous_amount_value
                then 'decrease'
            when status is distinct from previous_status then 'status_change'
            else 'unchanged'
        end as event_kind,
        case
            when amount_currency = previous_amount_currency
                then cast(coalesce(amount_value, 0) - coalesce(previous_amount_value, 0) as decimal(18, 2))
        end as amount_change
    from with_previous

),

final as (

    select
        classified.easy_number,
        classified.product_code,
        classified.policy_number,
        classified.version_no,
        classified.valid_from as event_at,
        cast(classified.event_kind as varchar) as event_kind,
        classified.version_no = 1 as is_first_decision,
        classified.change_kind,
        current_companies.company_name,
        current_companies.country_code,
        classified.status,
        classified.previous_status,
        classified.amount_value,
        classified.previous_amount_value,
        classified.amount_change,
        classified.amount_currency,
        classified.delivery_id,
        classified.external_id,
        classified.order_id,
        classified.temporary_easy_number,
        classified.recorded_at
    from classified
    left join current_companies
        on current_companies.policy_number = classified.policy_number
        and current_companies.easy_number = classified.easy_number

)

select * from final
