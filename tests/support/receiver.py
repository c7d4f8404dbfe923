"""`cofasync receive`'s app served on loopback in a background thread, for the push tests."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import uvicorn

from pipelines.receiver import create_receiver
from resources.push import Inbox, PushSettings


@contextmanager
def serve_receiver(settings: PushSettings, inbox: Inbox, port: int = 0):
    """Serve the receiver on 127.0.0.1:``port`` (0: a free one) until the block ends; yields the port."""
    app = create_receiver(replace(settings, port=port), inbox)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def endpoint_of(port: int, settings: PushSettings, path: str | None = None) -> dict:
    """The API's endpoint object naming the receiver (with its query parameter, when one is required)."""
    query = "=".join(settings.query) if settings.query else ""
    return {"scheme": "http", "host": "127.0.0.1", "port": str(port), "path": path or settings.path, "query": query}
