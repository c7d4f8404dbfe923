-- overdue_history: SCD2 history of overdue cases (status and amounts).
-- grain: one row per distinct state of a policy's overdue case (a case id is declared under a policy: the
--        same id under another policy is another case)
-- key: overdue_id, policy_number, version_no (current version: valid_to is null)
-- upstream: stg_overdues, easy_number_map
-- materialized: table
-- refresh: by company
--
-- valid_from is the case's last update date (updated_at; created_at, then the first extraction, when
-- absent); valid_to is the next state's valid_from. A state is a distinct combination of the business
-- columns (status, amounts, dates, debt type, intervention, reason, invoices, payments).
-- change_kind: rejected (REJECTED), closed (CLOSED), observed otherwise. A temporary number is resolved
-- within the case's policy.
-- Only the rows of the numbers in scope are returned: a Z number in scope may be another policy's request,
-- resolved there to a company the build is not recomputing (whose rows it does not delete).

with

scope as (

    select easy_number from _wh_scope

),

number_map as (

    select temporary_easy_number, policy_number, easy_number from history.easy_number_map

),

overdues as (

    select * from staging.stg_overdues
    where easy_number in (select easy_number from scope)

),

resolved as (

    select
        overdues.policy_number,
        overdues.overdue_id,
        coalesce(number_map.easy_number, overdues.easy_number) as easy_number,
        case when overdues.easy_number like 'Z%' then overdues.easy_number end as temporary_easy_number,
        overdues.customer_reference,
        overdues.debt_type,
        overdues.status,
        overdues.created_at,
        overdues.updated_at,
        overdues.intervention_requested,
        overdues.non_payment_reason,
        overdues.total_amount_value,
        overdues.total_amount_currency,
        overdues.outstanding_amount_value,
        overdues.outstanding_amount_currency,
        overdues.indemnified_amount_value,
        overdues.indemnified_amount_currency,
        overdues.indemnified_on,
        overdues.invoices,
        overdues.payments,
        overdues.extracted_at
    from overdues
    left join number_map
        on number_map.temporary_easy_number = overdues.easy_number
        and number_map.policy_number = overdues.policy_number

),

case_facts as (

    select policy_number, overdue_id, max(temporary_easy_number) as temporary_easy_number
    from resolved
    group by policy_number, overdue_id

),

states as (

    select
        policy_number,
        overdue_id,
        easy_number,
        customer_reference,
        debt_type,
        status,
        created_at,
        updated_at,
        intervention_requested,
        non_payment_reason,
        total_amount_value,
        total_amount_currency,
        outstanding_amount_value,
        outstanding_amount_currency,
        indemnified_amount_value,
        indemnified_amount_currency,
        indemnified_on,
        invoices,
        payments,
        min(extracted_at) as recorded_at
    from resolved
    group by
        policy_number, overdue_id, easy_number, customer_reference, debt_type, status, created_at,
        updated_at, intervention_requested, non_payment_reason, total_amount_value, total_amount_currency,
        outstanding_amount_value, outstanding_amount_currency, indemnified_amount_value,
        indemnified_amount_currency, indemnified_on, invoices, payments

),

sequenced as (

    select
        states.*,
        coalesce(states.updated_at, states.created_at, states.recorded_at) as valid_from,
        case_facts.temporary_easy_number
    from states
    inner join case_facts
        on case_facts.policy_number = states.policy_number
        and case_facts.overdue_id = states.overdue_id

),

numbered as (

    select
        *,
        lead(valid_from) over ordered_states as valid_to,
        row_number() over ordered_states as version_no
    from sequenced
    window ordered_states as (
        partition by policy_number, overdue_id
        order by valid_from, recorded_at, status, easy_number,
            outstanding_amount_value nulls last, total_amount_value nulls last,
            indemnified_amount_value nulls last, invoices nulls last, payments nulls last,
            intervention_requested nulls last, customer_reference nulls last,
            non_payment_reason nulls last, debt_type nulls last, created_at nulls last,
            total_amount_currency nulls last, outstanding_amount_currency nulls last,
            indemnified_amount_currency nulls last, indemnified_on nulls last
    )

)

select
    cast(overdue_id as varchar) as overdue_id,
    cast(policy_number as varchar) as policy_number,
    cast(version_no as integer) as version_no,
    cast(valid_from as timestamp with time zone) as valid_from,
    cast(valid_to as timestamp with time zone) as valid_to,
    valid_to is null as is_current,
    cast(
        case status
            when 'REJECTED' then 'rejected'
            when 'CLOSED' then 'closed'
            else 'observed'
        end as varchar
    ) as change_kind,
    cast(recorded_at as timestamp with time zone) as recorded_at,
    easy_number,
    cast(temporary_easy_number as varchar) as temporary_easy_number,
    customer_reference,
    debt_type,
    status,
    created_at,
    updated_at,
    intervention_requested,
    non_payment_reason,
    total_amount_value,
    total_amount_currency,
    outstanding_amount_value,
    outstanding_amount_currency,
    indemnified_amount_value,
    indemnified_amount_currency,
    indemnified_on,
    invoices,
    payments
from numbered
where easy_number in (select easy_number from scope)
