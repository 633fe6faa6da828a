"""The sweep's cost for lifecycle changes follows the members whose stage changes, never the member count: the same
DynamoDB requests for 20 members turning SLEEPING whether the brand has 2,000 or 20,000 members, and no Scan."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from infra import keys
from infra.db import count_requests
from infra.models import MemberItem
from plugins.segments.effects import SegmentState, as_json, stage_of
from plugins.segments.storage import STATE, SegmentStateItem
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register, scheduled_event

T = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
CHANGES = 20
CLOCK = [T]  # the receiving clock follows the story, as it would in production


def add_members(brand: str, start: int, count: int) -> None:
    """Members with nothing due, written in bulk (25 items per BatchWriteItem); every tenth holds a segment state
    (judged long ago, no call back pending), as members the segments plugin judged and that stay where they are."""
    state = as_json(SegmentState(stage="LOST", stage_since=T - timedelta(days=400)))
    with MemberItem.batch_write() as batch:
        for n in range(start, start + count):
            member_id = f"m_filler{n:06d}"
            pk = keys.member_pk(brand, member_id)
            batch.save(MemberItem(pk, keys.PROFILE, brand_id=brand, member_id=member_id, phone_hash=f"{n:064d}",
                                  phone_masked="139****0000", channel="store", referral_code=f"F{n:07d}",
                                  registered_at=T, tier_code="PU"))
            if n % 10 == 0:
                batch.save(SegmentStateItem(pk, STATE, state=state))


def buyers(engine, store, brand, at) -> list[str]:
    CLOCK[0] = at
    members = [register(store, brand, at - timedelta(days=1)) for _ in range(CHANGES)]
    for member in members:
        event = business_event("order.paid", order_paid(brand, member, 5000, uuid.uuid4().hex[:12]), time=at)
        assert engine.handle(event).status == "applied"
    return members


def sweep_requests(engine, store, brand, members, ordered_at):
    turns = ordered_at + timedelta(days=30)  # 30 days without an order: SLEEPING
    CLOCK[0] = turns - timedelta(days=1) + timedelta(hours=1)
    engine.handle(scheduled_event(CLOCK[0]))  # yesterday's run
    CLOCK[0] = turns + timedelta(hours=1)
    store.get_brand(brand)  # the per-container brand cache is warm, as in a running Lambda
    with count_requests() as requests:
        summary = engine.handle(scheduled_event(turns + timedelta(hours=1))).as_dict()
    assert summary["members"] == CHANGES
    assert {stage_of(store.load_member(brand, m)) for m in members} == {"SLEEPING"}
    return dict(requests.by_operation)


def test_20_members_turning_sleeping_cost_the_same_with_2000_or_20000_members(fresh_table, store, plugins, bus):
    brand = "segment-cost"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=T - timedelta(days=2), plugin_settings=[("segments", True, {})])
    engine = Engine(store, plugins, bus, clock=lambda: CLOCK[0])

    first = buyers(engine, store, brand, T)
    add_members(brand, 0, 2_000 - CHANGES)
    small = sweep_requests(engine, store, brand, first, T)

    second = buyers(engine, store, brand, T + timedelta(days=40))
    add_members(brand, 2_000, 18_000 - CHANGES)
    large = sweep_requests(engine, store, brand, second, T + timedelta(days=40))

    assert small == large
    assert "Scan" not in small
    # Per changing member one Query (the member's partition, segment state included) and one transaction, and one
    # transaction for the day's one batch (rules/fanout.py); the rest is the watermarks (one Query) and the due index
    # (a fixed number of shards and instants), and the day's run item: a fixed handful whatever the size.
    assert small["TransactWriteItems"] == CHANGES + 1
    assert small["Query"] - CHANGES == 1 + keys.DUE_SHARDS * (2 + 1)
    assert small["PutItem"] + small["UpdateItem"] + small["GetItem"] <= 8
