"""Only a member's earliest holding lot is listed in the due index (issue 15): an order for a member who already holds
an earlier lot writes no index entry, yet every lot is still written off on its day and reminded before it, because
whatever empties the listed lot (the sweep, a redemption) lists the next one in the same write."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from infra import db
from rules import points
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register, scheduled_event

# The daily sweep runs at 16:00 UTC, midnight in Shanghai.
D0 = datetime(2026, 1, 1, 16, 0, tzinfo=timezone.utc)


def day(k: int, hours: float = 0) -> datetime:
    return D0 + timedelta(days=k, hours=hours)


def brand_with_ten_day_points(store, plugins, remind_days_before: int = 0) -> str:
    brand = f"l{uuid.uuid4().hex[:8]}"
    configure_brand(store, plugins, brand, now=day(-12), name="百果园", tiers=BAIGUOYUAN_LADDER, plugin_settings=[
        ("points", True, {}), ("points_expiry", True, {"days": 10, "remindDaysBefore": remind_days_before})])
    return brand


def listed_lots(store, brand: str, member: str) -> list[datetime]:
    return sorted(d.at for d in store.due(day(-30), day(30)) if d.member_id == member and d.what == "LOT")


def member_with_three_lots(store, plugins, bus, *, remind_days_before: int = 0):
    """100 points on each of days -9, -8 and -7 (one hour before the sweep): they expire on days 1, 2 and 3."""
    brand = brand_with_ten_day_points(store, plugins, remind_days_before)
    member = register(store, brand, day(-11))
    received = [day(-9, -1)]
    engine = Engine(store, plugins, bus, clock=lambda: received[0])
    for k in (-9, -8, -7):
        received[0] = day(k, -1)  # received as it happens
        assert engine.handle(business_event("order.paid", order_paid(brand, member, 10_000),
                                            time=day(k, -1))).status == "applied"
    return brand, member, engine, received


def balance_is_its_lots_and_its_entries(store, brand: str, member: str) -> int:
    state = store.load_member(brand, member)
    assert state.points.balance == sum(lot.remaining for lot in state.points.lots)
    assert state.points.balance == sum(e.points for e in store.entries(brand, member))
    return state.points.balance


def test_a_member_with_three_lots_expiring_on_three_days_has_each_written_off_on_its_day(
        fresh_table, store, plugins, bus):
    brand, member, engine, received = member_with_three_lots(store, plugins, bus)
    # Only the first lot is in the due index: the two later orders wrote no index entry.
    assert listed_lots(store, brand, member) == [day(1, -1)]
    balances = []
    for k in range(0, 5):
        received[0] = day(k)
        engine.handle(scheduled_event(day(k)))
        balances.append(balance_is_its_lots_and_its_entries(store, brand, member))
    assert balances == [300, 200, 100, 0, 0]
    expired = [f.detail["points"] for f in bus.published
               if f.detail_type == "points.expired" and f.detail["memberId"] == member]
    assert expired == [100, 100, 100]
    assert listed_lots(store, brand, member) == []


def test_the_sweep_that_writes_off_the_listed_lot_lists_the_next(fresh_table, store, plugins, bus):
    brand, member, engine, received = member_with_three_lots(store, plugins, bus)
    received[0] = day(1)
    engine.handle(scheduled_event(day(1)))
    assert listed_lots(store, brand, member) == [day(2, -1)]


def test_an_order_for_a_member_who_holds_an_earlier_lot_writes_no_index_entry(fresh_table, store, plugins, bus,
                                                                            dynamodb_endpoint):
    import boto3

    from bench.capacity import CapacityMeter

    brand, member, engine, received = member_with_three_lots(store, plugins, bus)
    received[0] = day(-6, -1)
    meter = CapacityMeter(db.client(), boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))
    try:
        with meter.measure() as measure:
            engine.handle(business_event("order.paid", order_paid(brand, member, 10_000), time=day(-6, -1)))
    finally:
        meter.close()
    # The one index unit is the order's item in the member's history (`byTime`); the due index gets nothing: the
    # new lot is not listed, the earliest still is.
    assert measure.by_operation["TransactWriteItems"] == 1 and measure.index_write_units == 1
    assert listed_lots(store, brand, member) == [day(1, -1)]


def test_a_redemption_that_empties_the_earliest_lot_leaves_the_next_one_listed(fresh_table, store, plugins, bus):
    brand, member, engine, received = member_with_three_lots(store, plugins, bus)
    points.redeem(store, brand, member, points=150, now=day(-6), idempotency_key="spend-150")
    # The first lot is gone (emptied, deleted), the second holds 50 and is listed; the third is not.
    assert [lot.remaining for lot in store.load_member(brand, member).points.lots] == [50, 100]
    assert listed_lots(store, brand, member) == [day(2, -1)]
    for k in range(0, 5):
        received[0] = day(k)
        engine.handle(scheduled_event(day(k)))
    assert balance_is_its_lots_and_its_entries(store, brand, member) == 0
    expired = [f.detail["points"] for f in bus.published
               if f.detail_type == "points.expired" and f.detail["memberId"] == member]
    assert expired == [50, 100]


def test_a_redemption_between_the_sweeps_read_and_its_write_makes_it_list_the_lot_after(
        fresh_table, store, plugins, bus):
    brand, member, engine, received = member_with_three_lots(store, plugins, bus)
    # The sweep of day 1 plans from a state where the second lot holds 100: it writes off the first and lists the
    # second. Just before its write lands, a redemption empties (deletes) the second lot.
    real_commit = store.commit_event
    raced = []

    def redemption_first(record, change, side=()):
        if not raced and change is not None and change.posting is not None:
            raced.append(points.redeem(store, brand, member, points=100, now=day(1, 0.5),
                                       idempotency_key="during-the-sweep"))
        return real_commit(record, change, side)

    store.commit_event = redemption_first
    received[0] = day(1)
    engine.handle(scheduled_event(day(1)))
    del store.commit_event
    assert raced and balance_is_its_lots_and_its_entries(store, brand, member) == 100
    # Its listing of the second lot failed on the remainder it planned from; planned again, it listed the third.
    assert listed_lots(store, brand, member) == [day(3, -1)]
    for k in (2, 3):
        received[0] = day(k)
        engine.handle(scheduled_event(day(k)))
    assert balance_is_its_lots_and_its_entries(store, brand, member) == 0


def test_each_lot_is_still_reminded_before_it_expires(fresh_table, store, plugins, bus):
    brand, member, engine, received = member_with_three_lots(store, plugins, bus, remind_days_before=3)
    for k in range(-6, 4):
        received[0] = day(k)
        engine.handle(scheduled_event(day(k)))
    reminded = sorted(f.detail["expiresOn"] for f in bus.published
                      if f.detail_type == "points.expiring" and f.detail["memberId"] == member)
    assert reminded == ["2026-01-02", "2026-01-03", "2026-01-04"]
    assert balance_is_its_lots_and_its_entries(store, brand, member) == 0
