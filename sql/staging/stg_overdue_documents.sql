-- stg_overdue_documents: landed documents attached to overdue cases (names only), typed and deduplicated.
-- grain: one row per overdue case × file name per landed partition, current run only
-- key: policy_number, source_partition, overdue_id, file_name
-- upstream: landed_overdue_documents
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_overdue_documents

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(overdue_id as varchar) as overdue_id,
        cast(easy_number as varchar) as easy_number,
        cast(file_name as varchar) as file_name,
        cast(media_type as varchar) as media_type,
        cast(uploaded_at as timestamp with time zone) as uploaded_at
    from landed
    where overdue_id is not null and file_name is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, overdue_id, file_name
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    overdue_id,
    easy_number,
    file_name,
    media_type,
    uploaded_at
from deduplicated
where copy_rank = 1
