"""The playbooks' numbers, exactly (issue 13), each business event delivered one to three times and shuffled within
its day, as EventBridge may: calendar-month tier validity (百果园, DOMAIN.md 2.2), a refund taking back its own
order's points, and a crisis alert whose red window counts from when Siyu raised it (DOMAIN.md 6, item 49)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rules import points
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, call_graphql, order_paid, register, scheduled_event, token

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
YUAN = 100


def shanghai(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


class Deliveries:
    """Sends each day's events the way EventBridge may: every event one to three times, the day's in any order."""

    def __init__(self, engine, seed):
        self.engine, self.rng = engine, random.Random(seed)
        self.statuses: Counter = Counter()

    def day(self, *events):
        copies = [event for event in events for _ in range(self.rng.randint(1, 3))]
        self.rng.shuffle(copies)
        for event in copies:
            summary = self.engine.handle(event)
            assert summary.status in ("applied", "duplicate"), summary.as_dict()
            self.statuses[summary.status] += 1

    def sweep(self, at, rule="siyu-test-daily-sweep"):
        """A scheduled sweep at `at`, which the scheduler too may deliver more than once."""
        self.day(scheduled_event(at, rule=rule, event_id=f"sweep-{rule}-{at.isoformat()}"))


@pytest.fixture
def baiguoyuan(store, plugins):
    brand = "bgy" + uuid.uuid4().hex[:10]
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=shanghai(2026, 1, 1), plugin_settings=[
        ("points", True, {}), ("tiers", True, {}), ("points_expiry", True, {})])
    return brand


def event(detail_type, detail, at, source="siyu.shop"):
    return business_event(detail_type, detail, time=at.astimezone(UTC), source=source)


def order(brand, member, yuan, at, order_id=None):
    return event("order.paid", order_paid(brand, member, yuan * YUAN, order_id=order_id), at)


def refund(brand, member, order_id, yuan, at):
    return event("order.refunded", {"brandId": brand, "memberId": member, "orderId": order_id,
                                    "refundId": f"rf-{order_id}-{at:%Y%m%d%H%M}", "amountFen": yuan * YUAN}, at)


def standing(store, brand, member):
    profile = store.load_member(brand, member).profile
    return profile.growth, profile.tier_code, profile.tier_valid_until


# ---- 百果园: six calendar months of validity, in Shanghai ------------------------------------------------------------


def test_baiguoyuan_silver_reached_1_february_runs_to_1_august_gold_on_1_march_is_judged_1_september(
        fresh_table, store, plugins, bus, baiguoyuan):
    brand = baiguoyuan
    send = Deliveries(Engine(store, plugins, bus), seed=13)
    member = register(store, brand, shanghai(2026, 1, 15, 9))

    # 1 February: 200 + 300 yuan, 500 growth: 银卡, held through 31 July, judged at the start of 1 August.
    send.day(order(brand, member, 200, shanghai(2026, 2, 1, 0, 5)), order(brand, member, 300, shanghai(2026, 2, 1, 21)))
    assert standing(store, brand, member) == (500, "YIN", shanghai(2026, 8, 1))

    # 1 March: 600 + 1,000 yuan, 2,100 growth: 金卡, judged at the start of 1 September (not 180 days on, 28 August).
    send.day(order(brand, member, 600, shanghai(2026, 3, 1, 8)), order(brand, member, 1000, shanghai(2026, 3, 1, 23, 59)))
    assert standing(store, brand, member) == (2100, "JIN", shanghai(2026, 9, 1))

    # The daily sweep, at brand-local midnight: nothing on 31 July or 31 August; on 1 September the deduction
    # of 1,000 leaves 1,100 and the member is 银卡 again, for six calendar months: judged 1 March 2027.
    for day in (shanghai(2026, 7, 31), shanghai(2026, 8, 1), shanghai(2026, 8, 28), shanghai(2026, 8, 31)):
        send.sweep(day)
    send.sweep(shanghai(2026, 8, 31, 23, 59))
    assert standing(store, brand, member) == (2100, "JIN", shanghai(2026, 9, 1))
    send.sweep(shanghai(2026, 9, 1))
    assert standing(store, brand, member) == (1100, "YIN", shanghai(2027, 3, 1))

    # Six months on (not 180 days: 28 February 2027): 银卡's deduction of 300 leaves 800, still 银卡.
    send.sweep(shanghai(2027, 2, 28))
    assert standing(store, brand, member) == (1100, "YIN", shanghai(2027, 3, 1))
    send.sweep(shanghai(2027, 3, 1))
    assert standing(store, brand, member) == (800, "YIN", shanghai(2027, 9, 1))

    changes = [(f.detail["from"], f.detail["to"]) for f in {f.id: f for f in bus.published
                                                             if f.detail_type == "tier.changed"}.values()]
    assert changes == [("PU", "YIN"), ("YIN", "JIN"), ("JIN", "YIN")]


def test_a_tier_reached_on_31_august_is_judged_at_the_start_of_the_last_day_of_february(store, baiguoyuan, plugins):
    brand = baiguoyuan
    send = Deliveries(Engine(store, plugins), seed=31)
    member = register(store, brand, shanghai(2026, 8, 1))
    send.day(order(brand, member, 500, shanghai(2026, 8, 31, 0, 30)))
    assert standing(store, brand, member) == (500, "YIN", shanghai(2027, 2, 28))


def test_rolling_12_months_are_calendar_months_an_order_of_1_march_2027_counts_through_29_february_2028(
        fresh_table, store, plugins):
    brand = "bgy" + uuid.uuid4().hex[:10]
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=shanghai(2027, 1, 1), plugin_settings=[
        ("tiers", True, {"policy": "rolling12"})])
    send = Deliveries(Engine(store, plugins), seed=12)
    member = register(store, brand, shanghai(2027, 1, 1))
    send.day(order(brand, member, 600, shanghai(2027, 3, 1, 10)))
    # Twelve calendar months: the order leaves the window at the start of 1 March 2028 (366 days, a leap year).
    assert standing(store, brand, member) == (600, "YIN", shanghai(2028, 3, 1))
    send.sweep(shanghai(2028, 2, 29, 12))  # 365 days on: still inside the 12 months
    assert standing(store, brand, member) == (600, "YIN", shanghai(2028, 3, 1))
    send.sweep(shanghai(2028, 3, 1))
    assert standing(store, brand, member) == (0, "PU", None)


# ---- a refund takes back its own order's points -----------------------------------------------------------------


def lots_by_order(store, brand, member):
    return {lot.source.rsplit(":", 1)[1]: (lot.remaining, lot.expires_at.astimezone(SHANGHAI).date().isoformat())
            for lot in store.load_member(brand, member).points.lots}


def test_a_50_yuan_refund_of_the_second_order_takes_50_points_from_that_orders_own_lot(
        fresh_table, store, plugins, bus, baiguoyuan):
    brand = baiguoyuan
    send = Deliveries(Engine(store, plugins, bus), seed=2)
    member = register(store, brand, shanghai(2026, 1, 1, 9))
    send.day(order(brand, member, 300, shanghai(2026, 1, 10, 10), order_id="o1"))
    send.day(order(brand, member, 250, shanghai(2026, 2, 1, 10), order_id="o2"))
    assert lots_by_order(store, brand, member) == {"o1": (300, "2027-01-10"), "o2": (250, "2027-02-01")}

    send.day(refund(brand, member, "o2", 50, shanghai(2026, 3, 1, 10)))
    # Not o1 300 -> 250 (the lot expiring first): o2's own lot gives the 50 back.
    assert lots_by_order(store, brand, member) == {"o1": (300, "2027-01-10"), "o2": (200, "2027-02-01")}
    state = store.load_member(brand, member).points
    assert state.balance == 500 == sum(lot.remaining for lot in state.lots) == sum(
        e.points for e in store.entries(brand, member))

    # Expiry reminders, expiry and `expiringWithin` follow the right lots: the 300 of o1 expire on 10 January.
    assert state.expiring_within(shanghai(2026, 12, 20), 30) == 300
    assert state.expiring_within(shanghai(2027, 1, 5), 30) == 500
    send.sweep(shanghai(2026, 12, 11, 10, 30))  # 30 days before each lot expires (the preset's reminder)
    send.sweep(shanghai(2027, 1, 2, 10, 30))
    reminders = {f.id: (f.detail["points"], f.detail["expiresOn"]) for f in bus.published
                 if f.detail_type == "points.expiring"}
    assert sorted(reminders.values()) == [(200, "2027-02-01"), (300, "2027-01-10")]
    send.sweep(shanghai(2027, 1, 11, 0, 30))
    assert lots_by_order(store, brand, member) == {"o2": (200, "2027-02-01")}
    assert [f.detail["points"] for f in {f.id: f for f in bus.published
                                         if f.detail_type == "points.expired"}.values()] == [300]


def test_what_was_already_spent_of_the_refunded_orders_lot_comes_from_other_lots_and_the_rest_becomes_debt(
        store, plugins, baiguoyuan):
    brand = baiguoyuan
    send = Deliveries(Engine(store, plugins), seed=3)
    member = register(store, brand, shanghai(2026, 1, 1, 9))
    send.day(order(brand, member, 300, shanghai(2026, 1, 10, 10), order_id="o1"),
             order(brand, member, 250, shanghai(2026, 1, 10, 15), order_id="o2"))
    send.day(refund(brand, member, "o2", 50, shanghai(2026, 3, 1, 10)))
    # 400 points paid for something: the lot expiring first (o1's 300) and 100 of o2's.
    points.redeem(store, brand, member, points=400, now=shanghai(2026, 3, 2, 10), idempotency_key="gift-400")
    send.day(order(brand, member, 120, shanghai(2026, 3, 5, 10), order_id="o3"))
    assert lots_by_order(store, brand, member) == {"o2": (100, "2027-01-10"), "o3": (120, "2027-03-05")}

    # The rest of o2 refunded (200 yuan, 200 points): its own 100, then 100 from o3's lot.
    send.day(refund(brand, member, "o2", 200, shanghai(2026, 3, 6, 10)))
    assert lots_by_order(store, brand, member) == {"o3": (20, "2027-03-05")}
    # o3 refunded in full (120 points): its own 20, and 100 the member no longer has: owed, repaid by what comes next.
    send.day(refund(brand, member, "o3", 120, shanghai(2026, 3, 7, 10)))
    state = store.load_member(brand, member).points
    assert (state.balance, state.debt, lots_by_order(store, brand, member)) == (0, 100, {})
    send.day(order(brand, member, 130, shanghai(2026, 3, 8, 10), order_id="o4"))
    state = store.load_member(brand, member).points
    assert (state.balance, state.debt, lots_by_order(store, brand, member)) == (30, 0, {"o4": (30, "2027-03-08")})
    assert state.balance == sum(e.points for e in store.entries(brand, member))


# ---- a late complaint never opens an alert already overdue -------------------------------------------------------

T_DAY = datetime(2026, 6, 1, tzinfo=UTC)
RED_ABOVE_TWO = {"neg": {"measure": "negativeCount", "scope": "channel", "windowHours": 24,
                         "levels": {"yellow": 0, "red": 2}}}
ALERTS = ("query { alerts(status: ALL) { edges { node { metric level status value currentValue openedAt raisedAt "
          "respondBy escalations history { at action level } } } } }")


def complaint(brand, at, n):
    return business_event("feedback.received", {"brandId": brand, "feedbackId": f"fb-{n}", "channel": "douyin",
                                                 "kind": "review", "rating": 1},
                          event_id=f"{brand}-fb-{n}", time=at, source="siyu.care")


def the_alert(brand):
    status, body = call_graphql(ALERTS, token=token("staff", "s1", brand))
    assert status == 200 and "errors" not in body, body
    (edge,) = body["data"]["alerts"]["edges"]
    return edge["node"]


def at(hours, minutes=0):
    return T_DAY + timedelta(hours=hours, minutes=minutes)


def iso(moment):
    return moment.isoformat()


def test_a_late_complaint_that_turns_the_alert_red_leaves_the_full_4_hours_from_the_raise(store, plugins, bus):
    brand = f"c{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "测试品牌", BAIGUOYUAN_LADDER,
                                plugins={"crisis": plugins.validate_params("crisis", {"thresholds": RED_ABOVE_TWO})}))
    send = Deliveries(Engine(store, plugins, bus), seed=49)

    send.day(complaint(brand, at(10), 1), complaint(brand, at(11, 30), 2))  # yellow, in either order
    # A complaint posted at 06:00 reaches Siyu after those of 10:00 and 11:30: the third in 24 hours, red.
    send.day(complaint(brand, at(6), 3))
    alert = the_alert(brand)
    # Raised when Siyu counted it, at the latest time the scope had counted (11:30), not at 06:00: 4 hours to go.
    assert (alert["level"], alert["value"], alert["raisedAt"], alert["respondBy"]) == (
        "RED", 3.0, iso(at(11, 30)), iso(at(15, 30)))
    assert alert["openedAt"] <= alert["raisedAt"]
    history = [h["at"] for h in alert["history"]]
    assert history == sorted(history)

    # Counting goes on: the alert shows the metric's reading now, as well as the one that turned it red.
    send.day(complaint(brand, at(12), 4), complaint(brand, at(13), 5))
    alert = the_alert(brand)
    assert (alert["level"], alert["value"], alert["currentValue"], alert["respondBy"]) == (
        "RED", 3.0, 5.0, iso(at(15, 30)))

    def escalated():
        return {f.id: f.detail for f in bus.published
                if f.detail_type == "alert.escalated" and f.detail["brandId"] == brand}

    send.sweep(at(15, 29), rule="siyu-test-alert-sweep")
    assert escalated() == {}
    send.sweep(at(15, 30), rule="siyu-test-alert-sweep")
    assert [(d["level"], d["minutesLate"]) for d in escalated().values()] == [("red", 0)]


def test_whatever_order_a_days_complaints_arrive_in_red_is_raised_at_the_latest_counted_time(store, plugins):
    for seed in range(6):
        brand = f"c{uuid.uuid4().hex[:10]}"
        store.put_brand(BrandConfig(brand, "测试品牌", BAIGUOYUAN_LADDER, plugins={
            "crisis": plugins.validate_params("crisis", {"thresholds": RED_ABOVE_TWO})}))
        send = Deliveries(Engine(store, plugins), seed=seed)
        send.day(complaint(brand, at(6), 1), complaint(brand, at(10), 2), complaint(brand, at(11, 30), 3))
        alert = the_alert(brand)
        assert (alert["level"], alert["raisedAt"], alert["respondBy"], alert["currentValue"]) == (
            "RED", iso(at(11, 30)), iso(at(15, 30)), 3.0)
        assert alert["openedAt"] <= alert["raisedAt"]
