"""Exactness: the warehouse's history tables compared with the sandbox's ground truth (invariant 5).

Used by `tests/integration/test_exactness.py`, `tests/integration/test_exactness_snapshot.py`,
`tests/e2e/test_soak.py` and `bench/soak.py`:

    with run_sandbox_process(seed=42, companies=200, today=..., faults=...) as sb:
        driver = NightlyDriver(sb, root, warehouse_url)
        driver.sync()                        # first night: the backfill of the whole window
        for night in range(10):
            driver.advance()                 # the sandbox's clock moves one day
            driver.sync(snapshot=night == 4, kills=[Kill("extract", 1.0)] if night == 2 else ())
        report = compare_with_truth(driver)
        assert report.ok, report.describe()

One job per module:

- `driver`: the nights: each attempt of `cofasync sync` on the pipeline's clock of the night
  (`COFASYNC_NOW`), in this process through `pipelines.sync.run_sync` with settings and resources built
  by the driver, or as a `cofasync` subprocess when it is to be killed; re-runs; what each night landed;
- `in_process`: the settings, API resource and Dagster instance of an attempt run in this process;
- `push`: push on for a run (`tests/integration/test_exactness_push.py`): the receiver subscribed to every
  topic, each day's messages landed and the models built before the night's sync, and what the oracle's
  rule "Push" needs;
- `oracle` (the rules of what the API exposed, in its module doc), `oracle_decisions`, `oracle_links`,
  `oracle_orders`: the expected history derived from the truth and the nights;
- `actual`: the history tables read back from the warehouse;
- `comparison`, `quarantine`, `report`: the comparison of the two, of the quarantine with the damaged
  records, and its report;
- `values`: the normalized values both sides are compared in.
"""

from tests.support.exactness.actual import Actual, actual_history
from tests.support.exactness.comparison import compare, compare_with_truth
from tests.support.exactness.driver import Attempt, Kill, Night, NightlyDriver, last_dagster_events
from tests.support.exactness.oracle import Expected, Oracle, Truth, snapshot_times
from tests.support.exactness.quarantine import quarantine_discrepancies
from tests.support.exactness.report import Discrepancy, Report

__all__ = ["Actual", "Attempt", "Discrepancy", "Expected", "Kill", "Night", "NightlyDriver", "Oracle", "Report",
           "Truth", "actual_history", "compare", "compare_with_truth", "last_dagster_events",
           "quarantine_discrepancies", "snapshot_times"]
