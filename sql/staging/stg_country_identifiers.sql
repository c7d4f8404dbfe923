-- stg_country_identifiers: landed reference list of legal identifier types per country, typed and deduplicated.
-- grain: one row per country × identifier type per landed partition, current run only
-- key: policy_number, source_partition, country_code, identifier_type
-- upstream: landed_country_identifiers
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_country_identifiers

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(country_code as varchar) as country_code,
        cast(type as varchar) as identifier_type,
        cast(label as varchar) as identifier_label
    from landed
    where country_code is not null and type is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, country_code, identifier_type
            order by extracted_at desc, row_in_partition desc
        ) as copy_rank
    from renamed

)

select
    source_partition,
    policy_number,
    source_run_id,
    extracted_at,
    country_code,
    identifier_type,
    identifier_label
from deduplicated
where copy_rank = 1
