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


def points_brand(store, plugins, *, validity_days: int = 10) -> str:
    """A brand whose points last `validity_days`, configured (hence watermarked) on day -90."""
    brand = f"g{uuid.uuid4().hex[:8]}"
    configure_brand(store, plugins, brand, now=day(-90), name="百果园", tiers=MULTIPLYING_LADDER, plugin_settings=[
        ("points", True, {}), ("points_expiry", True, {"days": validity_days})])
    return brand


def test_a_lot_already_expired_when_its_late_order_arrives_is_written_off_by_the_next_sweep_once(
        fresh_table, store, plugins, bus):
    brand = points_brand(store, plugins)
    member = register(store, brand, day(-60))
    engine = Engine(store, plugins, bus, clock=lambda: day(0, 2))
    engine.handle(scheduled_event(day(0)))
    assert store.sweep_watermarks("daily")[brand] == day(0)

    # The brand system sends a 20-day-old order two hours after today's sweep: its 10-day lot expired on day -10,
    # before the watermark. Spendable leaves it out at once; the stored balance must lose it at the next sweep.
    late = engine.handle(business_event("order.paid", order_paid(brand, member, 30_000), time=day(-20)))
    assert late.status == "applied"
    state = store.load_member(brand, member)
    assert (state.points.balance, state.points.spendable(day(0, 2))) == (300, 0)

    first = engine.handle(scheduled_event(day(1))).as_dict()
    again = engine.handle(scheduled_event(day(1))).as_dict()
    later = engine.handle(scheduled_event(day(2))).as_dict()

    state = store.load_member(brand, member)
    assert state.points.balance == 0 == sum(e.points for e in store.entries(brand, member))
    assert first["members"] == 1 and later["members"] == 0 and again["status"] == "applied"
    expired = [f for f in bus.published if f.detail_type == "points.expired" and f.detail["memberId"] == member]
    assert len({f.id for f in expired}) == 1 and expired[0].detail["points"] == 300


def test_a_lot_due_after_the_watermark_keeps_its_own_date(fresh_table, store, plugins, bus):
    brand = points_brand(store, plugins)
    member = register(store, brand, day(-60))
    engine = Engine(store, plugins, bus, clock=lambda: day(0, 2))
    engine.handle(scheduled_event(day(0)))
    engine.handle(business_event("order.paid", order_paid(brand, member, 30_000), time=day(-5)))  # due on day 5
    assert [d.at for d in store.due(day(0), day(30)) if d.member_id == member] == [day(5)]
    engine.handle(scheduled_event(day(4)))
    assert store.load_member(brand, member).points.balance == 300
    engine.handle(scheduled_event(day(5)))
    assert store.load_member(brand, member).points.balance == 0


def test_a_brands_first_sweep_reaches_back_to_when_it_was_configured(fresh_table, store, plugins, bus):
    # Another brand is swept every day; this one was configured 40 days ago and has never been swept since.
    other = points_brand(store, plugins)
    engine = Engine(store, plugins, bus)
    engine.handle(scheduled_event(day(-1)))
    brand = f"g{uuid.uuid4().hex[:8]}"
    configure_brand(store, plugins, brand, now=day(-40), name="百果园", tiers=MULTIPLYING_LADDER, plugin_settings=[
        ("points", True, {}), ("points_expiry", True, {"days": 10})])
    assert store.sweep_watermarks("daily")[brand] == day(-40)
    member = register(store, brand, day(-39))
    engine.handle(business_event("order.paid", order_paid(brand, member, 30_000), time=day(-30)))  # due day -20

    summary = engine.handle(scheduled_event(day(0))).as_dict()

    assert store.load_member(brand, member).points.balance == 0
    assert summary["days"] == 40 and store.sweep_watermarks("daily") == {brand: day(0), other: day(0)}
    assert any(f.detail_type == "points.expired" and f.detail["memberId"] == member for f in bus.published)


def test_reconfiguring_a_brand_never_moves_its_watermark(fresh_table, store, plugins, bus):
    brand = points_brand(store, plugins)
    Engine(store, plugins, bus).handle(scheduled_event(day(0)))
    configure_brand(store, plugins, brand, now=day(5), name="百果园 2")
    assert store.sweep_watermarks("daily")[brand] == day(0)
