"""A long member history written directly, as the engine would have left it (BatchWriteItem, no engine events):
thousands of past orders through the engine take too long on a shared machine, and what a read costs depends only
on the items the member's partitions hold."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

from infra import keys, table
from infra.models import OrderItem
from rules.months import months_after

# DynamoDB deletes an item whose TTL has passed within about two days.
TTL_LAG = timedelta(days=2)


def _partition(client: Any, table_name: str, pk: str) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator("query").paginate(
        TableName=table_name, KeyConditionExpression="#p = :p", ExpressionAttributeNames={"#p": table.PK},
        ExpressionAttributeValues={":p": {"S": pk}}) for item in page["Items"]]


def _replaced(blob: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A packed JSON attribute (infra.models.PackedJSONAttribute) with one order id replaced by another."""
    return {"B": zlib.compress(zlib.decompress(blob["B"]).replace(old.encode(), new.encode()), 9)}


def clone_orders(client: Any, table_name: str, brand_id: str, member_id: str, *, template_order: str,
                 order_ids: list[str], before: datetime) -> int:
    """For each of `order_ids`, a copy of what the engine wrote for the member's order `template_order`: the
    order's item (every plugin's markers about it, the order.paid event's effects and ledger entry, its place in
    the member's history), and a check-in's markers for every fifth order (at most one a day, and none DynamoDB's
    TTL would have deleted); dated a minute apart, ending just before `before`. Returns how many items were
    written."""
    mpk, lpk = keys.member_pk(brand_id, member_id), keys.ledger_pk(brand_id, member_id)
    state, history = _partition(client, table_name, mpk), _partition(client, table_name, lpk)
    template_sk = keys.order_sk(keys.order_ref(template_order))
    order = next(i for i in history if i[table.SK]["S"] == template_sk)
    visit = next((i for i in state if i[table.SK]["S"].startswith(keys.VISIT_MARKS)), None)
    visit_keep = timedelta(0)
    if visit is not None:
        visit_keep = (datetime.fromtimestamp(int(visit["ttl"]["N"]), timezone.utc)
                      - datetime.fromisoformat(visit["at"]["S"]))
    writes = []
    visited: set = set()
    for k, order_id in enumerate(order_ids):
        at = before - timedelta(minutes=len(order_ids) - k)
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
        months = (brand.plugins.get("tiers") or {}).get("validityMonths", brand.tier_validity_months)
        valid_until = months_after(at, int(months), brand.timezone)
    store.set_standing(profile, growth=growth, tier_code=reached.code, tier_valid_until=valid_until)
