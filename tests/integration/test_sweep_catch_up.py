"""Sweeps catch up whatever the gap: one run after a 20-day outage leaves every member as 20 daily runs would have,
and a member whose hundreds of lots expire together has them all written off."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from infra import db, settings, table
from infra.eventbus import InProcessBus
from infra.dynamo_store import DynamoStore
from rules import ids
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from rules.ledger import MAX_LOTS_PER_POSTING
from rules.sweeps import DAILY
from tests.helpers import business_event, earn, order_paid, register, scheduled_event

# The daily sweep runs at 16:00 UTC (serverless.yml: cron(0 16 * * ? *)), midnight in Shanghai.
D0 = datetime(2026, 1, 1, 16, 0, tzinfo=timezone.utc)
BRAND = "catchup"
OUTAGE_DAYS = 20


def day(k: int, hours: float = 0) -> datetime:
    return D0 + timedelta(days=k, hours=hours)


def scenario(members: dict[str, str]) -> list[dict]:
    """The same business events for both tables, in time order: upgrades whose validity ends inside the outage,
    orders and refunds after those ends, check-ins whose points expire during it."""
    a, b, c, d, e = (members[name] for name in "abcde")

    def event(detail_type, detail, at, name):
        return business_event(detail_type, detail, event_id=f"ev-{name}", time=at)

    events = [
        # Silver with 600 growth, valid to early January: its end falls inside the outage, then it is re-earned.
        event("order.paid", order_paid(BRAND, a, 60_000, order_id="a1"), day(-25, 2), "a1"),
        # Gold with 2,500: at its end it drops to silver (1,500); an order of 3,000 yuan then lifts it to gold,
        # not diamond, however late the sweep that judges the end runs.
        event("order.paid", order_paid(BRAND, b, 250_000, order_id="b1"), day(-25, 3), "b1"),
        # Silver, refunded in part after its validity ended.
        event("order.paid", order_paid(BRAND, d, 60_000, order_id="d1"), day(-25, 4), "d1"),
        event("order.paid", order_paid(BRAND, e, 12_000, order_id="e1"), day(-3, 5), "e1"),
    ]
    for k in range(1, OUTAGE_DAYS):
        # A check-in a day: five points each, expiring a week later (many lots falling due on different days).
        events.append(event("member.checked_in", {"brandId": BRAND, "memberId": c}, day(k, 1), f"c-checkin-{k}"))
        if k % 3 == 0:
            events.append(event("order.paid", order_paid(BRAND, e, 5_000 + 100 * k, order_id=f"e{k}"), day(k, 6),
                                f"e{k}"))
    events += [
        event("order.paid", order_paid(BRAND, a, 40_000, order_id="a2"), day(9, 2), "a2"),
        event("order.paid", order_paid(BRAND, b, 300_000, order_id="b2"), day(10, 3), "b2"),
        event("order.refunded", {"brandId": BRAND, "memberId": d, "orderId": "d1", "amountFen": 20_000,
                                 "refundId": "d1-r1"}, day(12, 4), "d1-r1"),
        event("order.refunded", {"brandId": BRAND, "memberId": e, "orderId": "e3", "amountFen": 5_300,
                                 "refundId": "e3-r1"}, day(13, 5), "e3-r1"),
    ]
    return sorted(events, key=lambda e: e["time"])


def run(plugins, monkeypatch, *, daily: bool) -> tuple[dict, list]:
    """Register the same members, deliver the same events; sweep every day, or only before and after the outage."""
    store = DynamoStore(brand_cache_seconds=0)
    store.put_brand(BrandConfig(BRAND, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, BRAND, now=day(-30), plugin_settings=[
        ("points", True, {}),
        ("tiers", True, {"validityMonths": 1}),
        ("points_expiry", True, {"policy": "rolling", "days": 7, "remindDaysBefore": 3}),
    ])
    fixed_ids = iter(f"m_catchup_{name}" for name in "abcde")
    monkeypatch.setattr(ids, "new_member_id", lambda: next(fixed_ids))
    members = {name: register(store, BRAND, day(-30)) for name in "abcde"}
    bus = InProcessBus()
    engine = Engine(store, plugins, bus)
    events = scenario(members)
    sweep_days = range(-2, OUTAGE_DAYS + 1) if daily else (-2, -1, 0, OUTAGE_DAYS)
    sweeps = [(day(k), scheduled_event(day(k), event_id=f"sweep-{k}")) for k in sweep_days]
    timeline = sorted([(e["time"], 1, e) for e in events] + [(at.isoformat().replace("+00:00", "Z"), 0, s)
                                                              for at, s in sweeps], key=lambda x: (x[0], x[1]))
    for _, _, envelope in timeline:
        summary = engine.handle(envelope)
        assert summary.status == "applied", summary.as_dict()
    expired = sorted((f.detail["memberId"], f.detail["points"], f.time.isoformat())
                     for f in bus.published if f.detail_type == "points.expired")
    return {name: standing(store, member) for name, member in members.items()}, expired


def standing(store, member_id: str) -> dict:
    state = store.load_member(BRAND, member_id)
    entries = store.entries(BRAND, member_id)
    return {
        "balance": state.points.balance, "debt": state.points.debt, "growth": state.profile.growth,
        "tier": state.profile.tier_code, "tierValidUntil": state.profile.tier_valid_until,
        "lots": sorted((lot.lot_id, lot.remaining, lot.expires_at) for lot in state.points.lots if lot.remaining),
        "ledgerTotal": sum(entry.points for entry in entries),
        "ledgerEntries": len(entries),
    }


def other_table(dynamodb, monkeypatch):
    name = f"siyu-test-{uuid.uuid4().hex[:8]}"
    table.create_table(dynamodb, name)
    monkeypatch.setenv("TABLE_NAME", name)
    db.bind(settings.reload())
    return name


def test_one_sweep_after_a_20_day_outage_leaves_every_member_as_daily_sweeps_would(
        fresh_table, dynamodb, plugins, monkeypatch):
    daily, daily_expired = run(plugins, monkeypatch, daily=True)
    second = other_table(dynamodb, monkeypatch)
    try:
        caught_up, caught_up_expired = run(plugins, monkeypatch, daily=False)
    finally:
        dynamodb.delete_table(TableName=second)

    assert caught_up == daily
    assert caught_up_expired == daily_expired
    # The scenario exercises what it claims: points expired during the outage, validities ended inside it.
    assert len(daily_expired) >= 10
    assert daily["b"]["tier"] == "JIN" and daily["b"]["growth"] == 4_500  # not diamond: the deduction was taken
    assert daily["a"]["tier"] == "YIN" and daily["a"]["growth"] == 700
    for member in daily.values():
        assert member["balance"] == member["ledgerTotal"] == sum(lot[1] for lot in member["lots"])


def test_the_summary_names_the_sweep_and_how_far_it_got(fresh_table, store, plugins, bus):
    store.put_brand(BrandConfig(BRAND, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, BRAND, now=day(-30), plugin_settings=[("points_expiry", True, {})])
    members = [register(store, BRAND, day(-30)) for _ in range(3)]
    for n, member in enumerate(members):
        earn(store, BRAND, member, 10, day(-20), days=20 + 2 * n)  # due on days 0, 2 and 4
    engine = Engine(store, plugins, bus)
    engine.handle(scheduled_event(day(-1)))

    engine.sweep_budget = 2
    first = engine.handle(scheduled_event(day(5))).as_dict()
    assert first["sweep"] == DAILY and first["members"] == 2 and first["more"] is True
    assert first["sweptUntil"] == day(3).isoformat()  # days 0 to 3 done; day 4's member is left for the next run
    assert store.sweep_watermarks(DAILY)[BRAND] == day(3)

    engine.sweep_budget = 100
    second = engine.handle(scheduled_event(day(5))).as_dict()
    assert second["more"] is False and second["members"] == 1 and second["sweptUntil"] == day(5).isoformat()
    assert second["days"] == 2
    assert [store.load_member(BRAND, m).points.balance for m in members] == [0, 0, 0]


def test_300_lots_of_one_member_expiring_together_all_expire(fresh_table, store, plugins, bus):
    store.put_brand(BrandConfig(BRAND, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, BRAND, now=day(-30), plugin_settings=[("points_expiry", True, {})])
    member = register(store, BRAND, day(-30))
    engine = Engine(store, plugins, bus)
    engine.handle(scheduled_event(day(-1)))
    expires = day(0, -1)
    for n in range(300):  # endOfPeriod brands make every lot of a year expire at the same instant
        earn(store, BRAND, member, n + 1, expires - timedelta(days=300), days=300)
    assert store.load_member(BRAND, member).points.balance == sum(range(1, 301))

    summary = engine.handle(scheduled_event(day(0))).as_dict()

    state = store.load_member(BRAND, member)
    assert summary["status"] == "applied"
    assert state.points.balance == 0 == sum(e.points for e in store.entries(BRAND, member))
    assert all(lot.remaining == 0 for lot in state.points.lots)
    announced = [f.detail["points"] for f in bus.published if f.detail_type == "points.expired"]
    assert len(announced) == -(-300 // MAX_LOTS_PER_POSTING) and sum(announced) == sum(range(1, 301))
    # Delivered again, the sweep writes nothing more and announces the same follow-ups under the same ids.
    again = engine.handle(scheduled_event(day(0))).as_dict()
    assert again["members"] == 0 and store.load_member(BRAND, member).points.balance == 0


def test_an_order_after_a_validity_ended_cannot_cancel_its_deduction_and_the_deduction_is_taken_once(
        store, plugins, bus):
    brand = f"t{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=day(-60), plugin_settings=[("tiers", True, {"validityMonths": 1})])
    member = register(store, brand, day(-60))
    engine = Engine(store, plugins, bus)
    engine.handle(business_event("order.paid", order_paid(brand, member, 250_000), time=day(-45)))
    ended = store.load_member(brand, member).profile.tier_valid_until
    assert store.load_member(brand, member).profile.tier_code == "JIN"

    # No sweep ran since the end; an order of 3,000 yuan arrives ten days after it.
    engine.handle(business_event("order.paid", order_paid(brand, member, 300_000), time=ended + timedelta(days=10)))
    profile = store.load_member(brand, member).profile
    assert (profile.tier_code, profile.growth) == ("JIN", 4_500)  # 2,500 - 1,000 at the end, then + 3,000
    for k in (11, 12):
        engine.handle(scheduled_event(ended + timedelta(days=k)))
    after = store.load_member(brand, member).profile
    assert (after.tier_code, after.growth) == ("JIN", 4_500)
