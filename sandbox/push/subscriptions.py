"""Subscriptions to push topics: the subscriber's endpoint (the functional page's ``endpoint`` object),
the OAuth variant's token endpoint, and the registry of subscriptions of the account.

A subscription is confirmed at once, as the functional page says; it covers every policy of the account.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from urllib.parse import urlunsplit

from sandbox.errors import ApiError
from sandbox.push.topics import TOPICS, topic_arn


@dataclass(frozen=True)
class Endpoint:
    """[DOC] scheme, host, port, path and an optional query appended after ``?``."""

    scheme: str
    host: str
    port: str
    path: str
    query: str = ""

    def url(self) -> str:
        """The URI messages are posted to."""
        netloc = f"{self.host}:{self.port}" if self.port else self.host
        return urlunsplit((self.scheme, netloc, self.path or "/", self.query, ""))


@dataclass(frozen=True)
class OAuth:
    """[SANDBOX] The OAuth variant: the client's token endpoint and the client credentials sent to it."""

    endpoint: Endpoint
    client_id: str
    client_secret: str
    scope: str = ""


@dataclass
class Subscription:
    subscription_id: str
    topic: str
    endpoint: Endpoint
    oauth: OAuth | None
    created_at: float
    """The push clock's instant of the subscription: only decisions from then on are pushed."""
    active: bool = True

    @property
    def arn(self) -> str:
        """The SubscriptionArn, as SNS spells it (topic ARN and the subscription's id)."""
        return f"{topic_arn(self.topic)}:{self.subscription_id}"


def _text(obj: dict, name: str, where: str, required: bool = True) -> str:
    value = obj.get(name, "")
    if value is None:
        value = ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, f"{where}.{name} must be a non-empty string", "invalid_subscription")
    return value.strip()


def parse_endpoint(obj, where: str = "endpoint") -> Endpoint:
    """The ``endpoint`` object of a subscription request; ApiError 400 naming the field that is wrong."""
    if not isinstance(obj, dict):
        raise ApiError(400, f"{where} must be an object with scheme, host, port, path and query",
                       "invalid_subscription")
    scheme = _text(obj, "scheme", where).lower()
    if scheme not in ("http", "https"):
        raise ApiError(400, f"{where}.scheme must be http or https (got {scheme!r})", "invalid_subscription")
    port = _text(obj, "port", where, required=False)
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ApiError(400, f"{where}.port must be empty or a port number (got {port!r})", "invalid_subscription")
    path = _text(obj, "path", where, required=False) or "/"
    if not path.startswith("/"):
        raise ApiError(400, f"{where}.path must start with / (got {path!r})", "invalid_subscription")
    return Endpoint(scheme, _text(obj, "host", where), port, path, _text(obj, "query", where, required=False))


def parse_oauth(obj) -> OAuth:
    """The ``oauth`` object of ``with-token-auth``: ``authEndpoint``, ``clientId``, ``clientSecret``, ``scope``."""
    if not isinstance(obj, dict):
        raise ApiError(400, "oauth must be an object with authEndpoint, clientId and clientSecret",
                       "invalid_subscription")
    return OAuth(parse_endpoint(obj.get("authEndpoint"), "oauth.authEndpoint"), _text(obj, "clientId", "oauth"),
                 _text(obj, "clientSecret", "oauth"), _text(obj, "scope", "oauth", required=False))


class Subscriptions:
    """The account's subscriptions, by id (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_id: dict[str, Subscription] = {}

    def add(self, topic: str, endpoint: Endpoint, oauth: OAuth | None, now: float) -> Subscription:
        """Subscribe ``endpoint`` to ``topic`` from the instant ``now``; ApiError 404 for an unknown topic."""
        if topic not in TOPICS:
            raise ApiError(404, f"no topic {topic!r}; the topics are {', '.join(TOPICS)}", "unknown_topic")
        subscription = Subscription(uuid.uuid4().hex, topic, endpoint, oauth, now)
        with self._lock:
            self._by_id[subscription.subscription_id] = subscription
        return subscription

    def cancel(self, subscription_id: str) -> bool:
        """Stop pushing to a subscription; False when there is no such active subscription."""
        with self._lock:
            subscription = self._by_id.get(subscription_id)
            if subscription is None or not subscription.active:
                return False
            subscription.active = False
            return True

    def active(self, topic: str | None = None) -> list[Subscription]:
        """The active subscriptions (of ``topic`` when given)."""
        with self._lock:
            return [s for s in self._by_id.values() if s.active and topic in (None, s.topic)]

    def get(self, subscription_id: str) -> Subscription | None:
        """A subscription by id, active or not."""
        with self._lock:
            return self._by_id.get(subscription_id)
