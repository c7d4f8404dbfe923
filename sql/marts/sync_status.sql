-- sync_status: how fresh each stream of each policy is, and the last warehouse build ("data as of").
-- grain: one row per policy × landed stream
-- key: policy_number, stream
-- upstream: data_as_of
-- materialized: view
--
-- Read from the build's record of what it loaded (_wh_partitions, _wh_builds). last_landed_day is the
-- latest dated partition (daily streams: a GMT day; snapshots: an as-of day); a reference list has only
-- its current partition (NULL). days_behind counts the GMT days between the last landed day and
-- yesterday by the database's clock (0: up to date after last night's sync); a sandbox's virtual
-- clock is behind the database's. quarantined_records are the records the streams' manifests count as
-- quarantined (see the quarantine datasets in the landing zone).

with

partitions as (

    select * from _wh_partitions
    where stream not like '%_quarantine'

),

streams as (

    select
        policy_number,
        stream,
        count(*) as partitions,
        min(case when partition_key <> 'current' then cast(partition_key as date) end) as first_landed_day,
        max(case when partition_key <> 'current' then cast(partition_key as date) end) as last_landed_day,
        sum(row_count) as rows_landed,
        sum(coalesce(quarantined, 0)) as quarantined_records,
        max(cast(written_at as timestamp with time zone)) as last_extracted_at
    from partitions
    group by policy_number, stream

),

last_build as (

    select build_id, finished_at, full_refresh, duration_s
    from _wh_builds
    where build_id = (select max(build_id) from _wh_builds)

),

as_of as (

    select as_of_day from marts.data_as_of

)

select
    streams.policy_number,
    streams.stream,
    cast(streams.partitions as bigint) as partitions,
    streams.first_landed_day,
    streams.last_landed_day,
    cast(streams.rows_landed as bigint) as rows_landed,
    cast(streams.quarantined_records as bigint) as quarantined_records,
    streams.last_extracted_at,
    cast(current_date - 1 - streams.last_landed_day as integer) as days_behind,
    as_of.as_of_day,
    last_build.build_id as last_build_id,
    last_build.finished_at as last_build_at,
    last_build.full_refresh as last_build_full_refresh,
    last_build.duration_s as last_build_seconds
from streams
cross join as_of
left join last_build on true
