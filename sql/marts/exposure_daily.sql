-- exposure_daily: credit exposure in force at the end of each GMT day, per policy, by buyer country and
-- product.
-- grain: one row per day × policy × country × product × currency, from the group's first decision day to
--        the warehouse's as-of day (data_as_of)
-- key: exposure_date, policy_number, country_code, product_code, currency
-- upstream: decision_history, company_history, delivery_statuses, data_as_of, policies, fx_conversions
-- materialized: view
--
-- A decision version counts on day d when it is in force (delivery_statuses.in_force) at the end
-- of d: its valid_from falls on or before d and its valid_to (if any) after d, in GMT. Country is the
-- company's current country. exposure_amount sums amount_value (NULL amounts count as decisions, not
-- as money). exposure_amount_policy_currency converts the day's sum into the policy's currency at that
-- day's rates (fx_rates_daily); NULL when a rate is missing, never zero. is_partial marks days before the
-- policy's first landed day: history before it is incomplete.

with

companies as (

    select policy_number, easy_number, country_code from history.company_history
    where is_current

),

in_force_versions as (

    select
        versions.policy_number,
        coalesce(companies.country_code, 'UNKNOWN') as country_code,
        versions.product_code,
        coalesce(versions.amount_currency, 'UNKNOWN') as currency,
        coalesce(versions.amount_value, 0) as amount_value,
        cast(versions.valid_from at time zone 'UTC' as date) as first_day,
        cast(versions.valid_to at time zone 'UTC' as date) as end_day
    from history.decision_history as versions
    left join companies
        on companies.policy_number = versions.policy_number
        and companies.easy_number = versions.easy_number
    inner join marts.delivery_statuses on delivery_statuses.status = versions.status
    where delivery_statuses.in_force

),

deltas as (

    select policy_number, country_code, product_code, currency, first_day as delta_day, amount_value, 1 as decisions
    from in_force_versions
    union all
    select policy_number, country_code, product_code, currency, end_day as delta_day, -amount_value, -1 as decisions
    from in_force_versions
    where end_day is not null

),

daily_deltas as (

    select
        policy_number, country_code, product_code, currency, delta_day,
        sum(amount_value) as amount_delta,
        sum(decisions) as decisions_delta
    from deltas
    group by policy_number, country_code, product_code, currency, delta_day

),

as_of as (

    select as_of_day as last_day from marts.data_as_of

),

policy_terms as (

    select policy_number, currency, first_landed_day from marts.policies

),

conversions as (

    select rate_date, from_currency, to_currency, factor from marts.fx_conversions

),

groups as (

    select policy_number, country_code, product_code, currency, min(delta_day) as first_day
    from daily_deltas
    group by policy_number, country_code, product_code, currency

),

calendar as (

    select
        groups.policy_number,
        groups.country_code,
        groups.product_code,
        groups.currency,
        cast(days.day_start as date) as exposure_date
    from groups
    cross join as_of
    cross join generate_series(
        cast(groups.first_day as timestamp), cast(as_of.last_day as timestamp), interval '1 day'
    ) as days (day_start)

),

running as (

    select
        calendar.exposure_date,
        calendar.policy_number,
        calendar.country_code,
        calendar.product_code,
        calendar.currency,
        sum(coalesce(daily_deltas.decisions_delta, 0)) over group_days as decisions_in_force,
        sum(coalesce(daily_deltas.amount_delta, 0)) over group_days as exposure_amount
    from calendar
    left join daily_deltas
        on daily_deltas.policy_number = calendar.policy_number
        and daily_deltas.country_code = calendar.country_code
        and daily_deltas.product_code = calendar.product_code
        and daily_deltas.currency = calendar.currency
        and daily_deltas.delta_day = calendar.exposure_date
    window group_days as (
        partition by calendar.policy_number, calendar.country_code, calendar.product_code, calendar.currency
        order by calendar.exposure_date
        rows between unbounded preceding and current row
    )

),

converted as (

    select
        running.*,
        policy_terms.currency as policy_currency,
        coalesce(running.exposure_date < policy_terms.first_landed_day, false) as is_partial,
        case
            when running.currency = policy_terms.currency then running.exposure_amount
            else running.exposure_amount * conversion.factor
        end as exposure_amount_policy_currency
    from running
    left join policy_terms on policy_terms.policy_number = running.policy_number
    left join conversions as conversion
        on conversion.rate_date = running.exposure_date
        and conversion.from_currency = running.currency
        and conversion.to_currency = policy_terms.currency

)

select
    exposure_date,
    policy_number,
    country_code,
    product_code,
    currency,
    cast(decisions_in_force as bigint) as decisions_in_force,
    cast(exposure_amount as decimal(18, 2)) as exposure_amount,
    policy_currency,
    cast(exposure_amount_policy_currency as decimal(18, 2)) as exposure_amount_policy_currency,
    is_partial
from converted
