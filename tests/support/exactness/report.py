"""The outcome of an exactness comparison: each discrepancy (what was expected, what was found) and the
counts of what was compared, described for an assertion message."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.exactness.actual import Actual
    from tests.support.exactness.oracle import Expected


@dataclass
class Discrepancy:
    """One difference between the expected and the actual history (or the landing zone's quarantine)."""

    entity: str
    key: Any
    expected: Any
    got: Any
    note: str = ""

    def __str__(self) -> str:
        return f"{self.entity} {self.key}: expected {show(self.expected)}, got {show(self.got)}" + (
            f" ({self.note})" if self.note else "")


def show(value) -> str:
    """A value as a discrepancy prints it: instants to the microsecond in UTC, containers element-wise."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


@dataclass
class Report:
    """The outcome of one comparison: discrepancies and what was compared."""

    discrepancies: list[Discrepancy]
    counts: dict[str, int]
    expected: Expected | None = None
    actual: Actual | None = None

    @property
    def ok(self) -> bool:
        """Whether the comparison found nothing."""
        return not self.discrepancies

    def describe(self, limit: int = 40) -> str:
        """How many discrepancies (by entity), what was compared, and the first `limit` of them."""
        lines = [f"{len(self.discrepancies)} discrepancies; compared {self.counts}"]
        by_entity: dict[str, int] = defaultdict(int)
        for d in self.discrepancies:
            by_entity[d.entity] += 1
        lines.append("by entity: " + ", ".join(f"{k}={v}" for k, v in sorted(by_entity.items())))
        lines += [str(d) for d in self.discrepancies[:limit]]
        return "\n".join(lines)
