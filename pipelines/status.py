"""`cofasync status`: each stream's freshness, counts and quarantine, what is due, the warehouse's tables
and the last runs, as a table for people or as JSON for scripts (``--json``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from pipelines.due import DAILY_STREAMS, due_work, settling_days
from pipelines.runs import interrupted
from resources.streams import STREAMS


def _streams(store, today: date) -> dict:
    streams = {}
    for name in STREAMS:
        manifests = store.manifests(name)
        days = [m["partition"] for m in manifests if m.get("partition") not in (None, "current")]
        latest = max(days) if days else ("current" if manifests else None)
        behind = None
        if name in DAILY_STREAMS and days:
            behind = (today - timedelta(days=1) - date.fromisoformat(max(days))).days
        streams[name] = {"latest": latest, "days_behind": behind, "partitions": len(manifests),
                         "rows": sum(m.get("rows", 0) for m in manifests),
                         "quarantined": sum(m.get("quarantined", 0) for m in manifests)}
    return streams


def _all_policies(per_policy: dict[str, dict]) -> dict:
    """Each stream over every policy: the latest day every policy has, the most days behind, counts summed."""
    out = {}
    for name in STREAMS:
        each = [streams[name] for streams in per_policy.values()]
        latest = [s["latest"] for s in each]
        behind = [s["days_behind"] for s in each if s["days_behind"] is not None]
        out[name] = {"latest": None if None in latest or not latest else min(latest),
                     "days_behind": max(behind) if behind else None,
                     **{key: sum(s[key] for s in each) for key in ("partitions", "rows", "quarantined")}}
    return out


def status(settings, stores, instance, synced=None) -> dict:
    """The status of the landing zones of ``stores`` (one per policy; or one store), the warehouse and
    ``instance``'s last runs, as plain data: ``streams`` over every policy, ``policies`` each one's, what
    is due in the zones a sync keeps up to date (``synced``, default: every one). An
    unreadable warehouse is reported in ``warehouse.error``, never raised."""
    stores = list(stores) if isinstance(stores, list | tuple) else [stores]
    today = settings.today()
    per_policy = {store.policy or "": _streams(store, today) for store in stores}
    streams = _all_policies(per_policy)
    from resources.io_resources import WarehouseResource

    target = WarehouseResource.from_settings(settings).warehouse()
    warehouse: dict = {"url": target.safe_url}
    try:
        warehouse["tables"] = dict(sorted(target.table_counts().items()))
    except Exception as exc:  # the warehouse may not be built yet: say so rather than fail the status
        warehouse["error"] = f"not readable yet ({exc})"
    due = [{"first": d.first.isoformat(), "last": d.last.isoformat(), "streams": list(d.streams),
            "settling_days": d.settling, "policies": list(d.policies)}
           for d in due_work(list(synced) if synced is not None else stores, today, settings.contract_start)]
    settling = sorted({day.isoformat() for store in stores for day in settling_days(store)})
    runs = [{"run_id": run.run_id, "job": run.job_name,
             "status": "INTERRUPTED" if interrupted(run) else run.status.value}
            for run in instance.get_runs(limit=5)]
    return {"today": today.isoformat(), "landing_root": settings.landing_root, "streams": streams,
            "policies": per_policy, "due": due,
            "settling": {"days": settling, "settle_days": settings.settle_days},
            "warehouse": warehouse, "last_runs": runs}


def _days(days: list[str]) -> str:
    """The first and last of ``days`` (ISO texts, in order) as one day or a range."""
    return days[0] if days[0] == days[-1] else f"{days[0]} to {days[-1]}"


def print_status(report: dict, as_json: bool = False) -> None:
    """Print :func:`status` as JSON, or as the tables a person reads."""
    if as_json:
        print(json.dumps(report, indent=2))
        return
    print(f"landing zone {report['landing_root']} (today {report['today']} GMT)")
    tables = report["policies"] if len(report["policies"]) > 1 else {"": report["streams"]}
    for policy, streams in tables.items():
        if policy:
            print(f" policy {policy}")
        print(f"  {'stream':<22}{'latest':<12}{'behind':>7}{'partitions':>11}{'rows':>10}{'quarantined':>12}")
        for name, s in streams.items():
            behind = "" if s["days_behind"] is None else str(s["days_behind"])
            print(f"  {name:<22}{s['latest'] or 'never':<12}{behind:>7}{s['partitions']:>11}{s['rows']:>10,}"
                  f"{s['quarantined']:>12,}")
    settling = report["settling"]["days"]
    if settling:
        print(f"settling: {len(settling)} landed day{'s' if len(settling) > 1 else ''} ({_days(settling)}) listed "
              f"again each night until {report['settling']['settle_days']} days old, for records the API shows late")
    if report["due"]:
        print("due (run `cofasync sync`)")
        for d in report["due"]:
            again = f" ({d['settling_days']} settling, listed again)" if d["settling_days"] else ""
            policies = f" (policy {', '.join(d['policies'])})" if d["policies"] else ""
            print(f"  {_days([d['first'], d['last']])}: {', '.join(d['streams'])}{again}{policies}")
    warehouse = report["warehouse"]
    if "error" in warehouse:
        print(f"warehouse {warehouse['url']}: {warehouse['error']}")
    else:
        print(f"warehouse {warehouse['url']}")
        for table, count in warehouse["tables"].items():
            print(f"  {table:<28}{count:>10,}")
    print("last runs")
    for run in report["last_runs"]:
        note = "  (its process ended without finishing: killed? the next sync closes it)" \
            if run["status"] == "INTERRUPTED" else ""
        print(f"  {run['run_id'][:8]}  {run['job']:<26}{run['status']}{note}")
    if not report["last_runs"]:
        print("  none yet")
