"""The sandbox's FX reference rates: an ECB-format CSV (`eurofxref-hist.csv`'s layout) for the currencies
its policies and decisions use (USD, GBP, CHF against the euro), every business day of 2022 to 2028.

The rates are invented (a seeded, mean-reverting walk around plausible levels), not the ECB's: they let
`make sync` convert amounts without a download. The shipped file is this module's output:

    python -m sandbox.fx_rates > sandbox/ecb_reference_rates.csv
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from importlib.resources import files

LEVELS = {"USD": 1.08, "GBP": 0.86, "CHF": 0.95}
FIRST, LAST = date(2022, 1, 3), date(2028, 12, 29)
RATES_FILE = "ecb_reference_rates.csv"


def rates_path() -> str:
    """The path of the shipped file (inside the installed package)."""
    return str(files("sandbox") / RATES_FILE)


def ecb_csv(seed: int = 2022) -> str:
    """The CSV text: the ECB's header, then one line per business day, newest first as the ECB writes."""
    rng = random.Random(seed)
    level = dict(LEVELS)
    lines = []
    day = FIRST
    while day <= LAST:
        if day.weekday() < 5:
            for code, centre in LEVELS.items():
                level[code] += 0.05 * (centre - level[code]) + rng.gauss(0, 0.004) * centre
            lines.append(f"{day.isoformat()}," + ",".join(f"{level[c]:.4f}" for c in LEVELS) + ",")
        day += timedelta(days=1)
    return "Date," + ",".join(LEVELS) + ",\n" + "\n".join(reversed(lines)) + "\n"


if __name__ == "__main__":
    sys.stdout.write(ecb_csv())
