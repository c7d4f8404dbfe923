"""Push on in the exactness harness: the receiver (`cofasync receive`'s app) serves for the whole run,
subscribed by `cofasync subscribe` to every topic; each day's messages are delivered at once when the
sandbox's day starts, then landed before the night's sync as production lands them: `land_push_inbox`
(the push sensor's job), then the models (models_after_extract's job), on the landing clock of 00:30:00Z.

`pushed` tells the oracle when each delivery's detail landed by push (the rule "Push" in `oracle`'s module
doc): the day of the first push landing after its message was delivered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from tests.support.exactness.in_process import in_process

PATH = "/cofaserve/push"
LANDING_AT = timedelta(minutes=30)  # the push landing's clock: 00:30:00Z, before the night's 01:00:00Z
DELIVERY_TIMEOUT = 120.0  # a watchdog: a message still not delivered after it is a failure
MAX_FAILURES = 4


class PushOn:
    """The push half of a run: the receiver, the subscriptions, the daily landings and what they landed."""

    def __init__(self, driver):
        self.driver = driver
        self.sb = driver.sb
        self.landed_on: dict[str, date] = {}  # {notification id: the day its push landing ran}
        self.landings: list[dict] = []  # per landing: its day and the messages it found delivered

    @contextmanager
    def receiving(self) -> Iterator[PushOn]:
        """Serve the receiver on loopback and subscribe it to every topic, until the block ends."""
        from resources.push import Inbox, PushSettings
        from resources.push.topics import TOPIC_PRODUCTS
        from tests.support.receiver import serve_receiver

        origin = urlsplit(self.sb.base_url).netloc
        settings = PushSettings("127.0.0.1", 0, PATH, (f"http://{origin}",))
        inbox = Inbox(str(self.driver.landing_root))
        try:
            with serve_receiver(settings, inbox) as port:
                for topic in TOPIC_PRODUCTS:
                    attempt = self.driver.run(["subscribe", "--topic", topic,
                                               "--endpoint", f"http://127.0.0.1:{port}{PATH}"])
                    if not attempt.ok:
                        raise RuntimeError(f"cofasync subscribe failed\n{attempt.tail()}")
                yield self
        finally:
            inbox.close()

    def delivered(self) -> list[dict]:
        """Wait until the sandbox delivered every message it published; returns them all."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while True:
            messages = self.sb.push_messages()
            undelivered = [m for m in messages if m["state"] != "delivered"]
            if not undelivered:
                return messages
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(undelivered)} pushed messages not delivered: {undelivered[:3]}")
            time.sleep(0.1)

    def land(self) -> None:
        """Land the inbox for the sandbox's day, then rebuild the models, as the sensors do; each job is
        re-run (a later landing clock) until it succeeds, the API's faults notwithstanding."""
        from pipelines.definitions import build_definitions
        from pipelines.runs import launch
        from resources.io_resources import AlertsResource
        from resources.streams import MODELS_JOB, PUSH_JOB

        messages = self.delivered()
        today = self.sb.today
        for job in (PUSH_JOB, MODELS_JOB):
            failures = 0
            while True:
                at = self.driver.night_clock(after=datetime.combine(today, datetime.min.time(), UTC) + LANDING_AT)
                env = {**self.driver.env(), "COFASYNC_NOW": at.isoformat()}
                started = time.monotonic()
                with in_process(env) as (settings, cofaserve, instance):
                    outcome = launch(build_definitions(settings, cofaserve).resolve_job_def(job), instance,
                                     AlertsResource(failure_webhook_url=settings.failure_webhook_url))
                self.driver.hold_clock(at, time.monotonic() - started)
                if outcome.ok:
                    break
                failures += 1
                if failures >= MAX_FAILURES:
                    raise RuntimeError(f"{job} on {today}: {failures} failed runs; last: {outcome.message}")
        fresh = [m["notificationId"] for m in messages if m["notificationId"] not in self.landed_on]
        self.landed_on.update(dict.fromkeys(fresh, today))
        self.landings.append({"day": today, "messages": len(fresh)})

    def pushed(self, truth) -> dict[str, date]:
        """{deliveryId: the day its push landing ran} of every delivery a landed message named."""
        delivery_of = {d["externalId"]: d["deliveryId"] for d in truth.deliveries}
        by_id = {n["notificationId"]: n for n in truth.notifications}
        return {delivery_of[by_id[nid]["externalId"]]: day for nid, day in self.landed_on.items()}
