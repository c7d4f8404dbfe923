"""`cofasync receive`'s app served on loopback in a background thread, for the push tests."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from pipelines.receiver import create_receiver
from resources.push import Inbox, PushSettings
from tests.support.serving import serve_in_thread


@contextmanager
def serve_receiver(settings: PushSettings, inbox: Inbox, port: int = 0):
    """Serve the receiver on 127.0.0.1:``port`` (0: a free one) until the block ends; yields the port."""
    with serve_in_thread(create_receiver(replace(settings, port=port), inbox), port) as bound:
        yield bound


def endpoint_of(port: int, settings: PushSettings, path: str | None = None) -> dict:
    """The API's endpoint object naming the receiver (with its query parameter, when one is required)."""
    query = "=".join(settings.query) if settings.query else ""
    return {"scheme": "http", "host": "127.0.0.1", "port": str(port), "path": path or settings.path, "query": query}
