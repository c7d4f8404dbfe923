-- overdue_cases: each overdue case as it stands now, with when it was first declared and seen.
-- grain: one row per policy × overdue case
-- key: overdue_id, policy_number
-- upstream: overdue_history, company_history
-- materialized: view
--
-- is_open: status PENDING, PENDING_DEBTOR_VALIDATION or IN_PROGRESS. The debtor's identification is the
-- company as listed under the case's policy.

with

versions as (

    select * from history.overdue_history

),

case_stats as (

    select
        policy_number,
        overdue_id,
        count(*) as version_count,
        min(recorded_at) as first_recorded_at
    from versions
    group by policy_number, overdue_id

),

current_versions as (

    select * from versions
    where is_current

),

current_companies as (

    select policy_number, easy_number, company_name, country_code from history.company_history
    where is_current

),

final as (

    select
        current_versions.overdue_id,
        current_versions.policy_number,
        current_versions.easy_number,
        current_companies.company_name,
        current_companies.country_code,
        current_versions.customer_reference,
        current_versions.debt_type,
        current_versions.status,
        current_versions.status in ('PENDING', 'PENDING_DEBTOR_VALIDATION', 'IN_PROGRESS') as is_open,
        current_versions.created_at,
        current_versions.updated_at,
        current_versions.intervention_requested,
        current_versions.non_payment_reason,
        current_versions.total_amount_value,
        current_versions.total_amount_currency,
        current_versions.outstanding_amount_value,
        current_versions.outstanding_amount_currency,
        current_versions.indemnified_amount_value,
        current_versions.indemnified_amount_currency,
        current_versions.indemnified_on,
        cast(case_stats.version_count as integer) as version_count,
        case_stats.first_recorded_at
    from current_versions
    inner join case_stats
        on case_stats.policy_number = current_versions.policy_number
        and case_stats.overdue_id = current_versions.overdue_id
    left join current_companies
        on current_companies.policy_number = current_versions.policy_number
        and current_companies.easy_number = current_versions.easy_number

)

select * from final
