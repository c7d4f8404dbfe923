"""The warehouse: staging, SCD2 history and marts built from the landing zone by the `sql/` models.

```python
from resources.warehouse import Warehouse
wh = Warehouse("duckdb:///data/warehouse.duckdb")      # or "postgresql+psycopg://user@host/db"
report = wh.build(landing_store)                        # incremental; full_refresh=True rebuilds
wh.checks()                                             # [CheckResult(check, table, passed, failing, ...)]
wh.table_counts()
wh.query("select * from marts.current_portfolio where country_code = :c", {"c": "FRA"})
```

The same SQL files run on DuckDB and Postgres through SQLAlchemy. A build is published atomically:
readers keep the previous complete state until the new one is complete (see `targets`).
See docs/warehouse.md for the layers, the grain of every table and the data dictionary.

The modules, from the outside in:

* `warehouse`: the `Warehouse` above and its `BuildReport`;
* `targets`: where a build writes and how it is published (DuckDB file swap, Postgres transaction);
* `build`: one build on an open connection (schema, staging loads, history refresh);
* `history`: recomputing the history models for the numbers a build's changes touched;
* `schema`: the build's bookkeeping tables, the layer schemas and the model objects;
* `checks`: data checks on the published state;
* `inputs`: what is read from the landing zone, and reading it;
* `dialects`: what differs between DuckDB and Postgres (engines, loading a batch, indexes);
* `sql`: composing statements from whitelisted identifiers;
* `models`: the `sql/` model files: discovery, headers, build order.
"""

from .checks import (
    CheckResult,
    check_no_overlapping_validity,
    check_notifications_have_decisions,
    check_one_current_version,
    check_row_counts_reconcile,
    check_temporary_numbers_mapped,
    check_unique_notifications,
    run_all_checks,
)
from .targets import WarehouseNotBuilt, WarehouseUnreachable
from .warehouse import BuildReport, Warehouse

__all__ = [
    "BuildReport", "CheckResult", "Warehouse", "WarehouseNotBuilt", "WarehouseUnreachable", "check_no_overlapping_validity",
    "check_notifications_have_decisions", "check_one_current_version", "check_row_counts_reconcile",
    "check_temporary_numbers_mapped", "check_unique_notifications", "run_all_checks",
]
