"""The `points` plugin's rules, through the real engine evaluation without a database (rules.testing)."""

from dataclasses import replace
from datetime import datetime, timezone

import plugins.points.plugin as points_plugin
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig, TierLevel
from rules.testing import PluginCase, member

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # 1 March in Shanghai


def order(fen, order_id="o-1", **extra):
    return {"orderId": order_id, "amountFen": fen, "channel": "miniprogram", **extra}


def test_a_member_ordering_on_their_birthday_earns_double():
    case = PluginCase(points_plugin)
    birthday_member = replace(member(), profile=replace(member().profile, birthday="--03-01"))
    other_day = replace(member(), profile=replace(member().profile, birthday="--03-02"))
    assert case.run("order.paid", order(10000), member=birthday_member, at=T).points_awarded == 200
    assert case.run("order.paid", order(10000), member=other_day, at=T).points_awarded == 100


def test_the_tiers_own_points_multiplier_applies_unless_the_brand_sets_one():
    ladder = (TierLevel("PU", "普卡", 0), TierLevel("JIN", "金卡", 2000, 1000, {"pointsMultiplier": 1.5}))
    brand = BrandConfig("test-brand", "x", ladder)
    gold = member(tier="JIN", growth=2500)
    assert PluginCase(points_plugin, brand=brand).run("order.paid", order(10000), member=gold).points_awarded == 150
    overridden = PluginCase(points_plugin, brand=brand, params={"tierMultipliers": {"JIN": 3}})
    assert overridden.run("order.paid", order(10000), member=gold).points_awarded == 300


def test_excluded_categories_earn_nothing_and_coupon_orders_can_earn_nothing():
    items = [{"sku": "apple", "category": "fruit", "amountFen": 6000},
             {"sku": "card", "category": "gift_card", "amountFen": 4000}]
    case = PluginCase(points_plugin, params={"excludedCategories": ["gift_card"], "noPointsWithCoupon": True})
    assert case.run("order.paid", order(10000, items=items)).points_awarded == 60
    assert case.run("order.paid", order(10000, couponIds=["c-1"])).points_awarded == 0


def test_the_baiguoyuan_ladder_carries_an_upgrade_gift_and_a_birthday_coupon_from_silver_up():
    benefits = {t.code: t.benefits for t in BAIGUOYUAN_LADDER}
    assert "birthdayCoupon" not in benefits["PU"]
    assert all("birthdayCoupon" in benefits[c] and "upgradeGiftCoupon" in benefits[c] for c in ("YIN", "JIN", "ZUAN"))
