"""Member day, through the real engine evaluation with the built-in points plugin before it (as a brand runs them)."""

from datetime import datetime, timezone

import member_day
import pytest
from plugins.points import plugin as points
from rules.engine import PluginFailed
from rules.testing import PluginCase

# 2026-03-03 is a Tuesday in Shanghai from 00:00 local, which is 16:00 UTC on Monday 2 March.
TUESDAY_MORNING_SHANGHAI = datetime(2026, 3, 2, 16, 30, tzinfo=timezone.utc)
MONDAY_EVENING_SHANGHAI = datetime(2026, 3, 2, 15, 30, tzinfo=timezone.utc)


def case(**params):
    return PluginCase(points, member_day, params_for={"member_day": params})


def paid(order_id="o-1", amount_fen=30000):
    return {"orderId": order_id, "amountFen": amount_fen, "channel": "miniprogram"}


def test_on_a_brand_local_tuesday_a_300_yuan_order_earns_300_points_and_300_more():
    result = case().run("order.paid", paid(), at=TUESDAY_MORNING_SHANGHAI)
    assert result.points_awarded == 600
    bonus = [d for d in result.decisions if d.plugin == "member_day" and d.effect.kind == "AwardPoints"]
    assert bonus[0].effect.points == 300 and bonus[0].effect.inputs["pointsAwarded"] == 300


def test_it_is_the_brands_tuesday_that_counts_not_utcs():
    assert case().run("order.paid", paid(), at=MONDAY_EVENING_SHANGHAI).points_awarded == 300


def test_the_same_order_announced_twice_gets_one_bonus():
    shop = case()
    first = shop.run("order.paid", paid(), at=TUESDAY_MORNING_SHANGHAI)
    again = shop.run("order.paid", paid(), member=first.member, at=TUESDAY_MORNING_SHANGHAI)
    assert [d.plugin for d in again.decisions if d.effect.kind == "AwardPoints"] == []


def test_a_half_refund_takes_back_half_the_bonus_and_a_full_refund_the_rest():
    shop = case()
    bought = shop.run("order.paid", paid(amount_fen=30000), at=TUESDAY_MORNING_SHANGHAI)
    half = shop.run("order.refunded", {"orderId": "o-1", "amountFen": 15000, "refundId": "r-1"}, member=bought.member,
                    at=TUESDAY_MORNING_SHANGHAI)
    taken = {d.plugin: d.effect.points for d in half.decisions if d.effect.kind == "TakeBackPoints"}
    assert taken == {"points": 150, "member_day": 150}
    rest = shop.run("order.refunded", {"orderId": "o-1", "amountFen": 15000, "refundId": "r-2"}, member=half.member,
                    at=TUESDAY_MORNING_SHANGHAI)
    assert rest.member.points.balance == 0


def test_a_refund_of_an_order_without_a_bonus_takes_nothing_of_its_own():
    shop = case()
    monday = shop.run("order.paid", paid(), at=MONDAY_EVENING_SHANGHAI)
    refund = shop.run("order.refunded", {"orderId": "o-1", "amountFen": 30000}, member=monday.member,
                      at=TUESDAY_MORNING_SHANGHAI)
    assert [d.plugin for d in refund.decisions] == ["points", "points"]


def test_another_member_day_and_a_smaller_bonus_are_parameters():
    monday = case(weekday=1, extraPercent=50).run("order.paid", paid(), at=MONDAY_EVENING_SHANGHAI)
    assert monday.points_awarded == 450


def test_a_bonus_claim_with_someone_elses_key_fails_the_event_naming_the_plugin(monkeypatch):
    monkeypatch.setattr(member_day, "_order_key", lambda order_id: f"order:{order_id}")
    with pytest.raises(PluginFailed) as failed:
        case().run("order.paid", paid(), at=TUESDAY_MORNING_SHANGHAI)
    assert failed.value.plugin == "member_day" and "must start with 'member_day:'" in failed.value.reason
