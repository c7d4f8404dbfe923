"""The warehouse models as Dagster assets: one asset per table in `sql/` (staging, history, marts),
built together from the landing zone in one atomic step, with the history checks."""


import dagster as dg

from .runtime import OWNERS


def model_specs() -> list[dg.AssetSpec]:
    """One asset spec per model file, in its layer's group, described by its header (grain, key), with
    its upstream models (or, for staging, the landed stream it reads) as dependencies."""
    from resources.warehouse.inputs import landed_stream
    from resources.warehouse.models import load_models

    models = load_models()
    layer_of = {model.name: model.layer for model in models}
    specs = []
    for model in models:
        deps = [dg.AssetKey([layer_of[up], up]) if up in layer_of else dg.AssetKey(up) for up in model.upstream]
        if model.stream is not None:
            deps = [dg.AssetKey(landed_stream(model.stream))]
        specs.append(dg.AssetSpec(
            dg.AssetKey([model.layer, model.name]),
            description=f"{model.summary[:1].upper()}{model.summary[1:]} Grain: {model.grain}. Key: {', '.join(model.key)}.",
            group_name=model.layer,
            kinds={"sql", "duckdb", "postgres"},
            owners=OWNERS,
            deps=deps,
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
