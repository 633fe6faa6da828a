"""The brands' playbooks (DOMAIN.md section 11), with their exact numbers, through the real engine and store."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig, TierLevel
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register, scheduled_event

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
YUAN = 100


@pytest.fixture
def brand(store, plugins, request):
    """A brand with the built-ins at their presets; a test may override parameters by marking itself."""
    brand_id = "pb" + uuid.uuid4().hex[:12]
    params = dict(getattr(request, "param", {}) or {})
    store.put_brand(BrandConfig(brand_id, "百果园", params.pop("ladder", BAIGUOYUAN_LADDER)))
    configure_brand(store, plugins, brand_id, now=T, plugin_settings=[
        (name, True, params.get(name, {})) for name in ("points", "tiers", "points_expiry")])
    return brand_id


@pytest.fixture
def events(store, plugins, bus):
    engine = Engine(store, plugins, bus)

    def send(detail_type, detail, at):
        summary = engine.handle(business_event(detail_type, detail, time=at))
        assert summary.status in ("applied", "duplicate"), summary.as_dict()
        return summary

    send.sweep = lambda at: engine.handle(scheduled_event(at))
    return send


def baiguoyuan(store, plugins, bus, brand, *enabled):
    """A 百果园 brand with the named plugins at their presets (for tests that sweep a table of their own)."""
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=T, plugin_settings=[(name, True, {}) for name in enabled])
    return Engine(store, plugins, bus)


def order(brand, member, yuan, at, events, **extra):
    return events("order.paid", order_paid(brand, member, int(yuan * YUAN), **extra), at)


def standing(store, brand, member):
    state = store.load_member(brand, member)
    return state.profile.growth, state.profile.tier_code


# ---- Tiers -----------------------------------------------------------------------------------------------------


def test_item_1_baiguoyuan_499_is_ordinary_500_is_silver_5000_is_diamond(store, brand, events):
    member = register(store, brand, T)
    order(brand, member, 499, T, events)
    assert standing(store, brand, member) == (499, "PU")
    order(brand, member, 1, T + timedelta(hours=1), events)
    assert standing(store, brand, member) == (500, "YIN")
    order(brand, member, 4500, T + timedelta(hours=2), events)
    assert standing(store, brand, member) == (5000, "ZUAN")


def test_item_2_a_gold_member_with_2500_not_upgraded_in_six_months_loses_1000_and_drops_to_silver(
        fresh_table, store, plugins, bus):
    brand = "bgy-validity"
    engine = baiguoyuan(store, plugins, bus, brand, "points", "tiers", "points_expiry")
    member = register(store, brand, T)
    engine.handle(business_event("order.paid", order_paid(brand, member, 2500 * YUAN), time=T))
    assert standing(store, brand, member) == (2500, "JIN")
    valid_until = store.load_member(brand, member).profile.tier_valid_until
    assert valid_until == T + timedelta(days=180)

    engine.handle(scheduled_event(valid_until - timedelta(hours=1)))
    assert standing(store, brand, member) == (2500, "JIN")  # a day early: nothing yet
    engine.handle(scheduled_event(valid_until + timedelta(hours=6)))
    assert standing(store, brand, member) == (1500, "YIN")
    assert "tier.changed" in [f.detail_type for f in bus.published]
    renewed = store.load_member(brand, member).profile.tier_valid_until
    # The next validity counts from the end of the last one, not from when the sweep got to it.
    assert renewed == valid_until + timedelta(days=180)


@pytest.mark.parametrize("brand", [{"tiers": {"growthPerYuan": 0.01}}], indirect=True)
def test_item_6_one_growth_per_100_yuan_and_500_growth_makes_silver(store, brand, events):
    member = register(store, brand, T)
    order(brand, member, 49_999, T, events)
    assert standing(store, brand, member) == (499, "PU")
    order(brand, member, 100, T + timedelta(hours=1), events)
    assert standing(store, brand, member) == (500, "YIN")


HEYTEA = (TierLevel("VIP1", "VIP1", 0), TierLevel("VIP2", "VIP2", 100), TierLevel("VIP3", "VIP3", 500))


@pytest.mark.parametrize("brand", [{"ladder": HEYTEA, "tiers": {"firstOrderUpgrade": {"minFen": 100, "tier": "VIP2"}}}],
                         indirect=True)
def test_item_7_heytea_a_first_order_of_at_least_1_yuan_lifts_vip1_to_vip2(store, brand, events):
    small, enough = register(store, brand, T), register(store, brand, T)
    order(brand, small, 0.99, T, events)
    assert standing(store, brand, small) == (0, "VIP1")
    order(brand, small, 1, T + timedelta(hours=1), events)  # no longer the first order
    assert standing(store, brand, small) == (1, "VIP1")
    order(brand, enough, 1, T, events)
    assert standing(store, brand, enough) == (1, "VIP2")


# ---- Points ----------------------------------------------------------------------------------------------------


def test_item_11_one_point_per_yuan_check_in_5_share_20_live_10_and_anniversary_10x(store, brand, events):
    member = register(store, brand, T - timedelta(days=365))  # joined a year ago today (Shanghai date)
    base = register(store, brand, T - timedelta(days=200))
    order(brand, base, 128.5, T, events)
    assert store.load_member(brand, base).points.balance == 128
    order(brand, member, 128.5, T, events)
    assert store.load_member(brand, member).points.balance == 1285  # anniversary: 10x

    events("member.checked_in", {"brandId": brand, "memberId": base}, T)
    events("member.checked_in", {"brandId": brand, "memberId": base}, T + timedelta(hours=3))
    events("member.engaged", {"brandId": brand, "memberId": base, "action": "share", "refId": "friend-1"}, T)
    events("member.engaged", {"brandId": brand, "memberId": base, "action": "share", "refId": "friend-1"}, T)
    events("member.engaged", {"brandId": brand, "memberId": base, "action": "share", "refId": "friend-2"}, T)
    events("member.engaged", {"brandId": brand, "memberId": base, "action": "live_interaction"}, T)
    events("member.engaged", {"brandId": brand, "memberId": base, "action": "live_interaction"}, T)
    assert store.load_member(brand, base).points.balance == 128 + 5 + 20 + 20 + 10


def test_item_14_points_expire_after_365_days_with_a_reminder_30_days_before(fresh_table, store, plugins, bus):
    brand = "bgy-expiry"
    engine = baiguoyuan(store, plugins, bus, brand, "points", "points_expiry")
    member = register(store, brand, T)
    engine.handle(business_event("order.paid", order_paid(brand, member, 300 * YUAN), time=T))
    lot = store.load_member(brand, member).points.lots[0]
    assert lot.expires_at == T + timedelta(days=365)

    def reminders():
        return [f.detail for f in bus.published if f.detail_type == "points.expiring"]

    engine.handle(scheduled_event(T + timedelta(days=334)))  # 31 days before: too early
    assert reminders() == []
    engine.handle(scheduled_event(T + timedelta(days=335, hours=1)))
    engine.handle(scheduled_event(T + timedelta(days=336, hours=1)))  # the next day: not again
    assert [(r["points"], r["expiresOn"]) for r in reminders()] == [(300, "2027-03-01")]
    engine.handle(scheduled_event(T + timedelta(days=365, hours=1)))
    assert store.load_member(brand, member).points.balance == 0
    assert [f.detail["points"] for f in bus.published if f.detail_type == "points.expired"] == [300]


def test_item_14_points_expiring_within_30_days_pay_at_5zhe_half_the_usual_cost(store, brand, events):
    from rules import points

    member = register(store, brand, T)
    order(brand, member, 300, T, events)  # 300 points expiring T + 365 days
    order(brand, member, 500, T + timedelta(days=200), events)  # 500 points expiring later
    config = store.get_brand(brand)
    # 340 days on, the first 300 expire within 30 days: paying 400 points takes those 300 first (worth 6 yuan at
    # 5折) and 100 regular ones (1 yuan): 7 yuan off a 20 yuan order.
    at = T + timedelta(days=340)
    paid = points.pay_with_points(store, config, member, points=400, order_id="o-5zhe", order_amount_fen=2000,
                                  now=at, idempotency_key="pay-1")
    assert (paid.result.points, paid.discount_fen) == (-400, 700)
    again = points.pay_with_points(store, config, member, points=400, order_id="o-5zhe", order_amount_fen=2000,
                                   now=at + timedelta(minutes=1), idempotency_key="pay-1")
    assert (again.result.replayed, again.discount_fen) == (True, 700)
    # Earlier in the year nothing expires soon: 100 points are 1 yuan.
    early = register(store, brand, T)
    order(brand, early, 300, T, events)
    regular = points.pay_with_points(store, config, early, points=200, order_id="o-2", order_amount_fen=2000,
                                     now=T + timedelta(days=10), idempotency_key="pay-2")
    assert regular.discount_fen == 200


def test_no_reminder_for_points_already_spent(fresh_table, store, plugins, bus):
    from rules import points

    brand = "bgy-spent"
    engine = baiguoyuan(store, plugins, bus, brand, "points", "points_expiry")
    member = register(store, brand, T)
    engine.handle(business_event("order.paid", order_paid(brand, member, 300 * YUAN), time=T))
    points.redeem(store, brand, member, points=300, now=T + timedelta(days=10), idempotency_key="spent")
    engine.handle(scheduled_event(T + timedelta(days=335, hours=1)))
    assert [f for f in bus.published if f.detail_type == "points.expiring"] == []


# ---- Refunds ---------------------------------------------------------------------------------------------------


def test_a_partial_refund_takes_back_proportional_points_and_spent_points_become_debt(store, brand, events):
    from rules import points
    from rules.errors import PointsDebtOutstanding

    member = register(store, brand, T)
    order(brand, member, 200, T, events, order_id="o-200")
    events("order.refunded", {"brandId": brand, "memberId": member, "orderId": "o-200", "amountFen": 5000}, T)
    assert store.load_member(brand, member).points.balance == 150
    points.redeem(store, brand, member, points=150, now=T, idempotency_key="all")
    events("order.refunded", {"brandId": brand, "memberId": member, "orderId": "o-200", "amountFen": 15000},
           T + timedelta(hours=1))
    state = store.load_member(brand, member)
    assert (state.points.balance, state.points.debt) == (0, 150)
    with pytest.raises(PointsDebtOutstanding):
        points.redeem(store, brand, member, points=1, now=T, idempotency_key="blocked")
    order(brand, member, 100, T + timedelta(hours=2), events)
    state = store.load_member(brand, member)
    assert (state.points.balance, state.points.debt) == (0, 50)
    order(brand, member, 80, T + timedelta(hours=3), events)
    state = store.load_member(brand, member)
    assert (state.points.balance, state.points.debt) == (30, 0)
    entries = store.entries(brand, member)
    assert state.points.balance == sum(e.points for e in entries) == sum(l.remaining for l in state.points.lots)


def test_a_refund_that_arrives_before_its_order_is_neither_lost_nor_counted_twice(store, brand, events):
    early, clean = register(store, brand, T), register(store, brand, T)
    events("order.refunded", {"brandId": brand, "memberId": early, "orderId": "o-x", "amountFen": 3000}, T)
    order(brand, early, 100, T + timedelta(minutes=1), events, order_id="o-x")
    order(brand, clean, 100, T, events, order_id="o-x")
    events("order.refunded", {"brandId": brand, "memberId": clean, "orderId": "o-x", "amountFen": 3000},
           T + timedelta(minutes=1))
    for member in (early, clean):
        assert store.load_member(brand, member).points.balance == 70
        assert standing(store, brand, member) == (70, "PU")


def test_refunding_the_order_that_bought_an_upgrade_undoes_it(store, brand, events):
    member = register(store, brand, T)
    order(brand, member, 600, T, events, order_id="o-up")
    assert standing(store, brand, member) == (600, "YIN")
    events("order.refunded", {"brandId": brand, "memberId": member, "orderId": "o-up", "amountFen": 60000},
           T + timedelta(days=1))
    assert standing(store, brand, member) == (0, "PU")


def test_item_12_yuanqi_paid_members_earn_double_and_100_points_pay_1_yuan_up_to_half_the_order(
        store, brand, events):
    from tests.helpers import call_graphql, token

    normal, paid = register(store, brand, T), register(store, brand, T)
    events("membership.paid", {"brandId": brand, "memberId": paid, "plan": "yearly-98",
                               "validUntil": (T + timedelta(days=365)).isoformat()}, T)
    order(brand, normal, 300, T + timedelta(minutes=1), events)
    order(brand, paid, 300, T + timedelta(minutes=1), events)
    assert store.load_member(brand, normal).points.balance == 300
    assert store.load_member(brand, paid).points.balance == 600

    pay = """mutation($points: Int!, $key: String!) { payWithPoints(input: {orderId: "o-300", orderAmountFen: 30000,
        points: $points, idempotencyKey: $key}) { __typename ... on PointsPaid { discountFen balance points }
        ... on PointsPaymentTooLarge { maxPoints maxFen } ... on InvalidInput { field } } }"""
    member_token = token("member", paid, brand)

    def paying(points_, key):
        return call_graphql(pay, {"points": points_, "key": key}, member_token)[1]["data"]["payWithPoints"]

    assert paying(99, "p0") == {"__typename": "InvalidInput", "field": "points"}  # at least 100 points
    assert paying(200, "p1") == {"__typename": "PointsPaid", "discountFen": 200, "balance": 400, "points": -200}
    store.forget_brands()


def test_points_may_pay_at_most_half_of_an_order(store, brand, events):
    from rules import points
    from rules.errors import PointsPaymentTooLarge

    member = register(store, brand, T)
    order(brand, member, 30_000, T, events)  # 30,000 points
    config = store.get_brand(brand)
    with pytest.raises(PointsPaymentTooLarge) as refused:
        points.pay_with_points(store, config, member, points=15_100, order_id="o-300", order_amount_fen=30000,
                               now=T, idempotency_key="too-much")
    assert (refused.value.max_points, refused.value.max_fen) == (15_000, 15_000)
    paid = points.pay_with_points(store, config, member, points=15_000, order_id="o-300", order_amount_fen=30000,
                                  now=T, idempotency_key="half")
    assert paid.discount_fen == 15_000 and paid.result.balance == 15_000


@pytest.mark.parametrize("brand", [{"tiers": {"policy": "rolling12"}}], indirect=True)
def test_rolling_12_months_a_member_who_stops_buying_is_downgraded_automatically(fresh_table, store, brand, events):
    member = register(store, brand, T)
    order(brand, member, 1500, T, events)
    order(brand, member, 800, T + timedelta(days=100), events)
    assert standing(store, brand, member) == (2300, "JIN")
    events.sweep(T + timedelta(days=364))
    assert standing(store, brand, member) == (2300, "JIN")
    events.sweep(T + timedelta(days=366))  # the first order has left the window
    assert standing(store, brand, member) == (800, "YIN")
    events.sweep(T + timedelta(days=467))  # and then the second
    assert standing(store, brand, member) == (0, "PU")
    assert store.load_member(brand, member).profile.tier_valid_until is None
