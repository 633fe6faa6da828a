"""High value is the top 20% of the brand's buyers by 12-month net spend (DOMAIN.md 1.2): the brand's spend
distribution is kept as sharded bucket counters by the members' own segment writes, and a daily sweep draws the line
from it into the brand's parameters; members are compared against it at their events and due dates."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from infra.db import count_requests
from plugins.segments.effects import segments_of
from plugins.segments.model import EDGES, spend_bucket, value_line
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.consent import set_consent
from rules.sweeps import DAILY
from tests.helpers import business_event, order_paid, register, scheduled_event

DAY0 = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
YUAN = 100


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


@pytest.fixture
def brand(store, plugins):
    brand = f"vl{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER,
                                plugins={"segments": plugins.validate_params("segments", {})}))
    store.advance_watermark(DAILY, brand, read=None, to=day(-1))
    return brand


def profiled_buyer(store, engine, brand, fen, at, order_id=None) -> str:
    member = register(store, brand, at - timedelta(days=1))
    set_consent(store, brand, member, purpose="behaviour_analytics", granted=True, policy_version="v1",
                now=at - timedelta(days=1), actor="member")
    pay(engine, brand, member, fen, at, order_id)
    return member


def pay(engine, brand, member, fen, at, order_id=None):
    event = business_event("order.paid", order_paid(brand, member, fen, order_id or uuid.uuid4().hex[:12]), time=at)
    assert engine.handle(event).status == "applied"


def draw_line(engine, store, at, event_id=None) -> None:
    summary = engine.handle(scheduled_event(at, rule="siyu-test-value-line-sweep", event_id=event_id))
    assert summary.status == "applied", summary.reason
    store.forget_brands()  # what the brand cache does within a minute


def layer(store, brand, member, at) -> str:
    [code] = [c for c in segments_of(store.load_member(brand, member, as_of=at)) if c.startswith("VALUE_")]
    return code


def test_buckets_are_exact_and_the_line_keeps_the_top_20_percent():
    assert spend_bucket(0) is None and spend_bucket(-5) is None
    for fen in (1, 99, 100_000, 123_456_789):
        k = spend_bucket(fen)
        assert EDGES[k] <= fen < EDGES[k + 1]
    counts = {spend_bucket(n * 1000 * YUAN): 1 for n in range(1, 11)}  # 1,000 .. 10,000 yuan
    line, buyers, high = value_line(counts, 20)
    assert (buyers, high) == (10, 2) and 8000 * YUAN < line <= 9000 * YUAN


def test_of_10_buyers_with_known_spends_the_top_2_are_high_value(store, engine, brand):
    # 1,000 .. 10,000 yuan in the last 12 months: above the preset 5,000-yuan line are 6 of them before the line
    members = {n: profiled_buyer(store, engine, brand, n * 1000 * YUAN, day(0)) for n in range(1, 11)}
    assert sum(layer(store, brand, m, day(0)) == "VALUE_HIGH" for m in members.values()) == 6
    assert store.spend_counts(brand) == {spend_bucket(n * 1000 * YUAN): 1 for n in range(1, 11)}

    draw_line(engine, store, day(1) - timedelta(hours=1), event_id="line-day-1")
    line = store.get_brand(brand).plugins["segments"]["valueLine"]
    version = store.get_brand(brand).version
    assert (line["buyers"], line["high"], line["topPercent"]) == (10, 2, 20)
    assert 8000 * YUAN < line["fen"] <= 9000 * YUAN
    # The sweep delivered twice: the line is written once.
    draw_line(engine, store, day(1) - timedelta(hours=1), event_id="line-day-1")
    assert store.get_brand(brand).plugins["segments"]["valueLine"] == line and store.get_brand(brand).version == version

    # Each member is compared against the line at their next event or due date: a small order re-judges them.
    for n, member in members.items():
        pay(engine, brand, member, 1, day(2))
    high = {n for n, m in members.items() if layer(store, brand, m, day(2)) == "VALUE_HIGH"}
    assert high == {9, 10}


def test_a_refund_that_takes_a_member_below_the_computed_line_moves_them_down_the_same_event(store, engine, brand):
    members = {n: profiled_buyer(store, engine, brand, n * 1000 * YUAN, day(0), f"o{n}") for n in range(1, 11)}
    draw_line(engine, store, day(1) - timedelta(hours=1))
    line = store.get_brand(brand).plugins["segments"]["valueLine"]["fen"]
    nine = members[9]
    pay(engine, brand, nine, 1, day(2))
    assert layer(store, brand, nine, day(2)) == "VALUE_HIGH"
    refund = business_event("order.refunded", {"brandId": brand, "memberId": nine, "orderId": "o9",
                                               "amountFen": 9000 * YUAN + 1 - line + 1, "refundId": "r1"},
                            time=day(3))
    summary = engine.handle(refund)
    assert summary.status == "applied"
    assert layer(store, brand, nine, day(3)) != "VALUE_HIGH"  # one fen under the line
    left = [e for e in summary.effects if e["effect"] == "BrandEmit" and e["detail_type"] == "segment.left"]
    assert "VALUE_HIGH" in {e["detail"]["segment"] for e in left}
    # The distribution followed: the member moved to a lower bucket in the same transaction.
    counts = store.spend_counts(brand)
    assert sum(counts.values()) == 10 and counts.get(spend_bucket(9000 * YUAN), 0) == 0


def test_the_line_sweep_reads_one_query_per_brand_and_members_events_read_nothing_more(fresh_table, plugins, bus):
    from infra.dynamo_store import DynamoStore
    from rules.engine import Engine

    store = DynamoStore(brand_cache_seconds=60)
    engine = Engine(store, plugins, bus)
    brand = f"vl{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER,
                                plugins={"segments": plugins.validate_params("segments", {})}))
    store.advance_watermark(DAILY, brand, read=None, to=day(-1))
    member = profiled_buyer(store, engine, brand, 3000 * YUAN, day(0))
    for n in range(5):
        profiled_buyer(store, engine, brand, (n + 1) * 700 * YUAN, day(0))
    with count_requests() as requests:
        draw_line(engine, store, day(1) - timedelta(hours=1))
    # The brands' watermarks (which brands run segments) and the brand's buckets: however many members it has.
    assert requests.by_operation.get("Query") == 2 and "Scan" not in requests.by_operation
    store.get_brand(brand)
    with count_requests() as requests:
        pay(engine, brand, member, 100 * YUAN, day(1))
    assert "GetItem" not in requests.by_operation  # the line comes with the (cached) brand configuration
