"""Keeping secrets out of logs and error texts.

Two layers: the client never formats headers or request bodies into messages except through
:func:`redact_headers`, and every text that comes from outside (a server's error message) goes through a
:class:`Redactor` that masks the secret values the client knows (password, API key, tokens) before it
is logged or put into an exception.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

MASK = "***"

SENSITIVE_HEADERS = frozenset({"authorization", "x-api-key", "proxy-authorization", "cookie", "set-cookie"})
"""Headers whose values are never shown (compared case-insensitively)."""


def redact_headers(headers: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` with the values of sensitive headers (and of ``extra`` names) masked."""
    hidden = SENSITIVE_HEADERS | {name.lower() for name in extra}
    return {name: (MASK if name.lower() in hidden else value) for name, value in headers.items()}


class Redactor:
    """Masks known secret values in free text. Thread-safe; secrets are added as they become known."""

    _MIN_LENGTH = 4  # shorter values would mask ordinary words

    def __init__(self, secrets: Iterable[str] = ()):
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember ``secret`` so that :meth:`scrub` masks it from now on."""
        if secret and len(secret) >= self._MIN_LENGTH:
            with self._lock:
                self._secrets.add(secret)

    def scrub(self, text: str | None) -> str | None:
        """``text`` with every known secret replaced by ``***`` (None stays None)."""
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"
