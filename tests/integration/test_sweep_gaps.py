"""The gaps the catch-up sweep left: a lot that arrives already expired is written off by the next sweep, an order
after an ended tier validity earns at the tier in force then, a brand's first sweep reaches back to when it was
configured."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from rules.brand_settings import configure_brand
from rules.brands import BrandConfig, TierLevel
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register, scheduled_event

# The daily sweep runs at 16:00 UTC, midnight in Shanghai.
D0 = datetime(2026, 1, 1, 16, 0, tzinfo=timezone.utc)

# A ladder whose tiers earn more points per yuan (the `points` plugin reads `pointsMultiplier`).
MULTIPLYING_LADDER = (
    TierLevel("PU", "普卡", 0, 0),
    TierLevel("YIN", "银卡", 500, 300, {"pointsMultiplier": 1.5}),
    TierLevel("JIN", "金卡", 2000, 1000, {"pointsMultiplier": 2}),
)


def day(k: int, hours: float = 0) -> datetime:
    return D0 + timedelta(days=k, hours=hours)


def new_brand(store, plugins, *, ladder=MULTIPLYING_LADDER, settings=()) -> str:
    brand = f"g{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", ladder))
    configure_brand(store, plugins, brand, now=day(-90), plugin_settings=list(settings))
    return brand


def test_an_order_after_a_gold_validity_ended_earns_at_the_silver_rate_it_is_judged_down_to(store, plugins, bus):
    brand = new_brand(store, plugins, settings=[("points", True, {}), ("tiers", True, {"validityMonths": 1})])
    member = register(store, brand, day(-60))
    engine = Engine(store, plugins, bus)
    engine.handle(business_event("order.paid", order_paid(brand, member, 250_000), time=day(-45)))
    before = store.load_member(brand, member)
    assert (before.profile.tier_code, before.points.balance) == ("JIN", 2_500)  # earned at 普卡's rate, then gold
    ended = before.profile.tier_valid_until

    # No sweep has run since the gold validity ended; a 100-yuan order arrives ten days after its end. At its end
    # gold lost 1,000 growth (2,500 -> 1,500) and fell to silver, so the order earns silver's 1.5x, not gold's 2x.
    summary = engine.handle(business_event("order.paid", order_paid(brand, member, 10_000),
                                           time=ended + timedelta(days=10))).as_dict()
    after = store.load_member(brand, member)
    assert (after.profile.tier_code, after.profile.growth) == ("YIN", 1_600)
    assert after.points.balance == 2_500 + 150
    award = next(e for e in summary["effects"] if e["effect"] == "AwardPoints")
    assert award["inputs"]["tier"] == "YIN" and award["inputs"]["multiplier"] == "3/2"


def test_an_order_inside_the_validity_still_earns_the_gold_rate(store, plugins, bus):
    brand = new_brand(store, plugins, settings=[("points", True, {}), ("tiers", True, {"validityMonths": 1})])
    member = register(store, brand, day(-60))
    engine = Engine(store, plugins, bus)
    engine.handle(business_event("order.paid", order_paid(brand, member, 250_000), time=day(-45)))
    ended = store.load_member(brand, member).profile.tier_valid_until
    engine.handle(business_event("order.paid", order_paid(brand, member, 10_000), time=ended - timedelta(days=1)))
    assert store.load_member(brand, member).points.balance == 2_500 + 200
