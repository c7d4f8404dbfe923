"""Salted fingerprints: name on-disk records after credentials without ever writing the credentials.

A folder shared by the processes of a machine (the lockout guard's, the rate budget's) keeps a random
salt in a file ``salt``; a fingerprint is ``HMAC-SHA256(salt, parts...)``. Processes using the same
folder agree on the fingerprint of the same parts; nobody can recover the parts from it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

SALT_FILE = "salt"


def folder_salt(folder: Path) -> bytes:
    """The folder's salt, created (with the folder, mode 0700) by the first process that needs it.

    The salt file appears whole or not at all (written aside, then linked into place), so a process
    starting beside the one creating it never reads a half-written salt. Raises ``OSError`` when the
    folder cannot be created or read, ``ValueError`` when the salt file is damaged; callers decide how
    to carry on without it.
    """
    folder = Path(folder)
    path = folder / SALT_FILE
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".salt-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its salt
        finally:
            os.unlink(tmp)
    salt = path.read_text().strip()
    if len(salt) < 32:
        raise ValueError("salt file is damaged")
    return bytes.fromhex(salt)


def salted_fingerprint(salt: bytes, *parts: str) -> str:
    """``HMAC-SHA256(salt, parts joined by NUL)`` in hex."""
    return hmac.new(salt, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()
