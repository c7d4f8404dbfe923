-- delivery_statuses: the code table of decision (delivery) statuses, with what each means for cover.
-- grain: one row per delivery status the API documents
-- key: status
-- upstream: decision_history
-- materialized: view
--
-- in_force: the decision holds cover (current_portfolio, cover_daily, exposure_daily count it);
-- UNDER_WITHDRAWAL and UNDER_CANCELLATION stay in force until the expiry is decided. is_active: the
-- portfolio follow-up keeps listing the product whatever its age; an inactive decision is listed for two
-- years from its date, then leaves the API (aged_out). seen_in_history counts the versions holding it.

with

codes as (

    select * from (
        values
            ('DECIDED_FULL', 'the product has been granted', true, true),
            ('DECIDED_PARTIAL', 'the product has been partially granted', true, true),
            ('REDUCED', 'the decision has been reduced', true, true),
            ('UNDER_WITHDRAWAL', 'you have set a date of expiry', true, true),
            ('UNDER_CANCELLATION', 'Coface has set a date of expiry', true, true),
            ('DECIDED_REFUSED', 'the product has been refused', false, false),
            ('CANCELLED', 'the product has been cancelled (always by Coface)', false, false),
            ('WITHDRAWN', 'the product has been deleted by you or by Coface', false, false),
            ('EXPIRED', 'the decision has expired', false, false),
            ('DELIVERED', 'the report has been delivered (information products)', false, false),
            ('STATUS_FULLFILLED', 'extension of due date product only', false, false),
            ('STATUS_REPLACED', 'extension of due date product only', false, false)
    ) as documented (status, meaning, in_force, is_active)

),

seen as (

    select status, count(*) as versions
    from history.decision_history
    where status is not null
    group by status

)

select
    cast(codes.status as varchar) as status,
    cast(codes.meaning as varchar) as meaning,
    codes.in_force,
    codes.is_active,
    cast(coalesce(seen.versions, 0) as bigint) as seen_in_history
from codes
left join seen on seen.status = codes.status
