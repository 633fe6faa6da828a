"""The brand KPIs' DynamoDB half: the aggregator the table's change stream feeds, and the daily counters it keeps.

| item                          | pk                                    | sk            |
| day counters, one shard       | BRAND#b#KPI#<shard>                   | DAY#<date>    | `m:<metric>` numbers, ADDed to
| a stream record applied       | KPISEEN#<record id>                   | SEEN          | TTL: 2 days (a stream keeps 24 h)
| counted once a day (active)   | BRAND#b#KPIDISTINCT#<date>#<key>      | <metric>      | TTL: 400 days after the day
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
# A once-a-day key outlives any event that can still be applied for its day (events older than
# SIYU_EVENT_MAX_AGE_DAYS, 30 by default, are refused).
DISTINCT_FOR = timedelta(days=400)
ATTEMPTS = 8
GROUP = 33  # records per transaction (about three items each)
MAX_ITEMS = 100  # what one TransactWriteItems takes
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
    everything after it: the stream hands them again, and those already applied are recognised by their marker).

    Records are applied a group at a time (one transaction for up to `GROUP` records, their counters merged); a
    group holding a record counted before is applied record by record, each one's marker deciding."""
    contributors = _contributors()
    pending, unreadable = [], None
    for index, change in enumerate(changes):
        try:
            found = _contributions(change, contributors)
        except Exception:  # an image a contributor cannot read: reported (and retried), never skipped
            logger.exception("insights: stream record %s not understood", change.record_id)
            unreadable = index
            break
        if found:
            pending.append((change, found))
    done = 0
    while done < len(pending):
        group = pending[done:done + GROUP]
        try:
            applied = _apply(store, group)
        except Exception:
            logger.exception("insights: stream record %s not applied", group[0][0].record_id)
            first = changes.index(group[0][0])
            return [c.sequence for c in changes[first:]]
        done += applied
    return [] if unreadable is None else [c.sequence for c in changes[unreadable:]]


def _contributions(change: Change, contributors: Mapping[str, list[Callable[..., Iterable[Any]]]]) -> list[Any]:
    image = change.new or change.old or {}
    return [c for contribute in contributors.get(str(image.get("type")), ())
            for c in contribute(change.old, change.new, change.at)]


class _Redelivered(Exception):
    """Records of the group were counted before (their markers exist)."""

    def __init__(self, record_ids: set[str]) -> None:
        super().__init__(sorted(record_ids))
        self.record_ids = record_ids


def _apply(store: Any, group: list[tuple[Change, list[Any]]]) -> int:
    """Apply the group (or as much of its start as fits one transaction); how many records were dealt with."""
    size = len(group)
    while group:
        try:
            _commit(store, group)
            return size
        except _TooBig:
            group = group[:len(group) // 2]
            size = len(group)
        except _Redelivered as seen:
            # Counted before (a redelivered batch): the others are applied without them.
            group = [(change, found) for change, found in group if change.record_id not in seen.record_ids]
    return size


class _TooBig(Exception):
    """More items than one transaction takes."""


def _commit(store: Any, group: list[tuple[Change, list[Any]]]) -> None:
    dropped: set[tuple[str, str]] = set()
    client = db.client()
    for _ in range(ATTEMPTS):
        plan = _plan(store, group, dropped, client)
        if len(plan.items) > MAX_ITEMS and len(group) > 1:
            raise _TooBig()
        try:
            client.transact_write_items(TransactItems=plan.items)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            failed = [role for role, reason in zip(plan.roles, reasons)
                      if reason.get("Code") == "ConditionalCheckFailed"]
            seen = {record_id for kind, record_id in failed if kind == "seen"}
            if seen:
                raise _Redelivered(seen) from None
            # A key already counted that day drops out of these counts; a purchase state that moved on (another
            # record of the member's, on another shard of the stream) is read again.
            dropped |= {key for kind, key in failed if kind == "distinct"}
    raise WriteConflict("insights: the records' counters kept moving")


def _plan(store: Any, group: list[tuple[Change, list[Any]]], dropped: set, client: Any) -> _Plan:
    zones: dict[str, str] = {}

    def day_of(brand_id: str, at: datetime) -> date:
        if brand_id not in zones:
            brand = store.get_brand(brand_id)
            zones[brand_id] = brand.timezone if brand else "Asia/Shanghai"
        return local_day(at, zones[brand_id])

    plan = _Plan()
    deltas: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    purchases = _load_purchases(group, client)
    claimed: set[tuple[str, str]] = set()
    for change, found in group:
        plan.put(("seen", change.record_id), {"pk": _s(f"KPISEEN#{change.record_id}"), "sk": _s("SEEN"),
                                  "type": _s("kpi_seen"), "ttl": _epoch(change.at + SEEN_FOR)},
                 "attribute_not_exists(pk)")
        counts: list[Count] = []
        for c in found:
            counts += _purchase(purchases, c, client) if isinstance(c, Purchase) else [c]
        for c in counts:
            day = day_of(c.brand_id, c.at)
            if c.distinct is not None:
                key = (f"BRAND#{c.brand_id}#KPIDISTINCT#{day.isoformat()}#{c.distinct}", c.metric)
                if key in dropped or key in claimed:
                    continue
                claimed.add(key)
                expires = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + DISTINCT_FOR
                plan.put(("distinct", key), {"pk": _s(key[0]), "sk": _s(key[1]), "type": _s("kpi_distinct"),
                                             "ttl": _epoch(expires)}, "attribute_not_exists(pk)")
            deltas[(c.brand_id, day)][model.stored_metric(c)] += c.delta
    for state in purchases.values():
        state.write(plan)
    shard = _shard(group[0][0].record_id)
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
    return plan


class _Purchases:
    """A member's first two orders: as read (and its version), and as the group's orders leave them."""

    def __init__(self, key: dict[str, Any], item: Mapping[str, Any] | None) -> None:
        self.key = key
        self.version = int(item["version"]["N"]) if item else None
        self.read = (_time(item, "first"), _time(item, "second")) if item else (None, None)
        self.now = self.read

    def write(self, plan: _Plan) -> None:
        if self.now == self.read:
            return
        first, second = self.now
        state = {**self.key, "type": _s("kpi_purchases"), "version": _n((self.version or 0) + 1),
                 "first": _s(first.isoformat())}
        if second is not None:
            state["second"] = _s(second.isoformat())
        if self.version is None:
            plan.put(("purchase", None), state, "attribute_not_exists(pk)")
        else:
            plan.put(("purchase", None), state, "version = :v", {":v": _n(self.version)})


def _purchases_pk(purchase: Purchase) -> str:
    return f"BRAND#{purchase.brand_id}#MEMBER#{purchase.member_id}#KPI"


def _load_purchases(group: list[tuple[Change, list[Any]]], client: Any) -> dict[str, _Purchases]:
    """The purchase states of the group's members, in one strongly consistent BatchGetItem."""
    pks = sorted({_purchases_pk(c) for _, found in group for c in found if isinstance(c, Purchase)})
    found: dict[str, Mapping[str, Any]] = {}
    keys = [{"pk": _s(pk), "sk": _s("PURCHASES")} for pk in pks]
    while keys:
        answer = client.batch_get_item(RequestItems={_table(): {"Keys": keys, "ConsistentRead": True}})
        for item in answer.get("Responses", {}).get(_table(), []):
            found[item["pk"]["S"]] = item
        keys = answer.get("UnprocessedKeys", {}).get(_table(), {}).get("Keys", [])
    return {pk: _Purchases({"pk": _s(pk), "sk": _s("PURCHASES")}, found.get(pk)) for pk in pks}


def _purchase(purchases: dict[str, _Purchases], purchase: Purchase, client: Any) -> list[Count]:
    """The cohort deltas of one more order of the member's (read once per group, written once)."""
    state = purchases[_purchases_pk(purchase)]
    before = state.now
    after = model.two_earliest(*before, purchase.at)
    if after == before:
        return []  # a third order or later: the cohort is settled
    state.now = after
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
