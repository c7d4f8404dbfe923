"""Durable local writes, and the one atomic replace of files (manifests), on any fsspec filesystem.

Used by the store, its writers and the warehouse: :func:`make_durable` returns once local files and
directories are on stable storage; :func:`put_many_atomic` replaces files so that a reader sees each
one's old or new content, never a mix.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import sys
from collections.abc import Iterable
from typing import Any

from fsspec.implementations.local import LocalFileSystem


def _load_syncfs():
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    return syncfs


_SYNCFS = _load_syncfs() if sys.platform.startswith("linux") else None
_SYNCFS_FROM = 8  # below this many paths, an fsync of each costs less than flushing the whole filesystem


def make_durable(paths: Iterable[str]) -> None:
    """Return once the content of the given local files and directories (a directory: its entries, so
    renames into it) is on stable storage. Many paths cost one ``syncfs`` per filesystem where Linux has
    it; otherwise each path is fsynced."""
    paths = list(dict.fromkeys(paths))
    if _SYNCFS is not None and len(paths) >= _SYNCFS_FROM:
        one_per_device = {os.stat(path).st_dev: path for path in paths}
        if all(_syncfs(path) for path in one_per_device.values()):
            return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        return _SYNCFS(fd) == 0
    finally:
        os.close(fd)


def rename(fs: Any, src: str, dst: str) -> None:
    """Rename ``src`` to ``dst`` on ``fs``, replacing ``dst``: atomic on a local filesystem
    (``os.replace``), the filesystem's move elsewhere."""
    if isinstance(fs, LocalFileSystem):
        os.replace(src, dst)
    else:
        fs.mv(src, dst)


def put_many_atomic(fs: Any, files: list[tuple[str, bytes]]) -> None:
    """Replace each path of ``files`` on ``fs`` with its data, each atomically (old or new content, never
    a mix); on a local filesystem every new content is durable before any rename, and the renames are
    durable on return."""
    local = isinstance(fs, LocalFileSystem)
    staged, made = [], set()
    for path, data in files:
        directory, name = path.rsplit("/", 1)
        tmp = f"{directory}/.{name}.tmp-{secrets.token_hex(4)}"
        if directory not in made:
            fs.makedirs(directory, exist_ok=True)
            made.add(directory)
        if local:
            with open(tmp, "wb") as fh:
                fh.write(data)
        else:  # object stores: a single PUT is atomic; the copy keeps other fsspec backends safe too
            fs.pipe_file(tmp, data)
        staged.append((tmp, path))
    if local:
        make_durable(tmp for tmp, _ in staged)
    for tmp, path in staged:
        rename(fs, tmp, path)
    if local:
        make_durable(made)
