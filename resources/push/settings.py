"""The push receiver's settings (`cofasync receive`), read from the environment once, at wiring.

`.env.example` lists them with the pipeline's; `load_push_settings` names every malformed one at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from resources.settings import Spec, read_settings


@dataclass(frozen=True)
class PushSettings:
    """Where the receiver listens and what it requires of a message."""

    host: str
    port: int
    path: str
    cert_hosts: tuple[str, ...]
    """Hosts a SigningCertURL may name (``*.amazonaws.com``: any subdomain), over https; an entry written
    ``http://host:port`` also admits that one origin over plain http (a sandbox on loopback)."""
    query: tuple[str, str] | None = None
    """A query parameter (name, value) every message must carry (the endpoint's ``query``)."""
    oauth_client: tuple[str, str] | None = None
    """Client id and secret of the OAuth variant: the receiver then issues tokens at ``path + '/token'``
    and refuses a message without one of them."""


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` as (host, port); ValueError saying what is expected."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("must be host:port (e.g. 127.0.0.1:8787, or 0.0.0.0:8787 behind a reverse proxy)")
    return host, int(port)


def _path(value: str) -> str:
    if not value.startswith("/") or "?" in value or value.endswith("/") and value != "/":
        raise ValueError("must be a path starting with / without a query or a trailing / (e.g. /cofaserve/push)")
    return value


def _hosts(value: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
    if not hosts:
        raise ValueError("must name at least one host (e.g. *.amazonaws.com)")
    return hosts


def _query(value: str) -> tuple[str, str] | None:
    if not value.strip():
        return None
    name, sep, wanted = value.strip().partition("=")
    if not sep or not name or not wanted:
        raise ValueError("must be name=value (the endpoint's query, e.g. my_technical_user=mtu007), or empty")
    return name, wanted


def _text(value: str) -> str:
    return value.strip()


_SPEC: Spec = {
    "COFASYNC_PUSH_LISTEN": ("127.0.0.1:8787", parse_listen),
    "COFASYNC_PUSH_PATH": ("/cofaserve/push", _path),
    "COFASYNC_PUSH_CERT_HOSTS": ("*.amazonaws.com", _hosts),
    "COFASYNC_PUSH_QUERY": ("", _query),
    "COFASYNC_PUSH_OAUTH_CLIENT_ID": ("", _text),
    "COFASYNC_PUSH_OAUTH_CLIENT_SECRET": ("", _text),
}

PUSH_SETTING_NAMES = tuple(_SPEC)


def load_push_settings(environ: Mapping[str, str] | None = None) -> PushSettings:
    """The receiver's settings; SettingsError naming each one that is malformed."""
    from resources.settings import SettingsError

    values = read_settings(_SPEC, environ)
    client_id, secret = values["COFASYNC_PUSH_OAUTH_CLIENT_ID"], values["COFASYNC_PUSH_OAUTH_CLIENT_SECRET"]
    if bool(client_id) != bool(secret):
        raise SettingsError("Invalid settings: COFASYNC_PUSH_OAUTH_CLIENT_ID and COFASYNC_PUSH_OAUTH_CLIENT_SECRET "
                            "go together (both set for the OAuth variant, or neither)")
    host, port = values["COFASYNC_PUSH_LISTEN"]
    return PushSettings(host, port, values["COFASYNC_PUSH_PATH"], values["COFASYNC_PUSH_CERT_HOSTS"],
                        values["COFASYNC_PUSH_QUERY"], (client_id, secret) if client_id else None)
