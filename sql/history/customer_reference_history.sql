-- customer_reference_history: SCD2 history of the customer reference set on each company, from the daily lists.
-- grain: one row per policy × company per period during which one reference held, plus a closing row from
--        the day a list first stopped showing a company (its reference was erased)
-- key: easy_number, policy_number, version_no (current version: valid_to is null)
-- upstream: stg_customer_references, stg_customer_references_quarantine, easy_number_map
-- materialized: table
-- refresh: by company, merged by key
--
-- Each refresh lands the whole list (one partition per GMT day). A version is one (reference, updatedAt)
-- listed: valid_from is its updatedAt, recorded_at the first extraction that listed it. The API drops an
-- erased reference from the list, so an erasure is an absence: a company a list shows and the next list
-- does not is closed by an `erased` row from 00:00:00Z of that list's day (the list shows the references
-- as they stood then), reference NULL, until a later list shows a reference again. Like a reconciliation
-- snapshot, a list never closes a company its quarantined records name, and a list holding a record whose
-- easyNumber cannot be read closes nothing (the next list does). An empty answer is no list: it closes
-- nothing either. A list landed before references were kept daily (partition `current`) is timed by its
-- extraction. A new list recomputes the companies whose entry differs from the list before it
-- (resources/warehouse/list_changes.py), merged: only those whose rows changed reach company_history.

with

scope as (

    select easy_number from _wh_scope

),

number_map as (

    select temporary_easy_number, policy_number, easy_number from history.easy_number_map

),

landed_lists as (

    select policy_number, source_partition, max(extracted_at) as extracted_at
    from (
        select policy_number, source_partition, extracted_at from staging.stg_customer_references
        union all
        select policy_number, source_partition, extracted_at from staging.stg_customer_references_quarantine
    ) as list_rows
    group by policy_number, source_partition

),

lists as (

    select
        policy_number,
        source_partition,
        extracted_at,
        coalesce(
            cast(cast(case when source_partition = 'current' then null else source_partition end as date)
                as timestamp) at time zone 'UTC',
            extracted_at
        ) as listed_at,
        row_number() over (partition by policy_number order by extracted_at, source_partition) as list_no,
        not exists (
            select 1 from staging.stg_customer_references_quarantine as unreadable
            where unreadable.policy_number = landed_lists.policy_number
                and unreadable.source_partition = landed_lists.source_partition
                and unreadable.easy_number is null
        ) as can_close
    from landed_lists

),

closing_lists as (

    select earlier.policy_number, earlier.list_no, min(later.list_no) as closing_list_no
    from lists as earlier
    inner join lists as later
        on later.policy_number = earlier.policy_number
        and later.list_no > earlier.list_no
        and later.can_close
    group by earlier.policy_number, earlier.list_no

),

entries as (

    select
        refs.policy_number,
        coalesce(number_map.easy_number, refs.easy_number) as easy_number,
        refs.customer_reference,
        refs.updated_at,
        refs.is_readable,
        lists.list_no,
        lists.extracted_at
    from (
        select policy_number, source_partition, easy_number, customer_reference, updated_at, true as is_readable
        from staging.stg_customer_references
        union all
        select
            policy_number, source_partition, easy_number, cast(null as varchar) as customer_reference,
            cast(null as timestamp with time zone) as updated_at, false as is_readable
        from staging.stg_customer_references_quarantine
    ) as refs
    inner join lists
        on lists.policy_number = refs.policy_number
        and lists.source_partition = refs.source_partition
    left join number_map
        on number_map.temporary_easy_number = refs.easy_number
        and number_map.policy_number = refs.policy_number
    where refs.easy_number in (select easy_number from scope)

),

listed as (

    select * from entries where is_readable

),

shown as (

    select distinct policy_number, easy_number, list_no from entries

),

shown_next as (

    select
        *,
        lead(list_no) over (partition by policy_number, easy_number order by list_no) as next_shown_list_no
    from shown

),

erasures as (

    select
        shown_next.policy_number,
        shown_next.easy_number,
        closing.list_no,
        closing.listed_at,
        closing.extracted_at
    from shown_next
    inner join closing_lists
        on closing_lists.policy_number = shown_next.policy_number
        and closing_lists.list_no = shown_next.list_no
    inner join lists as closing
        on closing.policy_number = shown_next.policy_number
        and closing.list_no = closing_lists.closing_list_no
    where shown_next.next_shown_list_no is null
        or shown_next.next_shown_list_no > closing_lists.closing_list_no

),

observed as (

    select
        policy_number,
        easy_number,
        customer_reference,
        updated_at,
        min(list_no) as list_no,
        min(extracted_at) as recorded_at
    from listed
    group by policy_number, easy_number, customer_reference, updated_at

),

events as (

    select
        policy_number, easy_number, list_no, cast('observed' as varchar) as change_kind, customer_reference,
        updated_at, updated_at as valid_from, recorded_at
    from observed
    union all
    select
        policy_number, easy_number, list_no, cast('erased' as varchar) as change_kind,
        cast(null as varchar) as customer_reference, cast(null as timestamp with time zone) as updated_at,
        listed_at as valid_from, extracted_at as recorded_at
    from erasures

),

ordered as (

    select
        *,
        lag(change_kind) over (partition by policy_number, easy_number order by list_no) as previous_kind,
        sum(case when change_kind = 'observed' then 1 else 0 end) over (
            partition by policy_number, easy_number order by list_no
            rows between unbounded preceding and current row
        ) as versions_so_far
    from events

),

kept as (

    select * from ordered
    where change_kind = 'observed'
        or (versions_so_far > 0 and previous_kind = 'observed')

),

numbered as (

    select
        *,
        lead(valid_from) over version_order as valid_to,
        row_number() over version_order as version_no
    from kept
    window version_order as (partition by policy_number, easy_number order by list_no)

)

select
    cast(easy_number as varchar) as easy_number,
    cast(policy_number as varchar) as policy_number,
    cast(version_no as integer) as version_no,
    cast(valid_from as timestamp with time zone) as valid_from,
    cast(valid_to as timestamp with time zone) as valid_to,
    valid_to is null as is_current,
    cast(change_kind as varchar) as change_kind,
    cast(recorded_at as timestamp with time zone) as recorded_at,
    cast(customer_reference as varchar) as customer_reference,
    cast(updated_at as timestamp with time zone) as updated_at
from numbered
where easy_number in (select easy_number from scope)
