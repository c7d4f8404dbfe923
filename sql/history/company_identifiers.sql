-- company_identifiers: the legal identifiers of each company version, one per row, with a normalised value.
-- grain: one row per policy × company version × legal identifier (type and value) it lists
-- key: easy_number, policy_number, version_no, identifier_type, identifier_value
-- upstream: company_history
-- materialized: table
-- refresh: by company
--
-- company_history keeps the identifiers as a canonical JSON list; here they are unnested so that a buyer
-- can be joined on a SIREN, a VAT number or a DUNS. normalized_value keeps letters and digits only, in
-- upper case ("552 100 554" and "552100554" meet). Validity is the company version's: a change of
-- identifiers opens a new version of company_history, and of these rows. The same SQL runs on DuckDB and
-- Postgres: the list is read by position (json_array_length, ->), positions 0 .. the longest list.
-- The scope is company_history's (a by-company model downstream of another recomputes the same companies).

with recursive

scope as (

    select easy_number from _wh_scope

),

versions as (

    select
        easy_number,
        policy_number,
        version_no,
        country_code,
        valid_from,
        valid_to,
        is_current,
        change_kind,
        recorded_at,
        cast(legal_identifiers as json) as identifiers,
        json_array_length(cast(legal_identifiers as json)) as identifiers_listed
    from history.company_history
    where easy_number in (select easy_number from scope)
        and legal_identifiers is not null

),

positions (list_position) as (

    select 0
    union all
    select list_position + 1 from positions
    where list_position + 1 < (select max(identifiers_listed) from versions)

),

unnested as (

    select distinct
        versions.easy_number,
        versions.policy_number,
        versions.version_no,
        versions.identifiers -> positions.list_position ->> 'type' as identifier_type,
        versions.identifiers -> positions.list_position ->> 'value' as identifier_value,
        versions.country_code,
        versions.valid_from,
        versions.valid_to,
        versions.is_current,
        versions.change_kind,
        versions.recorded_at
    from versions
    inner join positions
        on positions.list_position < versions.identifiers_listed

)

select
    cast(easy_number as varchar) as easy_number,
    cast(policy_number as varchar) as policy_number,
    cast(version_no as integer) as version_no,
    cast(identifier_type as varchar) as identifier_type,
    cast(identifier_value as varchar) as identifier_value,
    cast(upper(regexp_replace(identifier_value, '[^0-9A-Za-z]', '', 'g')) as varchar) as normalized_value,
    cast(country_code as varchar) as country_code,
    cast(valid_from as timestamp with time zone) as valid_from,
    cast(valid_to as timestamp with time zone) as valid_to,
    cast(is_current as boolean) as is_current,
    cast(change_kind as varchar) as change_kind,
    cast(recorded_at as timestamp with time zone) as recorded_at
from unnested
