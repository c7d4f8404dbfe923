"""The landing zone of an account: one folder per policy, each one policy's landing store.

Layout under the account's ``root``::

    policy={policy_number}/...   one policy's streams, manifests, quarantine and locks (store.py)

A zone landed before policies were kept apart holds one policy's streams directly under the root. It
is upgraded in place, without re-extraction, by :func:`upgrade_single_policy_zone`: each of its entries
moves under ``policy={the policy it was synced for}/``. Manifests name files relative to the store's
root, so they stay valid as they are. A move of a folder is one rename on a local root; on object
storage a killed upgrade is finished by the next (each entry is copied, then removed).
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Mapping
from typing import Any

import fsspec

from .errors import LandingError

log = logging.getLogger(__name__)

PREFIX = "policy="
POLICY_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""What a policy number may be: it names a folder (letters, digits, ``._-``, at most 64)."""
_NOT_LANDED = frozenset({"_locks", "_push"})
"""Entries at a root that are no single-policy zone's (a lock file is recreated where it is needed; the
push inbox is the account's, every policy's messages in one)."""


class LegacyLandingZone(LandingError):
    """The landing root still holds a single-policy zone and no policy to upgrade it to was given."""


def check_policy_number(policy: str) -> str:
    """``policy`` if it can name a folder (letters, digits, ``._-``; at most 64), else LandingError."""
    if not isinstance(policy, str) or not POLICY_NUMBER.match(policy):
        raise LandingError(f"{policy!r} is not a policy number the landing zone can hold (letters, digits, "
                           "'.', '_' and '-', starting with a letter or digit)")
    return policy


def parse_policy_list(text: str | None) -> tuple[str, ...]:
    """The policy numbers of a comma-separated list (blanks dropped, order kept, each once)."""
    return tuple(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))


def policy_dir(root_path: str, policy: str) -> str:
    """The folder of ``policy``'s landing store under the account's root (as its filesystem names it)."""
    return posixpath.join(root_path.rstrip("/") or "/", PREFIX + check_policy_number(policy))


def _names(fs, root_path: str) -> list[str]:
    try:
        return sorted(posixpath.basename(p.rstrip("/")) for p in fs.ls(root_path, detail=False))
    except FileNotFoundError:
        return []


def landed_policies(fs, root_path: str) -> list[str]:
    """The policies that have a folder under the account's root, in order."""
    return [name[len(PREFIX):] for name in _names(fs, root_path) if name.startswith(PREFIX)]


def legacy_entries(fs, root_path: str) -> list[str]:
    """What a single-policy zone left directly under the root (streams, ``_manifests``, ``_quarantine``):
    empty once it is upgraded."""
    return [n for n in _names(fs, root_path) if not n.startswith(PREFIX) and n not in _NOT_LANDED
            and fs.isdir(posixpath.join(root_path, n))]


def upgrade_single_policy_zone(root: str, policy: str | None, *,
                               storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """Move a single-policy zone under the root into ``policy``'s folder; return the entries moved
    (none when there is nothing to upgrade).

    ``policy`` is the one the zone was synced for (``COFASERVE_POLICY_NUMBER`` of that deployment);
    without it, a zone that needs upgrading raises :class:`LegacyLandingZone` saying what to set. An entry
    the policy's folder already holds is refused (LandingError), never merged.
    """
    fs, path = fsspec.core.url_to_fs(str(root), **dict(storage_options or {}))
    path = path.rstrip("/") or "/"
    entries = legacy_entries(fs, path)
    if not entries:
        return []
    if not policy:
        raise LegacyLandingZone(
            f"the landing zone {root} was landed before policies were kept apart ({', '.join(entries[:4])}"
            f"{' …' if len(entries) > 4 else ''} directly under it): set COFASERVE_POLICY_NUMBER to the policy it "
            "was synced for, and the next run moves it under that policy's folder without re-extracting")
    target = policy_dir(path, policy)
    fs.makedirs(target, exist_ok=True)
    for entry in entries:
        destination = posixpath.join(target, entry)
        if fs.exists(destination):
            raise LandingError(f"cannot upgrade the landing zone {root}: both {entry} and {PREFIX}{policy}/{entry} "
                               "exist; move one of them away by hand, then run again")
        fs.mv(posixpath.join(path, entry), destination, recursive=True)
    log.warning("upgraded the single-policy landing zone %s: %s moved under %s%s/", root, ", ".join(entries),
                PREFIX, policy)
    return entries
