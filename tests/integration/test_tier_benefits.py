"""Tier benefits that other rules give (DOMAIN.md 2.2, 2.3; item 4): 百果园's upgrade gift pack and birthday coupon
from 银卡 up, and the accelerated upgrade after three months above the spend bar."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
YUAN = 100

GIFTS = {"templates": [
    {"id": "bgy-upgrade-yin", "name": "银卡升级礼", "kind": "gift", "gift": "fruit-box-s", "validDays": 30,
     "claimable": False},
    {"id": "bgy-upgrade-jin", "name": "金卡升级礼", "kind": "gift", "gift": "fruit-box-m", "validDays": 30,
     "claimable": False},
    {"id": "bgy-birthday", "name": "生日券", "kind": "percent_off", "discountPercent": 75, "validDays": 30,
     "claimable": False},
]}


def baiguoyuan(store, plugins, tiers=None):
    brand = "tb" + uuid.uuid4().hex[:12]
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=T, plugin_settings=[
        ("points", True, {}), ("tiers", True, tiers or {}), ("coupons", True, GIFTS)])
    return brand


@pytest.fixture
def send(store, plugins, bus):
    engine = Engine(store, plugins, bus)

    def send(detail_type, detail, at):
        summary = engine.handle(business_event(detail_type, detail, time=at))
        assert summary.status == "applied", summary.as_dict()
        return summary

    return send


def gifts(store, brand, member):
    return sorted(c.template_id for c in store.load_member(brand, member).holdings.get("coupons", ()))


def test_reaching_silver_then_gold_gives_each_upgrade_gift_once_and_never_for_moving_down(store, plugins, send):
    brand = baiguoyuan(store, plugins)
    member = register(store, brand, T)
    send("order.paid", order_paid(brand, member, 600 * YUAN, order_id="o1"), T)
    assert gifts(store, brand, member) == ["bgy-upgrade-yin"]
    send("order.paid", order_paid(brand, member, 1500 * YUAN, order_id="o2"), T + timedelta(days=1))
    assert gifts(store, brand, member) == ["bgy-upgrade-jin", "bgy-upgrade-yin"]
    # A refund drops her back to 银卡, and a new order lifts her to 金卡 again: no second 金卡 gift.
    send("order.refunded", {"brandId": brand, "memberId": member, "orderId": "o2", "amountFen": 1500 * YUAN},
         T + timedelta(days=2))
    assert store.load_member(brand, member).profile.tier_code == "YIN"
    send("order.paid", order_paid(brand, member, 1500 * YUAN, order_id="o3"), T + timedelta(days=3))
    assert store.load_member(brand, member).profile.tier_code == "JIN"
    assert gifts(store, brand, member) == ["bgy-upgrade-jin", "bgy-upgrade-yin"]


def test_a_silver_member_gets_her_birthday_coupon_once_in_her_birthday_month_and_a_regular_member_none(
        store, plugins, send):
    brand = baiguoyuan(store, plugins)
    silver = register(store, brand, T, birthday="--04-10")
    regular = register(store, brand, T, birthday="--04-10")
    send("order.paid", order_paid(brand, silver, 600 * YUAN), T)
    april = datetime(2026, 4, 2, 2, 0, tzinfo=timezone.utc)
    for member in (silver, regular):
        send("member.checked_in", {"brandId": brand, "memberId": member}, april)
        send("member.checked_in", {"brandId": brand, "memberId": member}, april + timedelta(days=1))
    assert gifts(store, brand, silver) == ["bgy-birthday", "bgy-upgrade-yin"]
    assert gifts(store, brand, regular) == []
    # The next year, again once.
    send("member.checked_in", {"brandId": brand, "memberId": silver}, april + timedelta(days=365))
    assert gifts(store, brand, silver).count("bgy-birthday") == 2


def test_three_consecutive_months_above_the_spend_bar_move_a_member_up_one_rung(store, plugins, send):
    brand = baiguoyuan(store, plugins, {"acceleratedUpgrade": {"monthlySpendFen": 200 * YUAN, "months": 3}})
    member = register(store, brand, T)
    march, april, may = T + timedelta(days=2), T + timedelta(days=33), T + timedelta(days=63)
    send("order.paid", order_paid(brand, member, 200 * YUAN), march)
    send("order.paid", order_paid(brand, member, 120 * YUAN), april)
    send("order.paid", order_paid(brand, member, 90 * YUAN), april + timedelta(days=5))  # April: 210 yuan
    assert store.load_member(brand, member).profile.tier_code == "PU"  # 410 growth, two months so far
    summary = send("order.paid", order_paid(brand, member, 200 * YUAN), may)
    upgraded = store.load_member(brand, member).profile
    assert (upgraded.tier_code, upgraded.growth) == ("YIN", 610)  # 610 would be 银卡 anyway: growth decides first
    assert not any(e["rule"] == "accelerated-upgrade" for e in summary.effects)

    # A second member spends 200 yuan a month, three months running: 600 growth is 银卡 by growth, but a 银卡
    # member doing the same moves up to 金卡.
    brand2 = baiguoyuan(store, plugins, {"acceleratedUpgrade": {"monthlySpendFen": 200 * YUAN, "months": 3}})
    silver = register(store, brand2, T)
    send("order.paid", order_paid(brand2, silver, 500 * YUAN), T)  # 银卡 from the start
    send("order.paid", order_paid(brand2, silver, 200 * YUAN), april)
    assert store.load_member(brand2, silver).profile.tier_code == "YIN"
    fast = send("order.paid", order_paid(brand2, silver, 200 * YUAN), may)
    profile = store.load_member(brand2, silver).profile
    assert (profile.tier_code, profile.growth) == ("JIN", 900)
    rule = next(e for e in fast.effects if e["effect"] == "SetTier")
    assert rule["rule"] == "accelerated-upgrade" and rule["inputs"]["spendFen"] == [20000, 20000, 50000]
    assert "bgy-upgrade-jin" in gifts(store, brand2, silver)


def test_a_month_below_the_bar_breaks_the_streak(store, plugins, send):
    brand = baiguoyuan(store, plugins, {"acceleratedUpgrade": {"monthlySpendFen": 200 * YUAN, "months": 3}})
    member = register(store, brand, T)
    send("order.paid", order_paid(brand, member, 500 * YUAN, order_id="big"), T)  # 银卡, March 500 yuan
    send("order.paid", order_paid(brand, member, 300 * YUAN, order_id="apr"), T + timedelta(days=33))
    send("order.refunded", {"brandId": brand, "memberId": member, "orderId": "apr", "amountFen": 150 * YUAN},
         T + timedelta(days=34))  # April nets 150 yuan
    send("order.paid", order_paid(brand, member, 300 * YUAN), T + timedelta(days=63))
    assert store.load_member(brand, member).profile.tier_code == "YIN"


def test_a_refund_takes_its_amount_off_its_orders_month_and_can_break_the_streak(store, plugins, send):
    brand = baiguoyuan(store, plugins, {"acceleratedUpgrade": {"monthlySpendFen": 200 * YUAN, "months": 3}})
    silver = register(store, brand, T)
    april, may = T + timedelta(days=33), T + timedelta(days=63)
    send("order.paid", order_paid(brand, silver, 500 * YUAN, order_id="march-1"), T)
    send("order.paid", order_paid(brand, silver, 200 * YUAN, order_id="april-1"), april)
    # In May, 50 yuan of April's order comes back: April's spend is 150 yuan, below the bar.
    send("order.refunded", {"brandId": brand, "memberId": silver, "orderId": "april-1", "amountFen": 50 * YUAN},
         may)
    state = store.load_member(brand, silver)
    assert state.totals == {"tiers:spend:2026-03": 50000, "tiers:spend:2026-04": 15000}
    summary = send("order.paid", order_paid(brand, silver, 200 * YUAN, order_id="may-1"), may + timedelta(hours=1))
    profile = store.load_member(brand, silver).profile
    assert (profile.tier_code, profile.growth) == ("YIN", 850)
    assert not any(e["rule"] == "accelerated-upgrade" for e in summary.effects)
    # June's order drops March, which no streak ending in June can look at.
    send("order.paid", order_paid(brand, silver, 10 * YUAN, order_id="june-1"), may + timedelta(days=31))
    assert store.load_member(brand, silver).totals == {"tiers:spend:2026-04": 15000, "tiers:spend:2026-05": 20000,
                                                       "tiers:spend:2026-06": 1000}
