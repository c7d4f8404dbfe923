-- stg_fx_rates: FX reference rates of the ECB CSV named by COFASYNC_FX_RATES, typed.
-- grain: one row per GMT day × currency the file quotes (the euro is not quoted: one euro is one euro)
-- key: rate_date, currency
-- upstream: landed_fx_rates
-- materialized: table
-- refresh: whole, when the file's content changes (its SHA-256 is kept in _wh_meta)
--
-- units_per_euro: units of the currency one euro buys that day (the ECB's quotation).

with

landed as (

    select * from landed_fx_rates

),

typed as (

    select
        cast(rate_date as date) as rate_date,
        cast(currency as varchar) as currency,
        cast(units_per_euro as decimal(18, 6)) as units_per_euro
    from landed

)

select rate_date, currency, units_per_euro
from typed
