"""The daily sweep's cost follows the work: the same DynamoDB requests for 200 expiring lots whether the table holds
2,000 or 20,000 members, and never a Scan."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from infra import keys
from infra.db import count_requests
from infra.dynamo_store import DynamoStore
from infra.models import MemberItem
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import earn, register, scheduled_event

T = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)


def add_members(brand: str, start: int, count: int) -> None:
    """Members who have nothing due, written in bulk (25 per BatchWriteItem)."""
    with MemberItem.batch_write() as batch:
        for n in range(start, start + count):
            member_id = f"m_filler{n:06d}"
            batch.save(MemberItem(keys.member_pk(brand, member_id), keys.PROFILE, brand_id=brand,
                                  member_id=member_id, phone_hash=f"{n:064d}", phone_masked="139****0000",
                                  channel="store", referral_code=f"F{n:07d}", registered_at=T, tier_code="PU"))


def sweep_requests(engine, store, brand, due_at, members):
    for member in members:
        earn(store, brand, member, 100, due_at - timedelta(days=365), days=365)
    # Yesterday's sweep ran (catching up whatever came before): what is counted is one day's work.
    engine.handle(scheduled_event(due_at + timedelta(hours=1) - timedelta(days=1)))
    store.get_brand(brand)  # the per-container brand cache is warm, as in a running Lambda
    with count_requests() as requests:
        summary = engine.handle(scheduled_event(due_at + timedelta(hours=1))).as_dict()
    assert summary["members"] == len(members)
    assert sum(store.load_member(brand, m).points.balance for m in members) == 0
    return dict(requests.by_operation)


def test_200_expiring_lots_cost_the_same_with_2000_or_20000_members(fresh_table, plugins, bus):
    # A brand cache that outlives the test: with the fixture's 60 seconds, a sweep slowed down by a loaded machine
    # read the brand again and counted one GetItem more than the other run.
    store = DynamoStore(brand_cache_seconds=24 * 3600)
    brand = "sweep-cost"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=T, plugin_settings=[("points_expiry", True, {"remindDaysBefore": 0})])
    engine = Engine(store, plugins, bus)

    first = [register(store, brand, T) for _ in range(200)]
    add_members(brand, 0, 1_800)
    small = sweep_requests(engine, store, brand, T, first)

    second = [register(store, brand, T) for _ in range(200)]
    add_members(brand, 1_800, 18_000)
    large = sweep_requests(engine, store, brand, T + timedelta(days=60), second)

    assert small == large
    assert "Scan" not in small
    # Per member one Query and one transaction, and per batch of 100 one transaction (its marker and the day's
    # count, rules/fanout.py); the rest reads the watermarks (one Query) and the due index: the day's range (it
    # spans two UTC days) and the one reminder day this brand chose, each a fixed number of shards.
    assert small["TransactWriteItems"] == 200 + 2 and small["Query"] - 200 == 1 + keys.DUE_SHARDS * (2 + 1)
    # The day's run item (listed, then its batches counted) and the watermark: a fixed handful, whatever the size.
    assert small["PutItem"] + small["UpdateItem"] + small["GetItem"] <= 8
