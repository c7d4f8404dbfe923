"""Asset-check-ready data checks on a built warehouse (plain functions, structured results).

Each check runs read-only SQL on a connection and returns a `CheckResult`: passed or not, how many
rows fail, and a few of them. Severity `error` marks broken invariants, `warn` a state worth a look
(for instance a notification whose delivery has not been fetched yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .models import Model, models_by_name
from .sql import compose

SAMPLE_ROWS = 5
SCD2_TABLES = ("decision_history", "order_history", "overdue_history", "company_history")
CLOSING_KINDS = ("deleted", "aged_out")


@dataclass(frozen=True)
class CheckDeclaration:
    """One check on one table: what it verifies and how bad a failure is ('error' or 'warn')."""

    check: str
    table: str
    detail: str
    severity: str = "error"


CATALOG: tuple[CheckDeclaration, ...] = (
    *(CheckDeclaration("one_current_version", table, "exactly one current version per key") for table in SCD2_TABLES),
    *(CheckDeclaration("no_overlapping_validity", table, "validity intervals of a key never overlap")
      for table in SCD2_TABLES),
    CheckDeclaration("temporary_numbers_mapped", "easy_number_map", "every temporary number the API resolved is mapped"),
    CheckDeclaration("history_keyed_by_definitive_number", "easy_number_map",
                     "no history row is keyed by a temporary number that has a definitive one"),
    CheckDeclaration("unambiguous_resolution", "easy_number_map",
                     "each temporary number resolves to one definitive number", "warn"),
    CheckDeclaration("row_counts_reconcile", "decision_history",
                     "one decision version per delivery in staging, and no other"),
    CheckDeclaration("one_version_per_delivery", "decision_history", "no delivery appears in two versions"),
    CheckDeclaration("row_counts_reconcile", "order_history", "every staged order has history, and no other"),
    CheckDeclaration("row_counts_reconcile", "overdue_history", "every staged overdue case has history, and no other"),
    CheckDeclaration("row_counts_reconcile", "company_history", "every staged company has history, and no other"),
    CheckDeclaration("notifications_have_decisions", "notification_events",
                     "every notification's delivery is in decision_history (a warning: its delivery may be "
                     "fetched by a later night)", "warn"),
    CheckDeclaration("unique_notifications", "notification_events", "each notification was landed in one partition only"),
    CheckDeclaration("fx_rates_cover_amounts", "current_portfolio",
                     "every amount in force converts into its policy's currency (a warning: COFASYNC_FX_RATES "
                     "names no file, or none with a quote of the as-of day's week for that currency)", "warn"),
)
"""Every check the warehouse runs, on which table: the one list the results follow (and Dagster's check
specs are declared from)."""
_DECLARED = {(d.check, d.table): d for d in CATALOG}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one table: `passed`, how many rows fail (`failing`) and a few of
    them (`sample`), what it verifies (`detail`), `severity` ('error' or 'warn')."""

    check: str
    table: str
    passed: bool
    failing: int
    detail: str
    severity: str = "error"
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Unique among the results: `check[table]`."""
        return f"{self.check}[{self.table}]"


def _entity_key(model: Model) -> list[str]:
    return [k for k in model.key if k != "version_no"]


def _run(conn: Connection, check: str, table: str, sql: str, detail: str | None = None) -> CheckResult:
    declared = _DECLARED[(check, table)]
    rows = [dict(r._mapping) for r in conn.execute(sa.text(sql))]
    return CheckResult(
        check=check, table=table, passed=not rows, failing=len(rows), detail=detail or declared.detail,
        severity=declared.severity, sample=rows[:SAMPLE_ROWS],
    )


def _keys_template(columns: list[str], template: str, **names: str) -> str:
    placeholders = {f"k{i}": column for i, column in enumerate(columns)}
    key_list = ", ".join("{" + p + "}" for p in placeholders)
    return compose(template.replace("{keys}", key_list), **names, **placeholders)


def check_one_current_version(conn: Connection, table: str) -> CheckResult:
    """Every key of an SCD2 table has exactly one current version (is_current and valid_to null agree)."""
    keys = _entity_key(models_by_name()[table])
    sql = _keys_template(
        keys,
        "select {keys}, count(*) as versions, "
        "sum(case when is_current then 1 else 0 end) as current_versions, "
        "sum(case when valid_to is null then 1 else 0 end) as open_versions "
        "from {table} group by {keys} "
        "having sum(case when is_current then 1 else 0 end) <> 1 "
        "or sum(case when valid_to is null then 1 else 0 end) <> 1 "
        "or sum(case when is_current and valid_to is null then 1 else 0 end) <> 1",
        table=models_by_name()[table].qualified,
    )
    return _run(conn, "one_current_version", table, sql, f"exactly one current version per ({', '.join(keys)})")


def check_no_overlapping_validity(conn: Connection, table: str) -> CheckResult:
    """No two versions of a key overlap: each starts no earlier than the previous one ends, and each
    interval is well ordered (valid_to >= valid_from)."""
    keys = _entity_key(models_by_name()[table])
    sql = _keys_template(
        keys,
        "select * from (select {keys}, version_no, valid_from, valid_to, "
        "lag(valid_to) over (partition by {keys} order by version_no) as previous_valid_to, "
        "row_number() over (partition by {keys} order by version_no) as position "
        "from {table}) as versions "
        "where valid_to < valid_from "
        "or (position > 1 and (previous_valid_to is null or previous_valid_to > valid_from))",
        table=models_by_name()[table].qualified,
    )
    return _run(conn, "no_overlapping_validity", table, sql)


_RESOLVED_NOT_MAPPED = """
select evidence.policy_number, evidence.temporary_easy_number, evidence.easy_number
from (
    select policy_number, temporary_easy_number, easy_number from staging.stg_deliveries
    union select policy_number, temporary_easy_number, easy_number from staging.stg_orders
    union select policy_number, temporary_easy_number, easy_number from staging.stg_order_polls
    union select policy_number, temporary_easy_number, easy_number from staging.stg_portfolio
    union select policy_number, temporary_easy_number, easy_number from staging.stg_portfolio_snapshot
) as evidence
left join history.easy_number_map as number_map
    on number_map.policy_number = evidence.policy_number
    and number_map.temporary_easy_number = evidence.temporary_easy_number
where evidence.temporary_easy_number like 'Z%'
    and evidence.easy_number not like 'Z%'
    and number_map.temporary_easy_number is null
"""

# a history row of a policy keyed by a Z number that policy's map resolves
_KEYED_BY_TEMPORARY = """
select 'decision_history' as table_name, easy_number from history.decision_history as keyed
where exists (select 1 from history.easy_number_map as m
              where m.policy_number = keyed.policy_number and m.temporary_easy_number = keyed.easy_number)
union all
select 'order_history', easy_number from history.order_history as keyed
where exists (select 1 from history.easy_number_map as m
              where m.policy_number = keyed.policy_number and m.temporary_easy_number = keyed.easy_number)
union all
select 'overdue_history', easy_number from history.overdue_history as keyed
where exists (select 1 from history.easy_number_map as m
              where m.policy_number = keyed.policy_number and m.temporary_easy_number = keyed.easy_number)
union all
select 'company_history', easy_number from history.company_history as keyed
where exists (select 1 from history.easy_number_map as m
              where m.policy_number = keyed.policy_number and m.temporary_easy_number = keyed.easy_number)
"""


def check_temporary_numbers_mapped(conn: Connection) -> list[CheckResult]:
    """Every Z number the API resolved (a record carrying both numbers) is in easy_number_map, no
    history is keyed by a mapped Z number, and no Z number resolves to two definitive numbers."""
    return [
        _run(conn, "temporary_numbers_mapped", "easy_number_map", _RESOLVED_NOT_MAPPED),
        _run(conn, "history_keyed_by_definitive_number", "easy_number_map", _KEYED_BY_TEMPORARY),
        _run(conn, "unambiguous_resolution", "easy_number_map",
             "select policy_number, temporary_easy_number, candidate_count from history.easy_number_map "
             "where candidate_count > 1"),
    ]


_DECISIONS_RECONCILE = """
select staged.policy_number, staged.delivery_id as staged_delivery_id, history.delivery_id as history_delivery_id
from (
    select policy_number, delivery_id from staging.stg_deliveries
    union select policy_number, delivery_id from staging.stg_portfolio where delivery_id is not null
    union select policy_number, delivery_id from staging.stg_portfolio_snapshot where delivery_id is not null
) as staged
full outer join (
    select policy_number, delivery_id from history.decision_history where delivery_id is not null
) as history
    on history.policy_number = staged.policy_number and history.delivery_id = staged.delivery_id
where staged.delivery_id is null or history.delivery_id is null
"""

_DECISION_DUPLICATES = """
select policy_number, delivery_id, count(*) as versions from history.decision_history
where delivery_id is not null group by policy_number, delivery_id having count(*) > 1
"""

_ENTITIES_RECONCILE = """
select staged.{column} as staged_{column}, history.{column} as history_{column}
from (select distinct policy_number, {column} from {staging}) as staged
full outer join (select distinct policy_number, {column} from {table}) as history
    on history.policy_number = staged.policy_number and history.{column} = staged.{column}
where staged.{column} is null or history.{column} is null
"""

_ORDERS_RECONCILE = """
select staged.order_id as staged_order_id, history.order_id as history_order_id
from (
    select policy_number, order_id from staging.stg_orders
    union select policy_number, order_id from staging.stg_order_polls
) as staged
full outer join (select distinct policy_number, order_id from history.order_history) as history
    on history.policy_number = staged.policy_number and history.order_id = staged.order_id
where staged.order_id is null or history.order_id is null
"""

_COMPANIES_RECONCILE = """
select staged.easy_number as staged_easy_number, history.easy_number as history_easy_number
from (
    select distinct listed.policy_number, coalesce(number_map.easy_number, listed.easy_number) as easy_number
    from (
        select policy_number, easy_number from staging.stg_portfolio
        union select policy_number, easy_number from staging.stg_portfolio_snapshot
    ) as listed
    left join history.easy_number_map as number_map
        on number_map.policy_number = listed.policy_number
        and number_map.temporary_easy_number = listed.easy_number
) as staged
full outer join (select distinct policy_number, easy_number from history.company_history) as history
    on history.policy_number = staged.policy_number and history.easy_number = staged.easy_number
where staged.easy_number is null or history.easy_number is null
"""


def check_row_counts_reconcile(conn: Connection) -> list[CheckResult]:
    """History holds exactly what staging holds: one decision version per staged delivery, every
    staged order, overdue case and company, and nothing else."""
    return [
        _run(conn, "row_counts_reconcile", "decision_history", _DECISIONS_RECONCILE),
        _run(conn, "one_version_per_delivery", "decision_history", _DECISION_DUPLICATES),
        _run(conn, "row_counts_reconcile", "order_history", _ORDERS_RECONCILE),
        _run(conn, "row_counts_reconcile", "overdue_history",
             compose(_ENTITIES_RECONCILE, column="overdue_id", staging="staging.stg_overdues",
                     table="history.overdue_history")),
        _run(conn, "row_counts_reconcile", "company_history", _COMPANIES_RECONCILE),
    ]


def check_notifications_have_decisions(conn: Connection) -> CheckResult:
    """Every notified decision has its version in decision_history (warn: its delivery may be pending)."""
    sql = "select notification_id, external_id from marts.notification_events where not has_decision_version"
    return _run(conn, "notifications_have_decisions", "notification_events", sql)


def check_unique_notifications(conn: Connection) -> CheckResult:
    """Each notification is one row of notification_events (it was landed in one partition only)."""
    sql = ("select policy_number, notification_id, count(*) as copies from marts.notification_events "
           "group by policy_number, notification_id having count(*) > 1")
    return _run(conn, "unique_notifications", "notification_events", sql)


_UNCONVERTED = """
select policy_number, amount_currency, policy_currency, count(*) as amounts
from marts.current_portfolio
where amount_value is not null and amount_policy_currency is null
group by policy_number, amount_currency, policy_currency
order by policy_number, amount_currency
"""


def check_fx_rates_cover_amounts(conn: Connection) -> CheckResult:
    """Every amount of `current_portfolio` has its policy-currency value: a missing FX rate gives NULL,
    and this warning names the policy and currencies."""
    return _run(conn, "fx_rates_cover_amounts", "current_portfolio", _UNCONVERTED)


def run_all_checks(conn: Connection) -> list[CheckResult]:
    """All checks, in a stable order."""
    results: list[CheckResult] = []
    for table in SCD2_TABLES:
        results.append(check_one_current_version(conn, table))
        results.append(check_no_overlapping_validity(conn, table))
    results.extend(check_temporary_numbers_mapped(conn))
    results.extend(check_row_counts_reconcile(conn))
    results.append(check_notifications_have_decisions(conn))
    results.append(check_unique_notifications(conn))
    results.append(check_fx_rates_cover_amounts(conn))
    return results
