"""The brand KPIs' DynamoDB half: the aggregator the table's change stream feeds, and the daily counters it keeps.

| item                          | pk                                    | sk            |
| day counters, one shard       | BRAND#b#KPI#<shard>                   | DAY#<date>    | `m:<metric>` numbers, ADDed to
| a stream record applied       | KPISEEN#<record id>                   | SEEN          | TTL: 2 days (a stream keeps 24 h)
| counted once a day (active)   | BRAND#b#KPIDISTINCT#<date>#<key>      | <metric>      | TTL: 2 days after the day
| a member's first two orders   | BRAND#b#MEMBER#m#KPI                  | PURCHASES     | versioned
|                               |                                       |               |

Each stream record that contributes anything is applied by ONE TransactWriteItems: its marker (which must not
exist: a redelivered record then changes nothing), the once-a-day keys it claims, the member's purchase state
(conditioned on the version read) and the ADDs to the day counters. A day's counters are spread over `SHARDS`
items by record, so no single item takes every write of a busy brand's day; reading a range is one Query per shard.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from botocore.exceptions import ClientError

from infra import db
from infra.models import SiyuItem
from infra.stream import Change
from plugins.insights import model
from rules.errors import WriteConflict
from rules.family import families
from rules.kpis import Count, Purchase
from rules.months import local_day

logger = logging.getLogger("siyu.insights")

SHARDS = 8
SEEN_FOR = timedelta(days=2)
ATTEMPTS = 8
_METRIC = "m:"


def counter_pk(brand_id: str, shard: int) -> str:
    return f"BRAND#{brand_id}#KPI#{shard}"


def day_sk(day: date) -> str:
    return f"DAY#{day.isoformat()}"


def _shard(record_id: str) -> int:
    return int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16) % SHARDS


def _contributors() -> dict[str, list[Callable[..., Iterable[Any]]]]:
    found: dict[str, list[Callable[..., Iterable[Any]]]] = defaultdict(list)
    for module in families().modules("kpis"):
        for kind, contribute in getattr(module, "CONTRIBUTIONS", {}).items():
            found[kind].append(contribute)
    return found


def _table() -> str:
    return SiyuItem.Meta.table_name


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


def _epoch(at: datetime) -> dict[str, str]:
    return _n(int(at.timestamp()))


class _Plan:
    """One record's transaction, item by item with the role of each (to read a cancellation by)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.roles: list[tuple[str, Any]] = []

    def put(self, role: tuple[str, Any], item: dict[str, Any], condition: str, values: Mapping | None = None):
        put = {"TableName": _table(), "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = dict(values)
        self.items.append({"Put": put})
        self.roles.append(role)


def consume_changes(store: Any, changes: list[Change]) -> list[str]:
    """Apply a batch of stream records in order; the sequence numbers of those not applied (the first failure and
    everything after it: the stream hands them again, and those already applied are recognised by their marker)."""
    contributors = _contributors()
    for index, change in enumerate(changes):
        try:
            apply_change(store, change, contributors)
        except Exception:
            logger.exception("insights: stream record %s not applied", change.record_id)
            return [c.sequence for c in changes[index:]]
    return []


def apply_change(store: Any, change: Change, contributors: Mapping[str, list[Callable[..., Iterable[Any]]]]) -> bool:
    """Count one stream record once; False when it counts nothing or was counted before."""
    image = change.new or change.old or {}
    found = [c for contribute in contributors.get(str(image.get("type")), ())
             for c in contribute(change.old, change.new, change.at)]
    if not found:
        return False
    dropped: set[tuple[str, str]] = set()
    client = db.client()
    for _ in range(ATTEMPTS):
        plan = _plan(store, change, found, dropped, client)
        if plan is None:
            return False
        try:
            client.transact_write_items(TransactItems=plan.items)
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            failed = [role for role, reason in zip(plan.roles, reasons)
                      if reason.get("Code") == "ConditionalCheckFailed"]
            if any(kind == "seen" for kind, _ in failed):
                return False  # this record was counted before: a redelivered batch
            # A key already counted that day drops out of this record's counts; a purchase state that moved on
            # (another record of the member's, on another shard of the stream) is read again.
            dropped |= {key for kind, key in failed if kind == "distinct"}
    raise WriteConflict("insights: the record's counters kept moving")


def _plan(store: Any, change: Change, found: list[Any], dropped: set, client: Any) -> _Plan | None:
    zones: dict[str, str] = {}

    def day_of(brand_id: str, at: datetime) -> date:
        if brand_id not in zones:
            brand = store.get_brand(brand_id)
            zones[brand_id] = brand.timezone if brand else "Asia/Shanghai"
        return local_day(at, zones[brand_id])

    plan = _Plan()
    plan.put(("seen", None), {"pk": _s(f"KPISEEN#{change.record_id}"), "sk": _s("SEEN"), "type": _s("kpi_seen"),
                              "ttl": _epoch(change.at + SEEN_FOR)}, "attribute_not_exists(pk)")
    deltas: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: list[Count] = []
    for c in found:
        if isinstance(c, Purchase):
            counts += _purchase(plan, c, client)
        else:
            counts.append(c)
    for c in counts:
        day = day_of(c.brand_id, c.at)
        if c.distinct is not None:
            key = (f"BRAND#{c.brand_id}#KPIDISTINCT#{day.isoformat()}#{c.distinct}", c.metric)
            if key in dropped:
                continue
            plan.put(("distinct", key), {"pk": _s(key[0]), "sk": _s(key[1]), "type": _s("kpi_distinct"),
                                         "ttl": _epoch(datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
                                                       + SEEN_FOR)},
                     "attribute_not_exists(pk)")
        deltas[(c.brand_id, day)][model.stored_metric(c)] += c.delta
    shard = _shard(change.record_id)
    updates = 0
    for (brand_id, day), metrics in deltas.items():
        metrics = {m: d for m, d in metrics.items() if d}
        if not metrics:
            continue
        names = {f"#m{i}": _METRIC + m for i, m in enumerate(metrics)}
        values = {f":m{i}": _n(d) for i, d in enumerate(metrics.values())}
        plan.items.append({"Update": {
            "TableName": _table(), "Key": {"pk": _s(counter_pk(brand_id, shard)), "sk": _s(day_sk(day))},
            "UpdateExpression": "ADD " + ", ".join(f"#m{i} :m{i}" for i in range(len(metrics))) + " SET #t = :t",
            "ExpressionAttributeNames": {**names, "#t": "type"},
            "ExpressionAttributeValues": {**values, ":t": _s("kpi_day")},
        }})
        plan.roles.append(("counter", (brand_id, day)))
        updates += 1
    if updates == 0 and not any(kind == "purchase" for kind, _ in plan.roles):
        return None
    return plan


def _purchase(plan: _Plan, purchase: Purchase, client: Any) -> list[Count]:
    """The member's first two orders with this one, written back under the version read; the cohort deltas."""
    key = {"pk": _s(f"BRAND#{purchase.brand_id}#MEMBER#{purchase.member_id}#KPI"), "sk": _s("PURCHASES")}
    item = client.get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
    version = int(item["version"]["N"]) if item else 0
    before = (_time(item, "first"), _time(item, "second")) if item else (None, None)
    after = model.two_earliest(*before, purchase.at)
    if after == before:
        return []  # a third order or later: the cohort is settled
    state = {**key, "type": _s("kpi_purchases"), "version": _n(version + 1), "first": _s(after[0].isoformat())}
    if after[1] is not None:
        state["second"] = _s(after[1].isoformat())
    if item:
        plan.put(("purchase", None), state, "version = :v", {":v": _n(version)})
    else:
        plan.put(("purchase", None), state, "attribute_not_exists(pk)")
    return model.cohort_change(purchase.brand_id, before, after)


def _time(item: Mapping[str, Any], name: str) -> datetime | None:
    value = item.get(name, {}).get("S")
    return datetime.fromisoformat(value) if value else None


class Storage:
    """What the store gains: the day counters of a brand, summed over their shards."""

    def kpi_days(self, brand_id: str, start: date, end: date) -> list[tuple[date, dict[str, int]]]:
        """Every shard's counters from `start` to `end` (`start` None: from the first day, for distributions)."""
        client = db.client()
        rows = []
        for shard in range(SHARDS):
            condition = "pk = :p AND sk BETWEEN :a AND :b"
            values = {":p": _s(counter_pk(brand_id, shard)), ":a": _s(day_sk(start)), ":b": _s(day_sk(end))}
            kwargs: dict[str, Any] = {"TableName": _table(), "KeyConditionExpression": condition,
                                      "ExpressionAttributeValues": values}
            while True:
                page = client.query(**kwargs)
                for item in page.get("Items", []):
                    day = date.fromisoformat(item["sk"]["S"].removeprefix("DAY#"))
                    rows.append((day, {name[len(_METRIC):]: int(value["N"]) for name, value in item.items()
                                       if name.startswith(_METRIC)}))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return rows
