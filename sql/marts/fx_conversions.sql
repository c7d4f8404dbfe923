-- fx_conversions: the factor that turns an amount in one currency into another on a GMT day.
-- grain: one row per GMT day × currency pair both quoted that day in fx_rates_daily (the euro included)
-- key: rate_date, from_currency, to_currency
-- upstream: fx_rates_daily
-- materialized: view
--
-- amount × factor is the amount in to_currency: factor = rate(to) / rate(from), rates in units per euro.
-- The marts take an amount already in the wanted currency as it is (no rate needed) and join this view
-- otherwise; no row, no conversion: NULL.

with

rates as (

    select rate_date, currency, units_per_euro from marts.fx_rates_daily

),

pairs as (

    select
        source_rate.rate_date,
        source_rate.currency as from_currency,
        target_rate.currency as to_currency,
        cast(target_rate.units_per_euro as double precision)
            / cast(source_rate.units_per_euro as double precision) as factor
    from rates as source_rate
    inner join rates as target_rate on target_rate.rate_date = source_rate.rate_date

)

select rate_date, from_currency, to_currency, factor
from pairs
