"""Lockout guard: never try again, for a cool-down, credentials the identity provider refused.

CofaServe allows five failed logins, then locks the account with growing lockouts [DOC]. A pipeline that
retries a wrong password (in the same run, or run after run from a schedule) would lock it. The guard
records each refused login on disk, in a folder shared by every run on the machine, keyed by a
fingerprint of the credentials: ``HMAC-SHA256(salt, auth_url, username, password)`` with a random salt
kept in the folder. The record never contains the credentials themselves. Until the cool-down has passed
(default 15 minutes, also the time after which the server forgets failed attempts), a login with the same
credentials is refused without any request; changed credentials have another fingerprint and are tried.
A successful login clears the record.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .errors import LockoutGuardUnusableError, LoginCoolingDownError
from .fingerprint import folder_salt, salted_fingerprint

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LockoutGuard:
    """Persists refused logins per credential fingerprint and refuses to retry them during the cool-down.

    Safe to share between threads and between processes (records are written atomically by rename).
    A folder that cannot be written raises :class:`LockoutGuardUnusableError` (no login may be attempted),
    unless ``required`` is False: the guard then works for the current process only and logs a warning.
    """

    def __init__(self, folder: Path, cooldown_seconds: float = 900.0, now: Callable[[], datetime] = utc_now,
                 required: bool = True):
        self.folder = Path(folder)
        self.cooldown = timedelta(seconds=cooldown_seconds)
        self._now = now
        self._lock = threading.Lock()
        self._memory: dict[str, dict] = {}
        self._on_disk = True  # False once the folder proved unusable (and the user opted out of requiring it)
        self._salt = self._load_salt(required)

    # ---------------------------------------------------------------------------------------------- salt

    def _load_salt(self, required: bool) -> bytes:
        try:
            salt = folder_salt(self.folder)
            with tempfile.TemporaryFile(dir=self.folder):  # records are written here: prove it can be
                pass
            return salt
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
            if required:
                raise LockoutGuardUnusableError(
                    f"CofaServe login not attempted: the lockout guard folder {self.folder} is not usable "
                    f"({reason}). Without it a refused password would be tried again by every run, and the "
                    "account locks after five failures. Make the folder writable or point COFASERVE_LOCKOUT_DIR "
                    "at one that is; to log in without the guard, set "
                    '"lockout_guard_required": false in COFASERVE_CLIENT_OPTIONS.') from exc
            log.warning(
                "lockout guard folder %s is not usable (%s): refused logins are remembered in this process only",
                self.folder, exc.__class__.__name__,
            )
            self._on_disk = False
            return secrets.token_bytes(32)

    def fingerprint(self, auth_url: str, username: str, password: str) -> str:
        """The salted fingerprint of a set of credentials (hex); the secret cannot be recovered from it."""
        return salted_fingerprint(self._salt, auth_url.rstrip("/"), username, password)

    # ------------------------------------------------------------------------------------------- records

    def _path(self, fingerprint: str) -> Path:
        return self.folder / f"{fingerprint}.json"

    def _read(self, fingerprint: str) -> dict | None:
        with self._lock:
            remembered = self._memory.get(fingerprint)
        if not self._on_disk:
            return remembered
        try:
            record = json.loads(self._path(fingerprint).read_text())
            if isinstance(record, dict) and "failed_at" in record:
                return record
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("lockout guard record unreadable (%s); treating it as a recent failure", exc.__class__.__name__)
            return {"failed_at": _iso(self._now()), "kind": "unknown", "reason": "unreadable guard record"}
        return remembered

    def check(self, fingerprint: str) -> None:
        """Raise :class:`LoginCoolingDownError` if these credentials failed less than a cool-down ago.

        The error says when the failure happened, why, and the UTC time from which a login may be tried.
        """
        record = self._read(fingerprint)
        if record is None:
            return
        failed_at = datetime.fromisoformat(record["failed_at"].replace("Z", "+00:00"))
        retry_at = failed_at + self.cooldown
        if self._now() >= retry_at:
            return
        reason = record.get("reason") or record.get("kind", "refused")
        minutes = self.cooldown.total_seconds() / 60
        raise LoginCoolingDownError(
            f"CofaServe login not attempted: these credentials were refused at {_iso(failed_at)} ({reason}). "
            f"To protect the account from a lockout they will not be tried again before {_iso(retry_at)} "
            f"(cool-down {minutes:g} min). Correct the credentials (new credentials are tried at once) or wait "
            f"until then. Guard record: {self._path(fingerprint)}",
            retry_at=retry_at,
            previous_failure=str(reason),
        )

    def record_failure(self, fingerprint: str, kind: str, reason: str) -> datetime:
        """Record a refused login now; return the UTC time from which the guard allows the next attempt.

        ``kind`` is ``invalid_credentials``, ``account_locked`` or ``rejected``; ``reason`` is the server's
        message (it must not contain secrets; the identity provider's messages do not).
        """
        now = self._now()
        record = {"failed_at": _iso(now), "kind": kind, "reason": reason[:300]}
        retry_at = datetime.fromisoformat(record["failed_at"].replace("Z", "+00:00")) + self.cooldown
        with self._lock:
            self._memory[fingerprint] = record
        if not self._on_disk:
            return retry_at
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle)
            os.replace(tmp, self._path(fingerprint))
        except OSError as exc:
            log.warning("could not persist the refused login in %s (%s)", self.folder, exc.__class__.__name__)
        return retry_at

    def clear(self, fingerprint: str) -> None:
        """Forget a failure (called after a successful login)."""
        with self._lock:
            self._memory.pop(fingerprint, None)
        if not self._on_disk:
            return
        try:
            self._path(fingerprint).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not clear the lockout guard record (%s)", exc.__class__.__name__)
