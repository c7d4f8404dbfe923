"""One process of the two-process rate budget test: N calls of one endpoint, figures as JSON on stdout.

    python -m tests.support.budget_worker N READY_FILE GO_FILE

Settings come from the environment as in production (``COFASERVE_*``, the budget folder and the other
options in ``COFASERVE_CLIENT_OPTIONS``). The worker logs in (through another endpoint), creates
READY_FILE, waits for GO_FILE so that the processes start together whatever their start-up cost, then
lists the policies N times (one request each) and prints what its client counted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from resources.cofaserve import ClientSettings, CofaServeClient

READY_TIMEOUT_SECONDS = 120.0


def main(argv: list[str]) -> int:
    """Run the worker (see the module docstring); exit 0 when every call returned its records."""
    calls, ready, go = int(argv[0]), Path(argv[1]), Path(argv[2])
    with CofaServeClient(ClientSettings.from_env()) as client:
        list(client.iter_countries())  # the login, on another endpoint's budget
        ready.touch()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not go.exists():
            if time.monotonic() > deadline:
                raise SystemExit("no start signal")
            time.sleep(0.005)
        ok = sum(1 for _ in range(calls) if all(record.ok for record in client.iter_policies()))
        snapshot = client.telemetry.snapshot()
        figures = {
            "calls_ok": ok,
            "requests": snapshot["requests.policies"],
            "http_429": snapshot["http_429"],
            "shared_folder": str(client.rate_budget.shared_folder),
        }
    print(json.dumps(figures))
    return 0 if ok == calls else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
