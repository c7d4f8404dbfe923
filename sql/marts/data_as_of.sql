-- data_as_of: the GMT day the warehouse speaks up to, which daily marts run to and amounts are converted on.
-- grain: one row
-- key: as_of_day
-- upstream: decision_history, order_history
-- materialized: view
--
-- as_of_day is the latest GMT day on which any decision or order version starts, ends or was recorded:
-- after a nightly sync, the night's day. NULL while the history is empty.

with

bounds as (

    select
        cast(max(valid_from) at time zone 'UTC' as date) as last_start,
        cast(max(valid_to) at time zone 'UTC' as date) as last_end,
        cast(max(recorded_at) at time zone 'UTC' as date) as last_recorded
    from history.decision_history

),

order_bounds as (

    select
        cast(max(valid_from) at time zone 'UTC' as date) as last_start,
        cast(max(valid_to) at time zone 'UTC' as date) as last_end,
        cast(max(recorded_at) at time zone 'UTC' as date) as last_recorded
    from history.order_history

),

candidates as (

    select last_start as day_seen from bounds
    union all
    select last_end from bounds
    union all
    select last_recorded from bounds
    union all
    select last_start from order_bounds
    union all
    select last_end from order_bounds
    union all
    select last_recorded from order_bounds

)

select max(day_seen) as as_of_day
from candidates
