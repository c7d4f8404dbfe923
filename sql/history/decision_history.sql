-- decision_history: SCD2 history of credit decisions per policy × company × product.
-- grain: one row per version of a policy × company × product: one per decision (delivery), plus a
--        closing row when that policy's reconciliation snapshot stops listing the product (change_kind
--        deleted or aged_out)
-- key: easy_number, product_code, policy_number, version_no (current version: valid_to is null)
-- upstream: stg_deliveries, stg_deliveries_push, stg_portfolio, stg_portfolio_snapshot, stg_portfolio_snapshot_quarantine, easy_number_map
-- materialized: table
-- refresh: by company; all companies when stg_portfolio_snapshot, stg_portfolio_snapshot_quarantine changes
--
-- valid_from is the decision timestamp (decision_at) of the delivery (fetched by the nightly pull, or as
-- soon as a pushed notification named it: the same decision from both is one version); valid_to is the next version's
-- valid_from. A decision is read from the delivery detail when landed, else from the portfolio row
-- naming its delivery. Closing rows start at the first reconciliation snapshot taken after the
-- version's last listing (and before the next version) that no longer lists the product: aged_out when
-- the version was an inactive decision at least two years old at that snapshot (it left the API's
-- window), deleted otherwise. Incremental extracts never close a version.
--
-- A snapshot's quarantined record is not an absence: the API listed the company, only its record was
-- damaged. A company named by a quarantined record of a snapshot counts as listed by that snapshot with
-- every product it has here (a listing whose product_code is null), so none is deleted or aged out by
-- it. A quarantined record whose easyNumber cannot be read could be any company's, so its snapshot
-- cannot prove any absence: it closes nothing (only closing_snapshots close; its rows still count as
-- listings), and a later snapshot closes what is really gone. Never invent a deletion.
--
-- A snapshot is timed by what its listing can show, not by when it was extracted: the API lists what
-- happened before its today 00:00:00Z, the snapshot's as-of day (source_partition). A decision made after
-- that instant, even before the extraction, is not absent from it, only not shown yet; the closing row
-- starts at that instant and is recorded when the snapshot was extracted.
--
-- Policies are kept apart: the same buyer and product under two policies are two histories, each closed
-- only by its own policy's snapshots, each temporary number resolved by its own policy's map.

with

scope as (

    select easy_number from _wh_scope

),

number_map as (

    select policy_number, temporary_easy_number, easy_number from history.easy_number_map

),

temporary_by_order as (

    select policy_number, order_id, min(temporary_easy_number) as temporary_easy_number
    from history.easy_number_map
    where order_id is not null
    group by policy_number, order_id

),

deliveries as (

    select
        policy_number, easy_number, temporary_easy_number, product_code, delivery_id, external_id, order_id,
        status, decision_at, effective_date, expiry_date, amount_value, amount_currency,
        requested_amount_value, requested_amount_currency, conditions, extracted_at, source_partition,
        'deliveries' as source_stream, 1 as source_priority
    from staging.stg_deliveries
    where easy_number in (select easy_number from scope)
    union all
    select
        policy_number, easy_number, temporary_easy_number, product_code, delivery_id, external_id, order_id,
        status, decision_at, effective_date, expiry_date, amount_value, amount_currency,
        requested_amount_value, requested_amount_currency, conditions, extracted_at, source_partition,
        'deliveries_push' as source_stream, 1 as source_priority
    from staging.stg_deliveries_push
    where easy_number in (select easy_number from scope)

),

portfolio_decisions as (

    select
        policy_number, easy_number, temporary_easy_number, product_code, delivery_id, external_id, order_id,
        status, decision_at, effective_date, expiry_date, amount_value, amount_currency,
        cast(null as decimal(18, 2)) as requested_amount_value,
        cast(null as varchar) as requested_amount_currency,
        cast(null as varchar) as conditions,
        extracted_at, source_partition,
        'portfolio' as source_stream, 2 as source_priority
    from staging.stg_portfolio
    where delivery_id is not null and easy_number in (select easy_number from scope)

),

snapshot_decisions as (

    select
        policy_number, easy_number, temporary_easy_number, product_code, delivery_id, external_id, order_id,
        status, decision_at, effective_date, expiry_date, amount_value, amount_currency,
        cast(null as decimal(18, 2)) as requested_amount_value,
        cast(null as varchar) as requested_amount_currency,
        cast(null as varchar) as conditions,
        extracted_at, source_partition,
        'portfolio_snapshot' as source_stream, 3 as source_priority
    from staging.stg_portfolio_snapshot
    where delivery_id is not null and easy_number in (select easy_number from scope)

),

observations as (

    select * from deliveries
    union all
    select * from portfolio_decisions
    union all
    select * from snapshot_decisions

),

resolved as (

    select
        coalesce(number_map.easy_number, observations.easy_number) as resolved_easy_number,
        coalesce(
            case when observations.temporary_easy_number like 'Z%' then observations.temporary_easy_number end,
            case when observations.easy_number like 'Z%' then observations.easy_number end,
            temporary_by_order.temporary_easy_number
        ) as resolved_temporary_easy_number,
        observations.*
    from observations
    left join number_map
        on number_map.policy_number = observations.policy_number
        and number_map.temporary_easy_number = observations.easy_number
    left join temporary_by_order
        on temporary_by_order.policy_number = observations.policy_number
        and temporary_by_order.order_id = observations.order_id

),

ranked_observations as (

    select
        *,
        row_number() over (
            partition by policy_number, delivery_id
            order by source_priority, extracted_at desc, source_partition desc
        ) as observation_rank,
        min(extracted_at) over (partition by policy_number, delivery_id) as first_recorded_at,
        max(resolved_temporary_easy_number) over (
            partition by policy_number, delivery_id
        ) as any_temporary_easy_number
    from resolved

),

decision_versions as (

    select
        resolved_easy_number as easy_number,
        product_code,
        policy_number,
        delivery_id,
        external_id,
        order_id,
        any_temporary_easy_number as temporary_easy_number,
        status,
        decision_at,
        effective_date,
        expiry_date,
        amount_value,
        amount_currency,
        requested_amount_value,
        requested_amount_currency,
        conditions,
        source_stream,
        coalesce(decision_at, first_recorded_at) as version_at,
        first_recorded_at as recorded_at
    from ranked_observations
    where observation_rank = 1

),

sequenced as (

    select
        *,
        lead(version_at) over (
            partition by policy_number, easy_number, product_code
            order by version_at, delivery_id
        ) as next_version_at
    from decision_versions

),

snapshots as (

    select
        policy_number,
        source_partition,
        cast(cast(source_partition as date) as timestamp) at time zone 'UTC' as snapshot_at,
        min(extracted_at) as snapshot_recorded_at
    from staging.stg_portfolio_snapshot
    group by policy_number, source_partition

),

closing_snapshots as (

    select snapshots.policy_number, snapshots.source_partition, snapshots.snapshot_at, snapshots.snapshot_recorded_at
    from snapshots
    where not exists (
        select 1
        from staging.stg_portfolio_snapshot_quarantine as unreadable
        where unreadable.policy_number = snapshots.policy_number
            and unreadable.source_partition = snapshots.source_partition
            and unreadable.easy_number is null
    )

),

snapshot_listings as (

    select distinct
        listed.policy_number,
        coalesce(number_map.easy_number, listed.easy_number) as easy_number,
        listed.product_code,
        snapshots.snapshot_at
    from (
        select policy_number, source_partition, easy_number, product_code
        from staging.stg_portfolio_snapshot
        union all
        select policy_number, source_partition, easy_number, cast(null as varchar) as product_code
        from staging.stg_portfolio_snapshot_quarantine
    ) as listed
    inner join snapshots
        on snapshots.policy_number = listed.policy_number
        and snapshots.source_partition = listed.source_partition
    left join number_map
        on number_map.policy_number = listed.policy_number
        and number_map.temporary_easy_number = listed.easy_number
    where listed.easy_number in (select easy_number from scope)

),

last_listings as (

    select sequenced.policy_number, sequenced.delivery_id, max(snapshot_listings.snapshot_at) as last_listed_at
    from sequenced
    inner join snapshot_listings
        on snapshot_listings.policy_number = sequenced.policy_number
        and snapshot_listings.easy_number = sequenced.easy_number
        and coalesce(snapshot_listings.product_code, sequenced.product_code) = sequenced.product_code
        and snapshot_listings.snapshot_at >= sequenced.version_at
        and (sequenced.next_version_at is null or snapshot_listings.snapshot_at < sequenced.next_version_at)
    group by sequenced.policy_number, sequenced.delivery_id

),

closures as (

    select sequenced.policy_number, sequenced.delivery_id, min(closing_snapshots.snapshot_at) as closed_at
    from sequenced
    left join last_listings
        on last_listings.policy_number = sequenced.policy_number
        and last_listings.delivery_id = sequenced.delivery_id
    inner join closing_snapshots
        on closing_snapshots.policy_number = sequenced.policy_number
        and closing_snapshots.snapshot_at > coalesce(last_listings.last_listed_at, sequenced.version_at)
        and (sequenced.next_version_at is null or closing_snapshots.snapshot_at < sequenced.next_version_at)
    group by sequenced.policy_number, sequenced.delivery_id

),

version_rows as (

    select
        sequenced.easy_number,
        sequenced.product_code,
        sequenced.policy_number,
        sequenced.version_at as valid_from,
        coalesce(closures.closed_at, sequenced.next_version_at) as valid_to,
        case sequenced.status
            when 'WITHDRAWN' then 'withdrawn'
            when 'CANCELLED' then 'cancelled'
            when 'EXPIRED' then 'expired'
            else 'observed'
        end as change_kind,
        sequenced.recorded_at,
        sequenced.delivery_id,
        sequenced.external_id,
        sequenced.order_id,
        sequenced.temporary_easy_number,
        sequenced.status,
        sequenced.decision_at,
        sequenced.effective_date,
        sequenced.expiry_date,
        sequenced.amount_value,
        sequenced.amount_currency,
        sequenced.requested_amount_value,
        sequenced.requested_amount_currency,
        sequenced.conditions,
        sequenced.source_stream
    from sequenced
    left join closures
        on closures.policy_number = sequenced.policy_number
        and closures.delivery_id = sequenced.delivery_id

),

closing_rows as (

    select
        sequenced.easy_number,
        sequenced.product_code,
        sequenced.policy_number,
        closures.closed_at as valid_from,
        sequenced.next_version_at as valid_to,
        case
            when sequenced.status in (
                'CANCELLED', 'WITHDRAWN', 'EXPIRED', 'DECIDED_REFUSED',
                'STATUS_REPLACED', 'STATUS_FULLFILLED', 'DELIVERED'
            )
            and sequenced.version_at <= closures.closed_at - interval '2 years'
                then 'aged_out'
            else 'deleted'
        end as change_kind,
        closing_snapshots.snapshot_recorded_at as recorded_at,
        cast(null as varchar) as delivery_id,
        cast(null as varchar) as external_id,
        cast(null as varchar) as order_id,
        sequenced.temporary_easy_number,
        cast(null as varchar) as status,
        cast(null as timestamp with time zone) as decision_at,
        cast(null as date) as effective_date,
        cast(null as date) as expiry_date,
        cast(null as decimal(18, 2)) as amount_value,
        cast(null as varchar) as amount_currency,
        cast(null as decimal(18, 2)) as requested_amount_value,
        cast(null as varchar) as requested_amount_currency,
        cast(null as varchar) as conditions,
        'portfolio_snapshot' as source_stream
    from sequenced
    inner join closures
        on closures.policy_number = sequenced.policy_number
        and closures.delivery_id = sequenced.delivery_id
    inner join closing_snapshots
        on closing_snapshots.policy_number = sequenced.policy_number
        and closing_snapshots.snapshot_at = closures.closed_at

),

all_rows as (

    select *, 0 as row_order from version_rows
    union all
    select *, 1 as row_order from closing_rows

),

numbered as (

    select
        *,
        row_number() over (
            partition by policy_number, easy_number, product_code
            order by valid_from, row_order, delivery_id
        ) as version_no
    from all_rows

)

select
    cast(easy_number as varchar) as easy_number,
    cast(product_code as varchar) as product_code,
    cast(policy_number as varchar) as policy_number,
    cast(version_no as integer) as version_no,
    cast(valid_from as timestamp with time zone) as valid_from,
    cast(valid_to as timestamp with time zone) as valid_to,
    valid_to is null as is_current,
    cast(change_kind as varchar) as change_kind,
    cast(recorded_at as timestamp with time zone) as recorded_at,
    delivery_id,
    external_id,
    order_id,
    cast(temporary_easy_number as varchar) as temporary_easy_number,
    status,
    decision_at,
    effective_date,
    expiry_date,
    amount_value,
    amount_currency,
    requested_amount_value,
    requested_amount_currency,
    conditions,
    cast(source_stream as varchar) as source_stream
from numbered
-- a temporary number in scope may resolve, under one policy, to a company out of scope: its rows are
-- not deleted by this refresh, so they are not inserted again
where easy_number in (select easy_number from scope)
