-- stg_countries: landed reference list of countries, typed and deduplicated.
-- grain: one row per country per landed partition, current run only
-- key: policy_number, source_partition, country_code
-- upstream: landed_countries
-- materialized: table
-- refresh: by partition

with

landed as (

    select * from landed_countries

),

renamed as (

    select
        _partition_key as source_partition,
        _policy_number as policy_number,
        _run_id as source_run_id,
        _extracted_at as extracted_at,
        _row_in_partition as row_in_partition,
        cast(country_code as varchar) as country_code,
        cast(name as varchar) as country_name
    from landed
    where country_code is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by policy_number, source_partition, country_code
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
    country_name
from deduplicated
where copy_rank = 1
