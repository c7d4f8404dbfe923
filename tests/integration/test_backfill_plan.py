"""The plan of a backfill (`cofasync backfill --plan`, assets/backfill_plan.py): its by-id calls per endpoint
are the calls the run then makes, and planning lands nothing."""

from __future__ import annotations

from datetime import timedelta

from assets.backfill_plan import plan_without_landing
from assets.extractors import extract_asset
from resources.landing import LandingStore
from resources.streams import DAILY_ASSET
from tests.integration.test_extraction import client_for
from tests.support.policies import TEST_POLICY

ROUTES = {"delivery": "/deliveries/{deliveryIdOrExternalId}", "order": "/orders/{orderId}",
          "overdue": "/overdues/{overdueId}", "overdue_documents": "/overdues/{overdueId}/documents"}


def by_id_calls(counters: dict) -> dict[str, int]:
    return {name: sum(n for endpoint, n in counters["byEndpoint"].items() if endpoint.endswith(route))
            for name, route in ROUTES.items()}


def test_the_plan_counts_the_calls_the_run_then_makes_and_lands_nothing(sandbox, tmp_path):
    days = [sandbox.today - timedelta(days=i) for i in range(45, 0, -1)]
    with client_for(sandbox, tmp_path) as client:
        plan = plan_without_landing(client, days)
        planned = {e.endpoint: e.calls for e in plan.endpoints}
        assert planned["delivery"] > 0 and planned["order"] > 0 and planned["overdue"] > 0, planned
        assert all(e.rate_per_minute > 0 for e in plan.endpoints)
        assert plan.seconds == max(e.seconds for e in plan.endpoints) > 0
        store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
        assert store.manifests("notifications") == []  # the plan paged into a scratch zone, since removed

        sandbox.reset_counters()
        extract_asset(client, store, DAILY_ASSET, days, "after-the-plan")
    assert by_id_calls(sandbox.counters()) == planned
    text = "\n".join(plan.lines())
    assert f"{plan.calls:,} by-id calls" in text and "delivery" in text


def test_an_endpoint_not_called_yet_is_planned_at_the_limit_the_lists_were_told(sandbox_factory, tmp_path):
    with sandbox_factory(rate_limit="6000/min") as sandbox, client_for(sandbox, tmp_path) as client:
        days = [sandbox.today - timedelta(days=i) for i in range(10, 0, -1)]
        plan = plan_without_landing(client, days)
    for e in plan.endpoints:
        assert e.assumed and e.rate_per_minute == 6000 * 0.985, e  # the client aims at 98.5 % of the limit
    assert "budget assumed" in "\n".join(plan.lines())


def test_deliveries_start_while_the_notifications_still_page_and_each_is_fetched_once(sandbox_factory, tmp_path):
    # a paced list of several pages: the first delivery call must not wait for its last page
    with sandbox_factory(rate_limit="600/min") as sandbox, client_for(sandbox, tmp_path, page_size=10) as client:
        days = [sandbox.today - timedelta(days=i) for i in range(60, 0, -1)]
        store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
        sandbox.reset_counters()
        extract_asset(client, store, DAILY_ASSET, days, "early")
        counters = sandbox.counters()
    spans = {endpoint.rsplit("/", 1)[-1]: span for endpoint, span in counters["spans"].items()}
    pages = counters["byEndpoint"]["GET /tci/notification/v1/notifications"]
    assert pages >= 3, pages
    assert spans["{deliveryIdOrExternalId}"]["first"] < spans["notifications"]["last"], spans
    fetched = by_id_calls(counters)["delivery"]
    landed = store.read_table("deliveries", days, columns=["external_id"]).num_rows
    assert fetched == landed > 0  # no delivery paid twice for being fetched early
