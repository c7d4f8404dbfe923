"""Integrity of the landing zone, the only copy of history older than the API's two years.

Every part file's size and SHA-256 are recorded in the manifests that name it (``file_digests``, written
as the file is), and its data pages carry Parquet page checksums. :func:`file_problem` says what is wrong
with one file (missing, truncated, content not matching its digest, unreadable); :func:`require_intact`
refuses a set of files before anything reads them (the warehouse build); :func:`verify_landing` checks
every manifest and every file they name, for ``cofasync verify``. A file landed before digests were
recorded is checked by reading it whole, page checksums verified when it has them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow.parquet as pq

from . import manifest_files
from .errors import DamagedLanding

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Damage:
    """One damaged thing of the landing zone: a manifest (``path`` is the manifest) or a file it names."""

    stream: str
    partition: str
    path: str
    problem: str


@dataclass
class VerifyReport:
    """What :func:`verify_landing` checked and found."""

    manifests: int = 0
    files: int = 0
    damages: list[Damage] = field(default_factory=list)


def file_problem(store, relative: str, digest: Mapping | None) -> str | None:
    """What is wrong with the landed file ``relative`` (to the root) given its recorded ``digest``
    (``{"size", "sha256"}``, or None when none was recorded), or None when it is intact."""
    path = store.join(relative)
    try:
        with store.fs.open(path, "rb") as fh:
            if digest is None:
                pq.ParquetFile(fh, page_checksum_verification=True).read()
                return None
            sha, size = hashlib.sha256(), 0
            while chunk := fh.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return "missing"
    except Exception as exc:  # pyarrow's errors for a damaged file are OSError, ArrowInvalid...
        return f"unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    if size != digest["size"]:
        return f"{size:,} bytes where {digest['size']:,} were landed (truncated or overwritten)"
    if sha.hexdigest() != digest["sha256"]:
        return "its content no longer matches the digest recorded when it landed (damaged on disk)"
    return None


def require_intact(store, files: Mapping[str, Mapping | None], what: str) -> None:
    """Raise :class:`DamagedLanding` naming every damaged file of ``files`` ({relative path: digest or
    None}) before ``what`` reads them."""
    problems = [f"{store.join(relative)}: {problem}" for relative, digest in files.items()
                if (problem := file_problem(store, relative, digest))]
    if problems:
        raise DamagedLanding(f"{what} met damaged landed files, so nothing was published: " + "; ".join(problems)
                             + ". `cofasync verify` lists every damaged file and how to repair it.")


def named_files(manifest: Mapping) -> dict[str, Mapping | None]:
    """{relative path: recorded digest or None} of every data and quarantine file ``manifest`` names."""
    digests = manifest.get("file_digests") or {}
    return {relative: digests.get(relative) for relative in [*manifest["files"], *manifest["quarantine_files"]]}


def verify_landing(store, streams: Iterable[str], first: date | None = None, last: date | None = None) -> VerifyReport:
    """Check every manifest of ``streams`` (dated partitions, daily or as-of, from ``first`` to ``last``
    when given; ``current`` ones always) and every file they name; each file is read once however many
    days share it. A damaged month file is a damage of each day it can hold."""
    report = VerifyReport()
    checked: dict[str, str | None] = {}

    def wanted(key: str) -> bool:
        return key == "current" or not ((first and key < first.isoformat()) or (last and key > last.isoformat()))

    for stream in streams:
        manifests: dict[str, dict] = {}
        for name, found in manifest_files.scan(store, stream):
            if isinstance(found, DamagedLanding):
                path = manifest_files.file_path(store, stream, name)
                days = manifest_files.days_of_month_file(name) if manifest_files.is_month(name) else [name]
                for key in filter(wanted, days):
                    report.manifests += 1
                    report.damages.append(Damage(stream, key, path, str(found)))
                continue
            manifests.update(found)
        for key, manifest in sorted(manifests.items()):
            if not wanted(key):
                continue
            report.manifests += 1
            for relative, digest in named_files(manifest).items():
                if relative not in checked:
                    checked[relative] = file_problem(store, relative, digest)
                if checked[relative]:
                    report.damages.append(Damage(stream, key, store.join(relative), checked[relative]))
    report.files = len(checked)
    return report
