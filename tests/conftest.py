"""Shared fixtures: a CofaServe sandbox served over real HTTP on 127.0.0.1.

- `sandbox`: a fresh small world (200 companies, seed 42, today SANDBOX_TODAY, rate limit off, no
  faults) per test. World generation is cached per process, so each start costs a few milliseconds.
- `sandbox_factory`: `sandbox_factory(**options)` is a context manager yielding a `SandboxHandle`
  with other options (see sandbox.testing.run_sandbox), defaults as above.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from sandbox.testing import SandboxHandle, run_sandbox

SANDBOX_TODAY = date(2026, 11, 23)
SANDBOX_DEFAULTS = {"seed": 42, "companies": 200, "today": SANDBOX_TODAY, "rate_limit": "off", "faults": "none"}


def pytest_collection_modifyitems(config, items) -> None:
    """Put the modules with the most `slow` tests first, keeping every other order as collected.

    `make test` distributes whole files to workers in collection order (`--dist loadfile`): a long file
    collected last would run alone at the end. Starting the longest first keeps the workers busy.
    """
    slow: dict[str, int] = {}
    for item in items:
        if item.get_closest_marker("slow") is not None:
            slow[item.nodeid.split("::")[0]] = slow.get(item.nodeid.split("::")[0], 0) + 1
    items.sort(key=lambda item: -slow.get(item.nodeid.split("::")[0], 0))


@pytest.fixture(scope="session")
def sandbox_factory():
    """`sandbox_factory(**options)` -> context manager yielding a running SandboxHandle."""

    def factory(**options):
        return run_sandbox(**{**SANDBOX_DEFAULTS, **options})

    return factory


@pytest.fixture
def sandbox(sandbox_factory) -> Iterator[SandboxHandle]:
    """A fresh default sandbox for one test."""
    with sandbox_factory() as handle:
        yield handle
