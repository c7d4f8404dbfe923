-- order_statuses: the code table of order (request) statuses, pending or final.
-- grain: one row per order status the API documents
-- key: status
-- upstream: order_history
-- materialized: view
--
-- is_pending: the request waits for Coface (open_requests lists it); is_final: the order never changes
-- again (the pipeline stops re-polling it). outcome: what request_pipeline reports for a final order.

with

codes as (

    select * from (
        values
            ('STATUS_STARTED', 'the request has been produced', true, false, cast(null as varchar)),
            ('STATUS_PENDING_COMPLEMENTARY_INFORMATION',
                'pending: Coface needs complementary information to take a decision', true, false, null),
            ('STATUS_PENDING_DEBTOR_VALIDATION', 'pending: Coface is trying to identify your partner', true, false, null),
            ('STATUS_PENDING_ON_HOLD', 'the request is pending', true, false, null),
            ('STATUS_PENDING_UNDERWRITING', 'pending: a risk underwriter is taking a decision', true, false, null),
            ('STATUS_CLOSED', 'the request has been closed (decided)', false, true, 'decided'),
            ('STATUS_REJECTED', 'the request has been rejected (always by Coface)', false, true, 'rejected'),
            ('STATUS_ANNULED', 'the request has been annulled', false, true, 'annulled')
    ) as documented (status, meaning, is_pending, is_final, outcome)

),

seen as (

    select status, count(*) as versions
    from history.order_history
    where status is not null
    group by status

)

select
    cast(codes.status as varchar) as status,
    cast(codes.meaning as varchar) as meaning,
    codes.is_pending,
    codes.is_final,
    cast(codes.outcome as varchar) as outcome,
    cast(coalesce(seen.versions, 0) as bigint) as seen_in_history
from codes
left join seen on seen.status = codes.status
