-- cover_daily: the cover held on each GMT day, as "what cover did we hold on this buyer on the day we shipped?"
-- grain: one row per policy × company × product × GMT day at whose end a decision is in force (delivery_statuses.in_force), from the decision's day to the day before the next version (or the as-of day)
-- key: cover_date, easy_number, product_code, policy_number
-- upstream: decision_history, delivery_statuses, data_as_of, policies, fx_conversions
-- materialized: view
--
-- A view over a date spine joined by range: a query for one day (where cover_date = ...) reads one spine
-- row and scans the versions once, so nothing is stored and the day of a nightly build is there at once.
-- is_effective: the decision's effective_date has come (a first decision often takes effect the next day;
-- a decision without an effective date is effective when decided). Closing rows (deleted, aged_out) and
-- decisions not in force (refused, withdrawn, cancelled, expired, information products) hold no cover.
-- amount_policy_currency converts at that day's rates (NULL when one is missing). is_partial: the day is
-- before the policy's first landed day, whose earlier decisions the warehouse may not hold.
-- For an instant rather than a day, see decision_as_of in docs/warehouse.md.

with

versions as (

    select decision_history.*
    from history.decision_history
    inner join marts.delivery_statuses on delivery_statuses.status = decision_history.status
    where delivery_statuses.in_force

),

as_of as (

    select as_of_day from marts.data_as_of

),

policy_terms as (

    select policy_number, currency, first_landed_day from marts.policies

),

conversions as (

    select rate_date, from_currency, to_currency, factor from marts.fx_conversions

),

spans as (

    select
        versions.*,
        cast(versions.valid_from at time zone 'UTC' as date) as first_day,
        cast(versions.valid_to at time zone 'UTC' as date) as end_day
    from versions

),

spine as (

    select cast(days.day_start as date) as cover_date
    from as_of
    cross join (select min(first_day) as first_day from spans) as earliest
    cross join generate_series(
        cast(earliest.first_day as timestamp), cast(as_of.as_of_day as timestamp), interval '1 day'
    ) as days (day_start)

),

daily as (

    select spine.cover_date, spans.*
    from spine
    inner join spans
        on spans.first_day <= spine.cover_date
        and (spans.end_day is null or spans.end_day > spine.cover_date)

),

final as (

    select
        daily.cover_date,
        daily.easy_number,
        daily.product_code,
        daily.policy_number,
        daily.status,
        daily.amount_value,
        daily.amount_currency,
        policy_terms.currency as policy_currency,
        cast(
            case
                when daily.amount_currency = policy_terms.currency then daily.amount_value
                else daily.amount_value * conversion.factor
            end as decimal(18, 2)
        ) as amount_policy_currency,
        daily.effective_date is null or daily.effective_date <= daily.cover_date as is_effective,
        daily.decision_at,
        daily.effective_date,
        daily.expiry_date,
        daily.version_no,
        daily.delivery_id,
        daily.order_id,
        daily.temporary_easy_number,
        coalesce(daily.cover_date < policy_terms.first_landed_day, false) as is_partial
    from daily
    left join policy_terms on policy_terms.policy_number = daily.policy_number
    left join conversions as conversion
        on conversion.rate_date = daily.cover_date
        and conversion.from_currency = daily.amount_currency
        and conversion.to_currency = policy_terms.currency

)

select * from final
