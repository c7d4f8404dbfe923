"""The warehouse models as Dagster assets: one asset per table in `sql/` (staging, history, marts),
built together from the landing zone in one atomic step, with the history checks."""


from pathlib import Path

import dagster as dg

from .runtime import OWNERS

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
LAYERS = ("staging", "history", "marts")
EXTRACT_ASSETS = ("notifications", "portfolio", "deliveries", "orders", "order_polls", "overdues",
                  "overdue_documents", "portfolio_snapshot", "countries", "country_identifiers",
                  "customer_references", "policies")


def sql_header(path: Path) -> str:
    """Return the header comment of a model file (its grain, key and upstream tables) as plain text."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(part for part in lines if part) or path.stem


def model_specs() -> list[dg.AssetSpec]:
    """One asset spec per model file, in its layer's group, described by the file's header comment."""
    specs = []
    for layer in LAYERS:
        for path in sorted((SQL_ROOT / layer).glob("*.sql")):
            specs.append(dg.AssetSpec(
                dg.AssetKey([layer, path.stem]),
                description=sql_header(path),
                group_name=layer,
                kinds={"sql", "duckdb", "postgres"},
                owners=OWNERS,
                deps=list(EXTRACT_ASSETS) if layer == "staging" else None,
            ))
    return specs


def warehouse_assets() -> list[dg.AssetsDefinition]:
    """The one step that builds every model from the landing zone and publishes them atomically (no
    asset when `sql/` holds no model)."""
    specs = model_specs()
    if not specs:
        return []

    @dg.multi_asset(
        name="warehouse_models",
        specs=specs,
        check_specs=[dg.AssetCheckSpec("history_is_consistent", asset=dg.AssetKey(["history", "decision_history"]))]
        if any(s.key == dg.AssetKey(["history", "decision_history"]) for s in specs) else [],
        can_subset=False,
        required_resource_keys={"landing", "warehouse"},
    )
    def _models(context: dg.AssetExecutionContext):
        warehouse = context.resources.warehouse.warehouse()
        report = warehouse.build(context.resources.landing.store())
        counts = report.row_counts
        for spec in specs:
            table = spec.key.path[-1]
            yield dg.MaterializeResult(asset_key=spec.key,
                                       metadata={"rows": counts.get(table, 0),
                                                 "build_seconds": round(report.duration_seconds, 3)})
        if any(s.key == dg.AssetKey(["history", "decision_history"]) for s in specs):
            results = warehouse.checks()
            failed = [r for r in results if not r.passed]
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(["history", "decision_history"]),
                check_name="history_is_consistent",
                passed=not failed,
                metadata={r.name: dg.MetadataValue.text(f"{'ok' if r.passed else 'FAILED'}: {r.detail}")
                          for r in results},
            )

    return [_models]
