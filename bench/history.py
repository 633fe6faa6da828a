"""A long member history written directly, as the engine would have left it (BatchWriteItem, no engine events):
thousands of past orders through the engine take too long on a shared machine, and what a read costs depends only
on the items the member's partitions hold."""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta, timezone
from typing import Any

from infra import keys, table
from infra.daily_totals import raw_days, raw_item
from infra.models import OrderItem
from rules import daily_totals, months
from rules.entry_codec import deflate
from rules.months import months_after

# DynamoDB deletes an item whose TTL has passed within about two days.
TTL_LAG = timedelta(days=2)


def _partition(client: Any, table_name: str, pk: str) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator("query").paginate(
        TableName=table_name, KeyConditionExpression="#p = :p", ExpressionAttributeNames={"#p": table.PK},
        ExpressionAttributeValues={":p": {"S": pk}}) for item in page["Items"]]


def _replaced(blob: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A packed JSON attribute (infra.models.PackedJSONAttribute) with one order id replaced by another."""
    return {"B": deflate(zlib.decompress(blob["B"]).replace(old.encode(), new.encode()))}


def clone_orders(client: Any, table_name: str, brand_id: str, member_id: str, *, template_order: str,
                 order_ids: list[str], before: datetime, spacing: timedelta = timedelta(minutes=1),
                 tz: str = "Asia/Shanghai") -> int:
    """For each of `order_ids`, a copy of what the engine wrote for the member's order `template_order`: the
    order's item (every plugin's markers about it, the order.paid event's effects and ledger entry, its place in
    the member's history), and a check-in's markers for every fifth order (at most one a day, and none DynamoDB's
    TTL would have deleted); dated `spacing` apart, ending just before `before`. What the template order added to
    daily totals (`AddToDailyTotal`, e.g. the `rolling12` tiers' growth by day) each copy adds to its own
    brand-local day (in `tz`), in the month items the engine keeps (those DynamoDB's TTL would have deleted left
    out). Returns how many items were written."""
    mpk, lpk = keys.member_pk(brand_id, member_id), keys.ledger_pk(brand_id, member_id)
    state, history = _partition(client, table_name, mpk), _partition(client, table_name, lpk)
    template_sk = keys.order_sk(keys.order_ref(template_order))
    order = next(i for i in history if i[table.SK]["S"] == template_sk)
    additions = _daily_additions(order)
    daily: dict[tuple[str, date], int] = {}
    visit = next((i for i in state if i[table.SK]["S"].startswith(keys.VISIT_MARKS)), None)
    visit_keep = timedelta(0)
    if visit is not None:
        visit_keep = (datetime.fromtimestamp(int(visit["ttl"]["N"]), timezone.utc)
                      - datetime.fromisoformat(visit["at"]["S"]))
    writes = []
    visited: set = set()
    for k, order_id in enumerate(order_ids):
        at = before - spacing * (len(order_ids) - k)
        for total, amount, _ in additions:
            day = months.local_day(at, tz)
            daily[(total, day)] = daily.get((total, day), 0) + amount
        event_id = f"clone-{order_id}"
        writes.append({**order, table.SK: {"S": keys.order_sk(keys.order_ref(order_id))},
                       table.TIME_SK: {"S": keys.time_sk(at, event_id)},
                       "m": _replaced(order["m"], template_order, order_id),
                       "fx": _replaced(order["fx"], template_order, order_id)})
        if (visit is not None and k % 5 == 4 and at.date() not in visited
                and at + visit_keep > before - TTL_LAG):
            # A check-in counts once a day, and its markers are kept two days: older ones DynamoDB's TTL has
            # deleted (within TTL_LAG).
            visited.add(at.date())
            writes.append({**visit, table.SK: {"S": keys.marker_group_sk(at, f"{event_id}-visit")},
                           "ttl": {"N": str(int((at + visit_keep).timestamp()))}})
    writes += _month_items(state, daily, {total: keep for total, _, keep in additions}, tz, before)
    for n in range(0, len(writes), 25):
        pending = {table_name: [{"PutRequest": {"Item": item}} for item in writes[n:n + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None
    return len(writes)


def grow_as_the_orders_did(store: Any, brand_id: str, member_id: str, *, template_order: str, orders: int,
                           at: datetime) -> None:
    """The member's growth and tier as `orders` more orders like `template_order` leave them (what the tiers
    plugin recorded for it, `tiers:order:<id>`'s growth, each time): a member with thousands of orders holds the
    tier they earned, so a measured order does not upgrade them (no tier.changed, no validity moved in the due
    index, no upgrade gift) as a member with cloned orders but the growth of ten would be."""
    state = store.load_member(brand_id, member_id, marks=None)
    brand = store.get_brand(brand_id)
    lpk = keys.ledger_pk(brand_id, member_id)
    marks = OrderItem.get(lpk, keys.order_sk(keys.order_ref(template_order)), consistent_read=True).marks or {}
    per_order = next((int((data or {}).get("growth", 0)) for key, (data, _) in marks.items()
                      if key.startswith("tiers:order:")), 0)
    profile = state.profile
    growth = profile.growth + per_order * orders
    reached = max((t for t in brand.tiers if t.threshold <= growth), key=lambda t: t.threshold)
    valid_until = profile.tier_valid_until
    if reached.code != profile.tier_code:
        validity = (brand.plugins.get("tiers") or {}).get("validityMonths", brand.tier_validity_months)
        valid_until = months_after(at, int(validity), brand.timezone)
    store.set_standing(profile, growth=growth, tier_code=reached.code, tier_valid_until=valid_until)


def _daily_additions(order: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(total, amount, keep_months) of each `AddToDailyTotal` the event that opened the order decided."""
    effects = OrderItem.from_raw_data(order).packed or []
    return [(e["total"], e["amount"], e["keep_months"]) for e in effects if e.get("effect") == "AddToDailyTotal"]


def _month_items(state: list[dict[str, Any]], daily: dict[tuple[str, date], int], keep: dict[str, int], tz: str,
                 before: datetime) -> list[dict[str, Any]]:
    """The month items of the daily totals, with what the engine's own events already added to them."""
    by_item: dict[tuple[str, str], dict[int, int]] = {}
    for (total, day), amount in daily.items():
        if daily_totals.forget_at(day, keep[total], tz) <= before - TTL_LAG:
            continue  # DynamoDB has deleted the month by now
        days = by_item.setdefault((total, daily_totals.month_label(day)), {})
        days[day.day] = days.get(day.day, 0) + amount
    stored = {i[table.SK]["S"]: i for i in state if i[table.SK]["S"].startswith(keys.DAILY_TOTALS_PREFIX)}
    items = []
    for (total, month), days in sorted(by_item.items()):
        before_clones = raw_days(stored.get(keys.daily_totals_sk(total, month), {}))
        for day, amount in before_clones.items():
            days[day] = days.get(day, 0) + amount
        year, number = (int(part) for part in month.split("-"))
        forget = daily_totals.forget_at(date(year, number, 1), keep[total], tz)
        items.append(raw_item(state[0][table.PK]["S"], total, month, days, forget))
    return items
