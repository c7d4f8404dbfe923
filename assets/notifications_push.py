"""Pushed notifications: land what the receiver accepted into the push inbox, and fetch at once the
decision each one names, so a pushed decision reaches history within minutes.

A run lands, under its GMT day, every message the inbox holds for that day: those landed by the day's
earlier runs and those waiting (a message is landed once, on the first day a run finds it). A message is
validated as the pull notification it carries, once; one that breaks the contract is quarantined, and one
whose policy cannot be read is set aside in every policy's zone. The deliveries are fetched within the
client's rate budget like the nightly's; a run extending the day's run (the settling window) fetches only
those the day's earlier runs did not.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import orjson

from resources.landing import LandedSummary, LandingStore, land_dated_records
from resources.landing.settling import Relisting
from resources.push import Inbox
from resources.streams import PUSH_ASSET, get_stream

from .deliveries import named_by_notification
from .upstream import fetch_in_day_order, landed_while_settling

STREAM = PUSH_ASSET
DELIVERIES = "deliveries_push"


def _message(envelope: bytes) -> tuple[object, dict]:
    """The notification a message carries (a dict, or what was sent when it is not a JSON object) and the
    message's context columns."""
    outer = orjson.loads(envelope)
    try:
        inner = orjson.loads(outer.get("Message") or "")
    except orjson.JSONDecodeError:
        inner = outer.get("Message")
    context = {"message_id": outer["MessageId"], "topic_arn": outer.get("TopicArn"), "pushed_at": outer.get("Timestamp")}
    return inner, context


def _records(store: LandingStore, day: date, inbox: Inbox) -> tuple[list, list[int]]:
    stream = get_stream(STREAM)
    triples, seqs = [], []
    for seq, message_id, envelope, received_at in inbox.for_partition(day.isoformat()):
        inner, context = _message(envelope)
        policy = inner.get("policyNumber") if isinstance(inner, dict) else None
        if isinstance(policy, str) and policy != store.policy:
            seqs.append(seq)  # another policy's: its zone lands it
            continue
        record = stream.parse(inner, f"PUSH {message_id}")
        triples.append((day, record, {**context, "received_at": received_at}))
        seqs.append(seq)
    return triples, seqs


def extract(client, store: LandingStore, as_of: date, run_id: str,
            selected: frozenset[str] | None = None) -> Iterator[LandedSummary]:
    """Land the day's pushed notifications of ``store``'s policy, then the deliveries they name."""
    # a day's later runs extend its first, whatever the settling window: a run every minute must not
    # fetch the day's deliveries again (a repair, ``replace``, still replaces)
    relisting = store.relisting
    store = store.with_relisting(Relisting(as_of, max(1, relisting.settle_days), relisting.replace))
    inbox = Inbox(store.account_path)
    try:
        triples, seqs = _records(store, as_of, inbox)
        if selected is None or STREAM in selected:
            summary = land_dated_records(store, STREAM, [as_of], run_id, iter(triples))
            summary.reported_total = len(triples)
            inbox.mark_landed(seqs, as_of.isoformat())
            yield summary
        if selected is None or DELIVERIES in selected:
            yield _land_deliveries(client, store, as_of, run_id, triples)
    finally:
        inbox.close()


def _land_deliveries(client, store: LandingStore, day: date, run_id: str, triples: list) -> LandedSummary:
    # a run extending the day's run keeps what the earlier runs fetched; one replacing it fetches all again
    held = {key for found in landed_while_settling(store, DELIVERIES, [day], ["external_id", "delivery_id"],
                                                   ("externalId", "deliveryId", "id")).values()
            for value in found for key in (value if isinstance(value, tuple) else (value,)) if key}
    wanted: dict[str, tuple[str, date]] = {}
    for _, record, _ in triples:
        named = named_by_notification(record)
        if named is not None and named[1] not in held:
            wanted.setdefault(named[1], (named[0], day))
    pairs = fetch_in_day_order(client, client.get_delivery, wanted, what="delivery")
    summary = land_dated_records(store, DELIVERIES, [day], run_id, pairs, expected=len(wanted))
    summary.reported_total = len(wanted)
    return summary
