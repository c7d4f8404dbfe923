"""Pushed decisions into the warehouse: the sandbox pushes, `cofasync receive` keeps, the push landing
lands the inbox and fetches the deliveries, and a build shows the decisions before the nightly pull
has run; after it, history is what a pull-only warehouse holds (nothing known twice)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import dagster as dg

from assets.extractors import extract_asset
from pipelines.definitions import build_definitions, build_resources
from resources.landing import LandingStore
from resources.push import Inbox, PushSettings
from resources.settings import load_settings
from resources.streams import PUSH_ASSET
from resources.warehouse import Warehouse
from tests.integration.test_extraction import client_for, extract_days
from tests.support.receiver import endpoint_of, serve_receiver

TOPIC = "credit_insurance_cover"
DAY = 86400
WORLD = {"companies": 2000, "push_rate": 1000}
HISTORY_COLUMNS = ("easy_number", "product_code", "policy_number", "version_no", "delivery_id", "status",
                   "valid_from", "valid_to", "amount_value")


def _history(warehouse: Warehouse, deliveries: set[str]) -> list[tuple]:
    rows = warehouse.query(f"select {', '.join(HISTORY_COLUMNS)} from history.decision_history"  # noqa: S608
                           " order by easy_number, product_code, version_no")
    return [tuple(r[c] for c in HISTORY_COLUMNS) for r in rows if r["delivery_id"] in deliveries]


def _pushed(sb, days: int, tmp_path):
    """Subscribe a receiver, let ``days`` pass, and return (settings, account root, pushed notifications)."""
    origin = urlsplit(sb.base_url).netloc
    settings = PushSettings("127.0.0.1", 0, "/cofaserve/push", (f"http://{origin}",))
    root = str(tmp_path / "landing")
    inbox = Inbox(root)
    with serve_receiver(settings, inbox) as port:
        sb.push_subscribe(TOPIC, endpoint_of(port, settings))
        sb.advance_push_clock(days * DAY)
    pushed = [json.loads(json.loads(raw)["Message"]) for _, _, raw in inbox.unlanded()]
    inbox.close()
    return root, pushed


def test_a_pushed_decision_reaches_the_portfolio_before_the_nightly_and_is_not_doubled_after(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        start = sb.today
        root, pushed = _pushed(sb, 2, tmp_path)
        assert pushed
        policy = sb.credentials["policy_number"]
        store = LandingStore(root, policy=policy)
        with client_for(sb, tmp_path) as client:
            landed = {s.stream: s for s in extract_asset(client, store, PUSH_ASSET, sb.today, "push-1")}
            assert landed["notifications_push"].rows == len(pushed)
            again = {s.stream: s for s in extract_asset(client, store, PUSH_ASSET, sb.today, "push-2")}
            assert again["deliveries_push"].reported_total == 0, "a second run fetches nothing again"
            warehouse = Warehouse(f"duckdb:///{tmp_path}/push.duckdb")
            warehouse.build(store)
            truth = {d["externalId"]: d for d in sb.truth("deliveries")}
            externals = {n["externalId"] for n in pushed}
            deliveries = {truth[e]["deliveryId"] for e in externals}
            current = {r["delivery_id"]: r["status"] for r in warehouse.query(
                "select delivery_id, status from marts.current_portfolio")}
            in_force = {d: truth_status for d, truth_status in ((truth[e]["deliveryId"], truth[e]["status"])
                        for e in externals) if d in current}
            assert in_force and all(current[d] == status for d, status in in_force.items())
            pushed_only = _history(warehouse, deliveries)
            assert {r[4] for r in pushed_only} == deliveries, "every pushed decision is in history"

            days = [start + timedelta(days=n) for n in range((sb.today - start).days)]
            extract_days(client, store, days, "nightly")
            warehouse.build(store)
            both = _history(warehouse, deliveries)
            pull_store = LandingStore(str(tmp_path / "pull-only"), policy=policy)
            extract_days(client, pull_store, days, "nightly")
            pull_only = Warehouse(f"duckdb:///{tmp_path}/pull.duckdb")
            pull_only.build(pull_store)
        assert both == _history(pull_only, deliveries), "push then pull is the pull's history, no version twice"
        staged = warehouse.query("select count(*) as n, count(distinct message_id) as messages,"
                                 " count(received_at) as received from staging.stg_notifications_push")[0]
        assert staged["n"] == staged["messages"] == staged["received"] == len(pushed)


def test_the_inbox_sensor_requests_a_landing_only_while_messages_wait(sandbox_factory, tmp_path):
    with sandbox_factory(**WORLD) as sb:
        root, pushed = _pushed(sb, 2, tmp_path)
        settings = load_settings({"LANDING_ROOT": root, "COFASERVE_POLICY_NUMBER": sb.credentials["policy_number"]})
        sensor = build_definitions(settings).resolve_sensor_def("push_inbox_sensor")
        resources = {k: v for k, v in build_resources(settings).items() if k in sensor.required_resource_keys}

        def tick():
            with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources) as context:
                return sensor.evaluate_tick(context)

        waiting = tick()
        assert len(waiting.run_requests) == 1 and waiting.run_requests[0].tags["push_messages"] == str(len(pushed))
        with client_for(sb, tmp_path) as client:
            extract_asset(client, LandingStore(root, policy=sb.credentials["policy_number"]), PUSH_ASSET,
                          sb.today, "push-1")
        done = tick()
        assert done.run_requests == [] and "no pushed message" in done.skip_message
