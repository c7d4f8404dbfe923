"""What one `cofasync sync` or `backfill` did, read from the Dagster runs it launched: per stream the days,
rows and quarantined records this command landed, the API calls per endpoint, and the checks that did
not pass, for the summary the command prints (and scripts read with ``--json``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class StreamFigures:
    """What the command landed of one stream (all its runs together)."""

    days: int = 0
    rows: int = 0
    quarantined: int = 0


@dataclass
class CheckOutcome:
    """An asset check that did not pass: its asset, name, severity (WARN or ERROR) and description."""

    asset: str
    check: str
    severity: str
    description: str


@dataclass
class SyncReport:
    """The figures of the runs one command launched (see :meth:`add`)."""

    streams: dict[str, StreamFigures] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    retries: int = 0
    http_429: int = 0
    checks: list[CheckOutcome] = field(default_factory=list)
    runs: list[tuple[str, str, bool]] = field(default_factory=list)  # (label, run id, succeeded)

    def add(self, label: str, result) -> None:
        """Add the figures of one finished run (a Dagster ``ExecuteInProcessResult``). A range run
        emits one materialization per partition, each with the run's ``run_`` figures: counted once."""
        self.runs.append((label, result.run_id, result.success))
        seen: dict[str, dict] = {}
        for event in result.get_asset_materialization_events():
            materialization = event.materialization
            seen.setdefault(materialization.asset_key.to_user_string(),
                            {k: v.value for k, v in materialization.metadata.items()})
        for asset, metadata in seen.items():
            if "run_rows_landed" not in metadata:
                continue  # a warehouse table, not a landed stream
            figures = self.streams.setdefault(asset, StreamFigures())
            figures.days += int(metadata.get("run_days", 0))
            figures.rows += int(metadata.get("run_rows_landed", 0))
            figures.quarantined += int(metadata.get("run_rows_quarantined", 0))
            self.calls.update(metadata.get("run_api_requests_by_endpoint") or {})
            self.retries += int(metadata.get("run_api_retries", 0))
            self.http_429 += int(metadata.get("run_api_http_429", 0))
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                self.checks.append(CheckOutcome(evaluation.asset_key.to_user_string(), evaluation.check_name,
                                                evaluation.severity.value, evaluation.description or ""))

    @property
    def api_calls(self) -> int:
        """The API calls of every run (logins included)."""
        return sum(self.calls.values())

    def lines(self) -> list[str]:
        """The summary as lines of text: what changed, the calls, the checks, where to look."""
        out = ["  landed by this command:"]
        if self.streams:
            width = max(len(name) for name in self.streams)
            out.append(f"    {'stream':<{width}}  {'days':>6}  {'rows':>10}  {'quarantined':>11}")
            for name, f in self.streams.items():
                out.append(f"    {name:<{width}}  {f.days:>6,}  {f.rows:>10,}  {f.quarantined:>11,}")
        else:
            out.append("    nothing (every stream was up to date)")
        by_endpoint = ", ".join(f"{endpoint} {n:,}" for endpoint, n in self.calls.most_common())
        out.append(f"  API calls: {self.api_calls:,}" + (f" ({by_endpoint})" if by_endpoint else "")
                   + f"; retries {self.retries:,}; 429 answers {self.http_429:,}")
        if self.checks:
            out.append(f"  checks that did not pass: {len(self.checks)}")
            out += [f"    {c.severity:<5} {c.asset} {c.check}" + (f": {c.description}" if c.description else "")
                    for c in self.checks]
            out.append("    details: `make ui` (the asset's Checks tab), or `cofasync status`")
        else:
            out.append("  checks: every check passed")
        return out

    def as_dict(self) -> dict:
        """The report as plain data (for ``--json``)."""
        return {
            "streams": {name: vars(f) for name, f in self.streams.items()},
            "api_calls": {"total": self.api_calls, "by_endpoint": dict(self.calls), "retries": self.retries,
                          "http_429": self.http_429},
            "failed_checks": [vars(c) for c in self.checks],
            "runs": [{"label": label, "run_id": run_id, "success": ok} for label, run_id, ok in self.runs],
        }
