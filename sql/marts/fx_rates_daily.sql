-- fx_rates_daily: the rate of each currency on every GMT day, the one conversion every mart uses.
-- grain: one row per currency × GMT day from the currency's first quote to 6 days after its last, with
--        the latest quote of the last 7 days (the ECB quotes business days: weekends and holidays take the
--        last quote); the euro on every day of any quote
-- key: rate_date, currency
-- upstream: stg_fx_rates
-- materialized: view
--
-- An amount in currency c on day d is worth amount / rate(c, d) * rate(p, d) in currency p. A day with no
-- quote in the 7 days up to it has no row: the converted amount is NULL (never a stale or zero rate), and
-- the check fx_rates_cover_amounts warns.

with

rates as (

    select rate_date, currency, units_per_euro from staging.stg_fx_rates

),

spans as (

    select currency, min(rate_date) as first_day, max(rate_date) + 6 as last_day
    from rates
    group by currency

),

days as (

    select spans.currency, cast(spine.day_start as date) as rate_date
    from spans
    cross join generate_series(
        cast(spans.first_day as timestamp), cast(spans.last_day as timestamp), interval '1 day'
    ) as spine (day_start)

),

carried as (

    select
        days.currency,
        days.rate_date,
        max(rates.rate_date) over (
            partition by days.currency order by days.rate_date rows between unbounded preceding and current row
        ) as quoted_on
    from days
    left join rates
        on rates.currency = days.currency
        and rates.rate_date = days.rate_date

),

quoted as (

    select carried.rate_date, carried.currency, rates.units_per_euro, carried.quoted_on
    from carried
    inner join rates
        on rates.currency = carried.currency
        and rates.rate_date = carried.quoted_on
    where carried.quoted_on > carried.rate_date - 7

),

euro as (

    select distinct rate_date, 'EUR' as currency, cast(1 as decimal(18, 6)) as units_per_euro, rate_date as quoted_on
    from quoted

),

final as (

    select * from quoted
    union all
    select * from euro

)

select
    rate_date,
    cast(currency as varchar) as currency,
    units_per_euro,
    quoted_on
from final
