"""Brand KPIs, counted off the event path from the table's change stream, equal a plain recount of the same events.

A generated month (200 members, 5,000 events: registrations, orders, refunds, check-ins, redemptions) goes through
the engine; the table's stream is read back through the DynamoDB Streams API and handed to the stream Lambda in
batches, some of them twice (a redelivery must not count twice); then `insights(from:, to:)` must say exactly what
counting the events by hand says, day by day in the brand's time zone.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import boto3
import pytest

from events import stream as stream_lambda
from infra import keys, runtime
from infra.db import count_requests
from infra.models import EntryItem
from rules import points
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, call_graphql, order_paid, register, token

SEED = 19
MEMBERS = 200
EVENTS = 5000
ZONE = ZoneInfo("Asia/Shanghai")


def stream_records(endpoint: str, table_name: str) -> list[dict]:
    """Everything the table's stream holds, through the DynamoDB Streams API, as Lambda would be handed it."""
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
    (listed,) = streams.list_streams(TableName=table_name)["Streams"]
    records = []
    for shard in streams.describe_stream(StreamArn=listed["StreamArn"])["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=listed["StreamArn"], ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
    return records


def local(at: datetime) -> date:
    return at.astimezone(ZONE).date()


def insights(brand: str, start: date, end: date) -> dict[date, dict]:
    query = """query ($from: Date!, $to: Date!) { insights(from: $from, to: $to) {
        date newMembers activeMembers orders gmvFen refundFen netGmvFen aovFen firstOrders
        repurchasedWithin30Days repurchasedWithin90Days pointsIssued pointsRedeemed pointsExpired
        couponsClaimed couponsUsed distributions { name buckets { value members } } } }"""
    _, body = call_graphql(query, {"from": start.isoformat(), "to": end.isoformat()},
                           token=token("staff", "analyst", brand))
    assert "errors" not in body, body
    return {date.fromisoformat(day["date"]): day for day in body["data"]["insights"]}


@pytest.fixture
def month(fresh_table, dynamodb_endpoint, store, plugins):
    """A brand's generated month, applied by the engine; what was sent, by hand."""
    rng = random.Random(SEED)
    brand = f"k{uuid.uuid4().hex[:8]}"
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers", "points_expiry")}
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    engine = Engine(store, plugins, runtime.bus())
    start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=45)
    span = timedelta(days=30).total_seconds()
    members: list[tuple[str, datetime]] = []
    for n in range(MEMBERS):
        at = start + timedelta(seconds=span * n / MEMBERS / 2)  # everyone registered in the first fortnight
        members.append((register(store, brand, at), at))
    sent = {"registered": [at for _, at in members], "orders": [], "refunds": [], "redeemed": []}
    paid: dict[str, list[tuple[str, int]]] = defaultdict(list)
    times = sorted(start + timedelta(days=15, seconds=rng.uniform(0, span)) for _ in range(EVENTS - MEMBERS))
    for at in times:
        member, _ = rng.choice(members)
        roll = rng.random()
        if roll < 0.7 or not paid[member]:
            amount = rng.randint(500, 60000)
            order = uuid.uuid4().hex[:12]
            summary = engine.handle(business_event("order.paid", order_paid(brand, member, amount, order),
                                                   time=at, source=f"siyu.brand.{brand}"))
            assert summary.status == "applied", summary
            paid[member].append((order, amount))
            sent["orders"].append((member, at, amount))
        elif roll < 0.8:
            order, amount = paid[member].pop(rng.randrange(len(paid[member])))
            refund = rng.randint(1, amount)
            engine.handle(business_event("order.refunded", {"brandId": brand, "memberId": member, "orderId": order,
                                                            "amountFen": refund}, time=at,
                                         source=f"siyu.brand.{brand}"))
            sent["refunds"].append((at, refund))
        elif roll < 0.9:
            engine.handle(business_event("member.checked_in", {"brandId": brand, "memberId": member}, time=at,
                                         source=f"siyu.brand.{brand}"))
        else:
            result = points.redeem(store, brand, member, points=rng.randint(1, 20), now=at,
                                   idempotency_key=uuid.uuid4().hex)
            if getattr(result, "entry", None) is not None:
                sent["redeemed"].append(result)
    return brand, start, members, sent


def recount(store, brand: str, members, sent) -> dict[date, Counter]:
    """The same figures counted by hand: from the events sent, and for points from the ledger as stored."""
    days: dict[date, Counter] = defaultdict(Counter)
    for at in sent["registered"]:
        days[local(at)]["newMembers"] += 1
    active = defaultdict(set)
    orders_of = defaultdict(list)
    for member, at, amount in sent["orders"]:
        days[local(at)]["orders"] += 1
        days[local(at)]["gmvFen"] += amount
        active[local(at)].add(member)
        orders_of[member].append(at)
    for day, who in active.items():
        days[day]["activeMembers"] = len(who)
    for at, amount in sent["refunds"]:
        days[local(at)]["refundFen"] += amount
    for member, times in orders_of.items():
        first, *rest = sorted(times)
        days[local(first)]["firstOrders"] += 1
        if rest and rest[0] - first <= timedelta(days=30):
            days[local(first)]["repurchasedWithin30Days"] += 1
        if rest and rest[0] - first <= timedelta(days=90):
            days[local(first)]["repurchasedWithin90Days"] += 1
    kinds = {"earn": "pointsIssued", "repay": "pointsIssued", "redeem": "pointsRedeemed", "expire": "pointsExpired"}
    for member, _ in members:
        for entry in EntryItem.query(keys.ledger_pk(brand, member), EntryItem.sk.startswith(keys.ENTRY_PREFIX)):
            if entry.entry_kind in kinds:
                days[local(entry.at)][kinds[entry.entry_kind]] += abs(int(entry.points))
    return days


FIELDS = ("newMembers", "activeMembers", "orders", "gmvFen", "refundFen", "firstOrders", "repurchasedWithin30Days",
          "repurchasedWithin90Days", "pointsIssued", "pointsRedeemed", "pointsExpired")


def test_a_generated_month_of_kpis_equals_a_plain_recount_even_when_batches_are_delivered_again(
        month, store, dynamodb_endpoint, fresh_table):
    brand, start, members, sent = month
    records = stream_records(dynamodb_endpoint, fresh_table)
    rng = random.Random(SEED)
    batches = [records[i:i + 100] for i in range(0, len(records), 100)]
    for batch in batches:
        assert stream_lambda.handler({"Records": batch}) == {"batchItemFailures": []}
        if rng.random() < 0.2:  # Lambda hands a batch again (a timeout after the writes): nothing counts twice
            assert stream_lambda.handler({"Records": batch}) == {"batchItemFailures": []}
    first, last = local(start), local(datetime.now(timezone.utc))
    shown = insights(brand, first, last)
    expected = recount(store, brand, members, sent)
    assert sum(expected[d]["orders"] for d in expected) == len(sent["orders"]) > 3000
    for day in sorted(shown):
        for field in FIELDS:
            assert shown[day][field] == expected[day][field], (day, field)
        assert shown[day]["netGmvFen"] == expected[day]["gmvFen"] - expected[day]["refundFen"]
    assert sum(shown[d]["pointsRedeemed"] for d in shown) > 0
    # Tier moves are dated when the table changed: the last day holds every member in their tier as stored now.
    final = Counter(store.load_member(brand, member, as_of=datetime.now(timezone.utc)).profile.tier_code
                    for member, _ in members)
    (distribution,) = shown[last]["distributions"]
    assert distribution["name"] == "tiers"
    assert {b["value"]: b["members"] for b in distribution["buckets"]} == dict(final)


def test_an_order_costs_the_same_requests_with_the_kpis_as_without_them(store, rules_brand, plugins):
    """The KPIs are counted from the stream, after the fact: the order's own path reads and writes nothing more."""
    from plugins import FAMILIES
    from rules import family

    engine = Engine(store, plugins, runtime.bus())
    member = register(store, rules_brand, datetime(2026, 3, 1, tzinfo=timezone.utc))
    engine.handle(business_event("member.checked_in", {"brandId": rules_brand, "memberId": member}))  # warm caches
    costs = {}
    try:
        for label, modules in (("without", [m for m in FAMILIES if m != "plugins.insights"]), ("with", FAMILIES)):
            family.use(family.load(modules))
            with count_requests() as requests:
                summary = engine.handle(business_event("order.paid", order_paid(rules_brand, member, 25000),
                                                       time=datetime(2026, 3, 2, tzinfo=timezone.utc)))
            assert summary.status == "applied"
            costs[label] = dict(requests.by_operation)
    finally:
        family.use(None)
    assert costs["with"] == costs["without"] == {"Query": 1, "TransactWriteItems": 1}
