-- current_portfolio: the credit decisions in force now, with the company's current identification.
-- grain: one row per policy × company × product whose current decision is in force (a buyer covered under
--        two policies has a row under each, each with that policy's decision)
-- key: easy_number, product_code, policy_number
-- upstream: decision_history, company_history
-- materialized: view
--
-- In force: the current version is a decision (not a closing row) whose status is DECIDED_FULL,
-- DECIDED_PARTIAL, REDUCED, UNDER_WITHDRAWAL or UNDER_CANCELLATION (the last two stay in force until
-- their expiry is decided).

with

current_decisions as (

    select * from history.decision_history
    where is_current

),

current_companies as (

    select * from history.company_history
    where is_current

),

in_force as (

    select * from current_decisions
    where status in ('DECIDED_FULL', 'DECIDED_PARTIAL', 'REDUCED', 'UNDER_WITHDRAWAL', 'UNDER_CANCELLATION')

),

final as (

    select
        in_force.easy_number,
        in_force.product_code,
        in_force.policy_number,
        current_companies.company_name,
        current_companies.country_code,
        current_companies.customer_reference,
        in_force.temporary_easy_number,
        in_force.status,
        in_force.amount_value,
        in_force.amount_currency,
        in_force.decision_at,
        in_force.effective_date,
        in_force.expiry_date,
        in_force.delivery_id,
        in_force.external_id,
        in_force.order_id,
        in_force.version_no,
        in_force.recorded_at
    from in_force
    left join current_companies
        on current_companies.policy_number = in_force.policy_number
        and current_companies.easy_number = in_force.easy_number

)

select * from final
