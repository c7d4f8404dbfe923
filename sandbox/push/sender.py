"""Sending pushed messages: one background thread posts every due message to its subscriber's endpoint
(after fetching an OAuth token from the subscriber for the OAuth variant), at most 10 messages per real
second per subscription, and records each answer in the message's retry state.

A 2xx answer delivers the message; any other answer, a timeout or a refused connection is a failure that
moves it along the retry process (`sandbox.push.retry`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from sandbox.push.retry import Delivery
from sandbox.push.subscriptions import OAuth, Subscription, Subscriptions

MESSAGES_PER_SECOND = 10
"""[DOC] The most messages sent per second and per subscription."""


@dataclass
class PushMessage:
    message_id: str
    subscription_id: str
    policy_number: str
    notification_id: str
    body: bytes
    """The signed SNS envelope as sent (the same bytes on every attempt)."""
    delivery: Delivery


class Sender:
    """Posts due messages in a background thread; ``clock`` is the push clock (virtual seconds)."""

    def __init__(self, subscriptions: Subscriptions, clock: Callable[[], float], timeout: float = 5.0,
                 rate: int = MESSAGES_PER_SECOND):
        self.subscriptions = subscriptions
        self.rate = rate
        self.clock = clock
        self.messages: dict[str, PushMessage] = {}
        self.lock = threading.Condition()
        self._sent: dict[str, deque[float]] = {}
        self._http = httpx.Client(timeout=timeout)
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sandbox-push", daemon=True)
        self._thread.start()

    def add(self, message: PushMessage) -> None:
        """Queue a new message (its first attempt is due at its publication instant)."""
        with self.lock:
            self.messages[message.message_id] = message
            self.lock.notify_all()

    def wake(self) -> None:
        """Look for due messages now (the push clock moved, or a replay restarted one)."""
        with self.lock:
            self.lock.notify_all()

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait until no message is due at the push clock's instant and none is being sent; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._busy or self._due(self.clock()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        """Stop the thread and close the HTTP client."""
        with self.lock:
            self._stop = True
            self.lock.notify_all()
        self._thread.join(timeout=10)
        self._http.close()

    def _due(self, now: float) -> list[PushMessage]:
        due = [m for m in self.messages.values() if m.delivery.due(now)]
        return sorted(due, key=lambda m: (m.delivery.schedule[0], m.message_id))

    def _slot(self, subscription_id: str) -> bool:
        """Take one of the subscription's sends of the last real second, if one is free."""
        sent = self._sent.setdefault(subscription_id, deque())
        now = time.monotonic()
        while sent and now - sent[0] >= 1.0:
            sent.popleft()
        if len(sent) >= self.rate:
            return False
        sent.append(now)
        return True

    def _run(self) -> None:
        while True:
            with self.lock:
                if self._stop:
                    return
                now = self.clock()
                batch = [m for m in self._due(now) if self._slot(m.subscription_id)]
                if not batch:
                    self.lock.wait(0.02 if self._due(now) else 0.2)
                    continue
                self._busy = True
            try:
                for message in batch:
                    self._attempt(message)
            finally:
                with self.lock:
                    self._busy = False
                    self.lock.notify_all()

    def _attempt(self, message: PushMessage) -> None:
        subscription = self.subscriptions.get(message.subscription_id)
        now = self.clock()
        if subscription is None or not subscription.active:
            with self.lock:
                message.delivery.failed(float("inf"), "the subscription was cancelled")
            return
        error = self._post(subscription, message)
        with self.lock:
            if error is None:
                message.delivery.succeeded(now)
            else:
                message.delivery.failed(now, error)

    def _post(self, subscription: Subscription, message: PushMessage) -> str | None:
        headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification",
                   "x-amz-sns-message-id": message.message_id, "x-amz-sns-subscription-arn": subscription.arn}
        try:
            if subscription.oauth is not None:
                headers["Authorization"] = f"Bearer {self._token(subscription.oauth)}"
            response = self._http.post(subscription.endpoint.url(), content=message.body, headers=headers)
        except (httpx.HTTPError, TokenError) as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _token(self, oauth: OAuth) -> str:
        """A token from the subscriber's own endpoint (client credentials), fetched before each send."""
        response = self._http.post(oauth.endpoint.url(), data={
            "grant_type": "client_credentials", "client_id": oauth.client_id,
            "client_secret": oauth.client_secret, **({"scope": oauth.scope} if oauth.scope else {})})
        try:
            token = response.json().get("access_token") if response.status_code == 200 else None
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise TokenError(f"the token endpoint answered HTTP {response.status_code} without an access_token")
        return token


class TokenError(Exception):
    """The subscriber's token endpoint gave no token: the send counts as failed."""
