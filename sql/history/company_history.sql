-- company_history: SCD2 history of company identification data (name, address, identifiers, customer reference).
-- grain: one row per policy × company per period during which the company's attributes, as listed under
--        that policy, and its customer reference stayed the same
-- key: easy_number, policy_number, version_no (current version: valid_to is null)
-- upstream: stg_portfolio, stg_portfolio_snapshot, easy_number_map, customer_reference_history
-- materialized: table
-- refresh: by company
--
-- The API gives no date for company data, so validity is observation time: valid_from is the first
-- extraction that showed the attributes (recorded_at equals valid_from, except for a reference change); valid_to is the extraction
-- that first showed different ones. Observations are ordered by extraction time; a version changes
-- only when a business column differs (legal_identifiers is canonical JSON and compares as text).
-- The customer reference is the one customer_reference_history holds at each instant (the daily lists,
-- which the portfolio rows lag behind), the portfolio's own where that history holds none; each change
-- there is an observation too, from its valid_from (recorded when the list showed it), with the company
-- as its latest listing before that instant showed it.
-- A company that leaves the portfolio keeps its last version open: membership is told by
-- decision_history, not here. A buyer covered under two policies has one history per policy (each lists
-- it with its own customer reference), and a temporary number is resolved within its own policy.
-- Only the rows of the numbers in scope are returned: a Z number in scope may be another policy's request,
-- resolved there to a company the build is not recomputing (whose rows it does not delete).

with

scope as (

    select easy_number from _wh_scope

),

number_map as (

    select temporary_easy_number, policy_number, easy_number from history.easy_number_map

),

listings as (

    select
        policy_number, easy_number, company_name, street_address, postal_code, city, country_code,
        legal_identifiers, is_head_office, head_office_easy_number, customer_reference, extracted_at
    from staging.stg_portfolio
    where easy_number in (select easy_number from scope)
    union all
    select
        policy_number, easy_number, company_name, street_address, postal_code, city, country_code,
        legal_identifiers, is_head_office, head_office_easy_number, customer_reference, extracted_at
    from staging.stg_portfolio_snapshot
    where easy_number in (select easy_number from scope)

),

listed_observations as (

    select distinct
        listings.policy_number,
        coalesce(number_map.easy_number, listings.easy_number) as easy_number,
        listings.company_name,
        listings.street_address,
        listings.postal_code,
        listings.city,
        listings.country_code,
        listings.legal_identifiers,
        listings.is_head_office,
        listings.head_office_easy_number,
        listings.customer_reference as listed_reference,
        listings.extracted_at as observed_at,
        listings.extracted_at as seen_at
    from listings
    left join number_map
        on number_map.temporary_easy_number = listings.easy_number
        and number_map.policy_number = listings.policy_number

),

reference_versions as (

    select policy_number, easy_number, valid_from, valid_to, recorded_at, customer_reference
    from history.customer_reference_history
    where easy_number in (select easy_number from scope)

),

reference_changes as (

    select
        listed.policy_number, listed.easy_number, listed.company_name, listed.street_address,
        listed.postal_code, listed.city, listed.country_code, listed.legal_identifiers, listed.is_head_office,
        listed.head_office_easy_number, listed.listed_reference,
        changed.valid_from as observed_at,
        changed.recorded_at as seen_at,
        row_number() over (
            partition by changed.policy_number, changed.easy_number, changed.valid_from
            order by listed.observed_at desc, listed.company_name, listed.street_address, listed.postal_code,
                listed.city, listed.country_code, listed.legal_identifiers, listed.listed_reference
        ) as latest_first
    from reference_versions as changed
    inner join listed_observations as listed
        on listed.policy_number = changed.policy_number
        and listed.easy_number = changed.easy_number
        and listed.observed_at <= changed.valid_from

),

all_observations as (

    select * from listed_observations
    union all
    select
        policy_number, easy_number, company_name, street_address, postal_code, city, country_code,
        legal_identifiers, is_head_office, head_office_easy_number, listed_reference, observed_at, seen_at
    from reference_changes
    where latest_first = 1

),

observations as (

    select
        seen.policy_number, seen.easy_number, seen.company_name, seen.street_address, seen.postal_code,
        seen.city, seen.country_code, seen.legal_identifiers, seen.is_head_office, seen.head_office_easy_number,
        case when in_force.valid_from is null then seen.listed_reference
            else in_force.customer_reference end as customer_reference,
        seen.observed_at,
        seen.seen_at
    from all_observations as seen
    left join reference_versions as in_force
        on in_force.policy_number = seen.policy_number
        and in_force.easy_number = seen.easy_number
        and in_force.valid_from <= seen.observed_at
        and (in_force.valid_to is null or in_force.valid_to > seen.observed_at)

),

compared as (

    select
        *,
        row_number() over observation_order as observation_no,
        lag(company_name) over observation_order as previous_company_name,
        lag(street_address) over observation_order as previous_street_address,
        lag(postal_code) over observation_order as previous_postal_code,
        lag(city) over observation_order as previous_city,
        lag(country_code) over observation_order as previous_country_code,
        lag(legal_identifiers) over observation_order as previous_legal_identifiers,
        lag(is_head_office) over observation_order as previous_is_head_office,
        lag(head_office_easy_number) over observation_order as previous_head_office_easy_number,
        lag(customer_reference) over observation_order as previous_customer_reference
    from observations
    window observation_order as (
        partition by policy_number, easy_number
        order by observed_at, company_name nulls last, street_address nulls last, postal_code nulls last,
            city nulls last, country_code nulls last, legal_identifiers nulls last,
            is_head_office nulls last, head_office_easy_number nulls last, customer_reference nulls last
    )

),

changes as (

    select * from compared
    where observation_no = 1
        or company_name is distinct from previous_company_name
        or street_address is distinct from previous_street_address
        or postal_code is distinct from previous_postal_code
        or city is distinct from previous_city
        or country_code is distinct from previous_country_code
        or legal_identifiers is distinct from previous_legal_identifiers
        or is_head_office is distinct from previous_is_head_office
        or head_office_easy_number is distinct from previous_head_office_easy_number
        or customer_reference is distinct from previous_customer_reference

),

numbered as (

    select
        *,
        lead(observed_at) over version_order as valid_to,
        row_number() over version_order as version_no
    from changes
    window version_order as (partition by policy_number, easy_number order by observation_no)

)

select
    cast(easy_number as varchar) as easy_number,
    cast(policy_number as varchar) as policy_number,
    cast(version_no as integer) as version_no,
    cast(observed_at as timestamp with time zone) as valid_from,
    cast(valid_to as timestamp with time zone) as valid_to,
    valid_to is null as is_current,
    cast('observed' as varchar) as change_kind,
    cast(seen_at as timestamp with time zone) as recorded_at,
    company_name,
    street_address,
    postal_code,
    city,
    country_code,
    legal_identifiers,
    is_head_office,
    head_office_easy_number,
    customer_reference
from numbered
where easy_number in (select easy_number from scope)
