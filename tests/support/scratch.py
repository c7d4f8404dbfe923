"""Scratch folders for the runs that drive `cofasync` subprocesses (exactness, soak)."""

from __future__ import annotations

import tempfile
from pathlib import Path


def scratch_dir(prefix: str) -> Path:
    """A new scratch folder named `prefix…`, on tmpfs when there is a writable one: Dagster's SQLite event
    log fsyncs each event. The caller removes it."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and shm.stat().st_mode & 0o002 else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
