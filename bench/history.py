"""A long member history written directly, as the engine would have left it (BatchWriteItem, no engine events):
thousands of past orders through the engine take too long on a shared machine, and what a read costs depends only
on the items the member's partitions hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from infra import keys, table
from infra.daily_totals import raw_days, raw_item
from infra.models import ActivityItem
from rules import daily_totals, ids, months

# DynamoDB deletes an item whose TTL has passed within about two days.
TTL_LAG = timedelta(days=2)


def _partition(client: Any, table_name: str, pk: str) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator("query").paginate(
        TableName=table_name, KeyConditionExpression="#p = :p", ExpressionAttributeNames={"#p": table.PK},
        ExpressionAttributeValues={":p": {"S": pk}}) for item in page["Items"]]


def clone_orders(client: Any, table_name: str, brand_id: str, member_id: str, *, template_order: str,
                 order_ids: list[str], before: datetime, spacing: timedelta = timedelta(minutes=1),
                 tz: str = "Asia/Shanghai") -> int:
    """For each of `order_ids`, a copy of what the engine wrote for the member's order `template_order`: the
    order's markers (filed under the order; every plugin's data), its activity item and its award entry, and a
    check-in's markers for every fifth order (at most one a day, and none DynamoDB's TTL would have deleted);
    dated `spacing` apart, ending just before `before`. What the template order added to daily totals
    (`AddToDailyTotal`, e.g. the `rolling12` tiers' growth by day) each copy adds to its own brand-local day (in
    `tz`), in the month items the engine keeps (those DynamoDB's TTL would have deleted left out). Returns how many
    items were written."""
    mpk, lpk = keys.member_pk(brand_id, member_id), keys.ledger_pk(brand_id, member_id)
    state, history = _partition(client, table_name, mpk), _partition(client, table_name, lpk)
    group = next(i for i in state if i[table.SK]["S"].startswith(keys.order_marks_prefix(template_order)))
    visit = next((i for i in state if i[table.SK]["S"].startswith(keys.VISIT_MARKS)), None)
    activity = max((i for i in history if i[table.SK]["S"].startswith(keys.ACTIVITY_PREFIX)),
                   key=lambda i: i[table.SK]["S"])
    entry = max((i for i in history if i[table.SK]["S"].startswith(keys.ENTRY_PREFIX)),
                key=lambda i: i[table.SK]["S"])
    additions = _daily_additions(activity)
    daily: dict[tuple[str, date], int] = {}
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
        event_id, entry_id = f"clone-{order_id}", f"{ids.time_key(at)}-clone-{order_id}"
        writes.append({**group, table.SK: {"S": keys.marker_group_sk(at, event_id, keys.order_ref(order_id))},
                       "marks": {"S": group["marks"]["S"].replace(template_order, order_id)}})
        writes.append({**activity, table.SK: {"S": keys.activity_sk(at, event_id)}, "event_id": {"S": event_id}})
        writes.append({**entry, table.SK: {"S": keys.entry_sk(entry_id)}, "entry_id": {"S": entry_id}})
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


def _daily_additions(activity: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(total, amount, keep_months) of each `AddToDailyTotal` the activity item's event decided."""
    effects = ActivityItem.from_raw_data(activity).what_happened
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
