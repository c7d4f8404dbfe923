-- current_portfolio: the credit decisions in force now, with the company's current identification.
-- grain: one row per policy × company × product whose current decision is in force (a buyer covered under
--        two policies has a row under each, each with that policy's decision)
-- key: easy_number, product_code, policy_number
-- upstream: decision_history, company_history, delivery_statuses, data_as_of, policies, fx_conversions
-- materialized: view
--
-- In force: the current version is a decision (not a closing row) whose status is DECIDED_FULL,
-- DECIDED_PARTIAL, REDUCED, UNDER_WITHDRAWAL or UNDER_CANCELLATION (the last two stay in force until
-- their expiry is decided). amount_policy_currency converts the amount into the policy's currency at the
-- rates of the as-of day (data_as_of; NULL when a rate is missing, never zero); is_effective: the
-- decision's effective date has come by then.

with

current_decisions as (

    select * from history.decision_history
    where is_current

),

current_companies as (

    select * from history.company_history
    where is_current

),

as_of as (

    select as_of_day from marts.data_as_of

),

policy_terms as (

    select policy_number, currency from marts.policies

),

conversions as (

    select rate_date, from_currency, to_currency, factor from marts.fx_conversions

),

in_force as (

    select current_decisions.*
    from current_decisions
    inner join marts.delivery_statuses on delivery_statuses.status = current_decisions.status
    where delivery_statuses.in_force

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
        policy_terms.currency as policy_currency,
        cast(
            case
                when in_force.amount_currency = policy_terms.currency then in_force.amount_value
                else in_force.amount_value * conversion.factor
            end as decimal(18, 2)
        ) as amount_policy_currency,
        in_force.effective_date is null or in_force.effective_date <= as_of.as_of_day as is_effective,
        in_force.decision_at,
        in_force.effective_date,
        in_force.expiry_date,
        in_force.delivery_id,
        in_force.external_id,
        in_force.order_id,
        in_force.version_no,
        in_force.recorded_at
    from in_force
    cross join as_of
    left join policy_terms on policy_terms.policy_number = in_force.policy_number
    left join conversions as conversion
        on conversion.rate_date = as_of.as_of_day
        and conversion.from_currency = in_force.amount_currency
        and conversion.to_currency = policy_terms.currency
    left join current_companies
        on current_companies.policy_number = in_force.policy_number
        and current_companies.easy_number = in_force.easy_number

)

select * from final
