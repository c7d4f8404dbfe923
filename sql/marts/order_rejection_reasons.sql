-- order_rejection_reasons: why Coface rejected a request, one reason per row.
-- grain: one row per policy × order × rejection reason its current state lists
-- key: order_id, policy_number, reason_rank
-- upstream: request_pipeline
-- materialized: view
--
-- request_pipeline keeps the reasons as a canonical JSON list of {code, label}; here they are unnested so
-- that rejections can be counted by reason. An order rejected without a reason listed has no row. The
-- same SQL runs on DuckDB and Postgres: the list is read by position (json_array_length, ->), positions
-- 0 .. the longest list.

with recursive

requests as (

    select
        order_id,
        policy_number,
        easy_number,
        temporary_easy_number,
        product_code,
        requested_at,
        status,
        status_at,
        outcome,
        cast(rejection_reasons as json) as reasons,
        json_array_length(cast(rejection_reasons as json)) as reasons_listed
    from marts.request_pipeline
    where rejection_reasons is not null

),

positions (list_position) as (

    select 0
    union all
    select list_position + 1 from positions
    where list_position + 1 < (select max(reasons_listed) from requests)

),

unnested as (

    select
        requests.*,
        requests.reasons -> positions.list_position ->> 'code' as reason_code,
        requests.reasons -> positions.list_position ->> 'label' as reason_label,
        positions.list_position
    from requests
    inner join positions
        on positions.list_position < requests.reasons_listed

)

select
    cast(order_id as varchar) as order_id,
    cast(policy_number as varchar) as policy_number,
    cast(easy_number as varchar) as easy_number,
    cast(temporary_easy_number as varchar) as temporary_easy_number,
    cast(product_code as varchar) as product_code,
    cast(requested_at as timestamp with time zone) as requested_at,
    cast(status as varchar) as status,
    cast(status_at as timestamp with time zone) as status_at,
    cast(outcome as varchar) as outcome,
    cast(reason_code as varchar) as reason_code,
    cast(reason_label as varchar) as reason_label,
    cast(list_position + 1 as integer) as reason_rank
from unnested
