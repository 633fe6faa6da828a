"""Read and write units of the DynamoDB requests a client really sends, from the real item sizes, by AWS's rules.

`CapacityMeter(client, looker)` hooks botocore's events on `client` (the one pynamodb uses, or any other): before a
write it reads the old image of every item the request targets, after the request the new image, and after a read
it reads again, with `looker` (a second client on the same endpoint, not metered), what the request *evaluated*:
DynamoDB charges a Query for every item its key condition reaches, filtered out or not, and a projection for the
whole item. The rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):

- item size: the UTF-8 bytes of each attribute name plus its value: a string its UTF-8 bytes, a number 1 byte per
  two significant digits plus 1, binary its bytes, null and boolean 1, a list or map 3 bytes plus 1 per element
  plus the elements (a map's element also its key's bytes), a set the sum of its elements;
- reads: 4 KB per read unit, rounded up per item for GetItem/BatchGetItem and per response for Query/Scan (the
  summed sizes of the items evaluated); eventually consistent half, transactional double; at least one unit
  (half, eventually consistent) even when nothing is found;
- writes: 1 KB per write unit of the larger of the item before and after (a delete: the item deleted), at least
  one; transactional double; a failed condition still costs its writes;
- a transaction's ConditionCheck: a transactional read of the checked item (2 read units per 4 KB);
- index writes (global and local alike, never transactional): 1 KB per unit of what the index holds of the new item (the whole item, or
  its keys and projected attributes, as the table's description says) when it has the index keys, plus the old
  item's copy when the keys changed or went away (a delete from the index); none when the index's copy of the item
  is unchanged (an update of attributes the index does not project);
- a Query of a local secondary index reads what the index holds of the items its key condition reaches (projected
  ALL: the whole item), strongly consistent when asked, like the table.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

READ_UNIT = 4096
WRITE_UNIT = 1024
_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def value_size(value: dict[str, Any]) -> int:
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(number_size(n) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def write_units(size: int, *, transactional: bool = False) -> int:
    units = max(1, math.ceil(size / WRITE_UNIT))
    return 2 * units if transactional else units


@dataclass
class Request:
    operation: str
    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    items_read: int = 0
    bytes_read: int = 0
    items_written: int = 0
    bytes_written: int = 0
    written: Counter = field(default_factory=Counter)  # bytes written by item kind (the sort key's prefix)
    read: Counter = field(default_factory=Counter)  # bytes read (evaluated) by item kind


@dataclass
class Measure:
    """What one operation cost: its requests, and the read/write units they consumed."""

    requests: list[Request] = field(default_factory=list)

    @property
    def by_operation(self) -> dict[str, int]:
        return dict(Counter(r.operation for r in self.requests))

    @property
    def request_count(self) -> int:
        return len(self.requests)

    @property
    def read_units(self) -> float:
        return sum(r.read_units for r in self.requests)

    @property
    def write_units(self) -> float:
        return sum(r.write_units for r in self.requests)

    @property
    def index_write_units(self) -> float:
        return sum(r.index_write_units for r in self.requests)

    @property
    def bytes_read(self) -> Counter:
        total: Counter = Counter()
        for r in self.requests:
            total.update(r.read)
        return total

    @property
    def bytes_written(self) -> Counter:
        total: Counter = Counter()
        for r in self.requests:
            total.update(r.written)
        return total


def _kind(key: dict[str, Any], sort_key: str | None) -> str:
    if not sort_key or sort_key not in key:
        return "?"
    text = next(iter(key[sort_key].values()))
    return re.split(r"[#0-9]", str(text), maxsplit=1)[0] or "time-keyed"


class CapacityMeter:
    """Meters every DynamoDB request `client` sends while a `measure()` is open (one thread at a time)."""

    def __init__(self, client, looker) -> None:
        self._client = client
        self._looker = looker
        self._tables: dict[str, tuple[list[str], list[tuple[str, str | None]]]] = {}
        self._current: Measure | None = None
        self._lock = threading.Lock()
        # CPU of the calling thread spent in the meter's own look-ups: a caller timing the metered code subtracts it.
        self.overhead = 0.0
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._before, unique_id="siyu-capacity-before")
        events.register("after-call.dynamodb", self._after, unique_id="siyu-capacity-after")

    def close(self) -> None:
        events = self._client.meta.events
        events.unregister("before-parameter-build.dynamodb", unique_id="siyu-capacity-before")
        events.unregister("after-call.dynamodb", unique_id="siyu-capacity-after")

    def measure(self) -> "_Measuring":
        return _Measuring(self)

    # ---- the table's keys and indexes --------------------------------------------------------------------------

    def _schema(self, table: str) -> tuple[list[str], list[tuple[str, str | None]]]:
        if table not in self._tables:
            described = self._looker.describe_table(TableName=table)["Table"]
            key = [k["AttributeName"] for k in sorted(described["KeySchema"], key=lambda k: k["KeyType"])]
            indexes = []
            # Global and local secondary indexes are priced alike: each write of an item that has the index's keys
            # costs 1 KB units of what the index copies, twice when the update moves it there.
            for index in described.get("GlobalSecondaryIndexes", []) + described.get("LocalSecondaryIndexes", []):
                parts = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
                projection = index.get("Projection", {})
                kind = projection.get("ProjectionType", "ALL")
                # None: the whole item; else the attributes the index copies besides the keys.
                projected = None if kind == "ALL" else set(projection.get("NonKeyAttributes", ()))
                indexes.append((parts["HASH"], parts.get("RANGE"), projected))
            self._tables[table] = (key, indexes)  # [HASH, RANGE]
        return self._tables[table]

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self._looker.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        names, _ = self._schema(table)
        return {n: item[n] for n in names if n in item}

    # ---- hooks ---------------------------------------------------------------------------------------------------

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(action, table, key) of every item a write request targets."""
        if operation in _WRITES:
            table = params["TableName"]
            key = params.get("Key") or self._key_of(table, params["Item"])
            return [(operation, table, key)]
        if operation == "TransactWriteItems":
            targets = []
            for entry in params["TransactItems"]:
                (action, body), = entry.items()
                key = body.get("Key") or self._key_of(body["TableName"], body["Item"])
                targets.append((action, body["TableName"], key))
            return targets
        if operation == "BatchWriteItem":
            targets = []
            for table, writes in params["RequestItems"].items():
                for write in writes:
                    (action, body), = write.items()
                    key = body.get("Key") or self._key_of(table, body["Item"])
                    targets.append((action, table, key))
            return targets
        return []

    def _before(self, params, model, context, **kwargs) -> None:
        if self._current is None:
            return
        started = time.thread_time()
        try:
            self._look_before(params, model, context)
        finally:
            self.overhead += time.thread_time() - started

    def _after(self, http_response, parsed, model, context, **kwargs) -> None:
        if self._current is None or "siyu_capacity" not in context:
            return
        started = time.thread_time()
        try:
            self._look_after(http_response, parsed, model, context)
        finally:
            self.overhead += time.thread_time() - started

    def _look_before(self, params, model, context) -> None:
        targets = self._targets(model.name, params)
        context["siyu_capacity"] = (params, [(a, t, k, self._get(t, k)) for a, t, k in targets])

    def _look_after(self, http_response, parsed, model, context) -> None:
        operation = model.name
        request = Request(operation)
        if operation in _READ_OPS:
            self._meter_read(request, operation, context["siyu_capacity"][0], parsed)
        else:
            params, targets = context["siyu_capacity"]
            transactional = operation == "TransactWriteItems"
            for action, table, key, old in targets:
                if action == "ConditionCheck":
                    size = item_size(old)
                    request.read_units += read_units(size, consistent=True, transactional=True)
                    request.items_read += 1
                    request.bytes_read += size
                    continue
                new = self._get(table, key) if http_response.status_code < 300 else old
                old_size, new_size = item_size(old), item_size(new)
                request.write_units += write_units(max(old_size, new_size), transactional=transactional)
                request.items_written += 1
                request.bytes_written += max(old_size, new_size)
                request.written[_kind(key, self._schema(table)[0][-1])] += max(old_size, new_size)
                request.index_write_units += self._index_writes(table, old, new)
        with self._lock:
            self._current.requests.append(request)

    def _index_writes(self, table: str, old: dict | None, new: dict | None) -> int:
        units = 0
        table_keys = self._schema(table)[0]
        for hash_key, range_key, projected in self._schema(table)[1]:
            def keys_of(item):
                if not item or hash_key not in item or (range_key and range_key not in item):
                    return None
                return (str(item[hash_key]), str(item.get(range_key)) if range_key else None)

            def copy_of(item):
                """What the index holds of the item: all of it, or its keys and the projected attributes."""
                if item is None or projected is None:
                    return item
                kept = {*table_keys, hash_key, range_key, *projected}
                return {name: value for name, value in item.items() if name in kept}

            before, after = keys_of(old), keys_of(new)
            if copy_of(old) == copy_of(new):
                continue  # nothing the index holds changed: no index write
            if after is not None:
                units += write_units(item_size(copy_of(new)))
            if before is not None and before != after:
                units += write_units(item_size(copy_of(old)))
        return units

    def _meter_read(self, request: Request, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        if operation == "GetItem":
            item = self._get(params["TableName"], params["Key"])
            size = item_size(item)
            request.read_units = read_units(size, consistent=bool(params.get("ConsistentRead")))
            request.items_read, request.bytes_read = (1 if item else 0), size
        elif operation == "BatchGetItem":
            unprocessed = parsed.get("UnprocessedKeys") or {}
            for table, wanted in params["RequestItems"].items():
                skipped = unprocessed.get(table, {}).get("Keys", [])
                for key in wanted["Keys"]:
                    if key in skipped:
                        continue
                    item = self._get(table, key)
                    size = item_size(item)
                    request.read_units += read_units(size, consistent=bool(wanted.get("ConsistentRead")))
                    request.items_read += 1 if item else 0
                    request.bytes_read += size
        elif operation == "TransactGetItems":
            for entry in params["TransactItems"]:
                body = entry["Get"]
                size = item_size(self._get(body["TableName"], body["Key"]))
                request.read_units += read_units(size, consistent=True, transactional=True)
                request.items_read += 1
                request.bytes_read += size
        elif operation in ("Query", "Scan"):
            evaluated = self._evaluated(operation, params)
            size = sum(item_size(i) for i in evaluated)
            sort_key = self._schema(params["TableName"])[0][-1]
            for item in evaluated:
                request.read[_kind(item, sort_key)] += item_size(item)
            request.read_units = read_units(size, consistent=bool(params.get("ConsistentRead")))
            request.items_read, request.bytes_read = len(evaluated), size

    def _evaluated(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The items the request's key condition (and Limit, and start key) reached: the same request, unfiltered."""
        again = {k: v for k, v in params.items()
                 if k not in ("FilterExpression", "ProjectionExpression", "Select", "AttributesToGet",
                              "ReturnConsumedCapacity", "QueryFilter", "ScanFilter")}
        used = " ".join(str(again.get(k, "")) for k in ("KeyConditionExpression",))
        if "ExpressionAttributeNames" in again:
            again["ExpressionAttributeNames"] = {k: v for k, v in again["ExpressionAttributeNames"].items()
                                                 if re.search(re.escape(k) + r"\b", used)}
            if not again["ExpressionAttributeNames"]:
                del again["ExpressionAttributeNames"]
        if "ExpressionAttributeValues" in again:
            again["ExpressionAttributeValues"] = {k: v for k, v in again["ExpressionAttributeValues"].items()
                                                  if re.search(re.escape(k) + r"\b", used)}
            if not again["ExpressionAttributeValues"]:
                del again["ExpressionAttributeValues"]
        call = self._looker.query if operation == "Query" else self._looker.scan
        return call(**again).get("Items", [])


_READ_OPS = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")


class _Measuring:
    def __init__(self, meter: CapacityMeter) -> None:
        self._meter = meter
        self.measure = Measure()

    def __enter__(self) -> Measure:
        self._meter._current = self.measure
        return self.measure

    def __exit__(self, *exc) -> None:
        self._meter._current = None
