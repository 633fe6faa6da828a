"""The sandbox protocol: a partner plugin sees in its sandbox what it would see in process, and only effects it may
return come back."""

from datetime import date, datetime, timedelta, timezone

import pytest

from rules import effects as fx
from plugins.coupons.effects import IssueCoupon, UseCoupon
from rules import wire
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.context import Decided, RuleContext, member_view
from rules.testing import member

T = datetime(2026, 3, 3, 2, 0, tzinfo=timezone.utc)


def context() -> RuleContext:
    state = member(points=120, markers={"points:order:o-1": {"amountFen": 12000, "points": 120}},
                   consents={"marketing_messages": True})
    view = member_view(state.profile, state.points, state.markers, state.holdings, {"marketing_messages": True},
                       daily={"member_day:spend": {date(2026, 3, 1): 300, date(2026, 2, 28): -20}})
    brand = BrandConfig("b1", "品牌", BAIGUOYUAN_LADDER, timezone="Asia/Shanghai",
                        plugins={"points": {"pointsPerYuan": 1}, "member_day": {"weekday": 2}})
    awarded = fx.AwardPoints(points=120, expires_at=T + timedelta(days=365), reason="order", rule="earn",
                             inputs={"orderId": "o-1"})
    return RuleContext(brand=brand, params={"weekday": 2, "tags": ["a"]}, now=T, member=view,
                       decided=(Decided("points", "1.0.0", awarded),))


def test_what_a_sandboxed_plugin_reads_arrives_as_it_was():
    original = context()
    seen = wire.round_trip(original)
    assert seen.brand.timezone == "Asia/Shanghai" and seen.local_date() == original.local_date()
    assert seen.brand.tiers == original.brand.tiers and seen.params["weekday"] == 2
    assert seen.member.points == original.member.points and seen.member.spendable(T) == 120
    assert seen.member.marker("points:order:o-1") == {"amountFen": 12000, "points": 120}
    assert seen.member.consented("marketing_messages") and seen.member.tier_code == original.member.tier_code
    assert seen.decided_by("points") == original.decided_by("points")
    assert seen.expiry_for_new_points() == original.expiry_for_new_points()
    assert seen.member.daily_totals("member_day:spend") == {date(2026, 3, 1): 300, date(2026, 2, 28): -20}


def test_what_stays_with_the_engine_does_not_cross():
    seen = wire.round_trip(context())
    assert seen.extras == {} and seen.member.identities == frozenset()


def test_every_effect_a_partner_may_return_comes_back_equal():
    samples = [
        fx.AwardPoints(points=5, expires_at=T, reason="r", rule="x", inputs={"a": [1, 2]}),
        fx.TakeBackPoints(points=5, reason="r", rule="x"),
        fx.ExpirePoints(rule="x"),
        fx.AddGrowth(growth=-3, rule="x"),
        fx.SetTier(code="YIN", valid_until=None, rule="x"),
        fx.SetPaidMembership(until=T, rule="x"),
        fx.Once(key="p:k", data={"n": 1}, due_at=T, rule="x"),
        fx.AddToTotal(total="p:spend", amount=-7, rule="x"),
        fx.AddToDailyTotal(total="p:spend", day=date(2026, 3, 3), amount=-7, keep_months=3, rule="x"),
        fx.Emit(detail_type="p.done", detail={"k": "v"}, rule="x"),
        IssueCoupon(template_id="T1", reason="r", rule="x"),
        UseCoupon(coupon_id="c1", order_id="o1", rule="x"),
        fx.Note(message="m", rule="x"),
    ]
    assert {type(e).__name__ for e in samples} == set(wire.partner_effects())
    for effect in samples:
        assert fx.describe(wire.load_effect(wire.dump_effect(effect))) == fx.describe(effect)


@pytest.mark.parametrize("sent, refused", [
    ({"effect": "BindReferral", "rule": "x"}, "not an effect a partner plugin may return"),
    ({"effect": "AwardPoints", "rule": "x", "points": 5, "reason": "r", "owner": "referral",
      "expires_at": {"$datetime": T.isoformat()}}, "has no field 'owner'"),
    ({"effect": "AwardPoints", "rule": "x"}, "AwardPoints"),
    (["not", "an", "object"], "must be an object"),
])
def test_what_is_not_a_partner_effect_is_refused_saying_why(sent, refused):
    with pytest.raises(wire.WireError, match=refused):
        wire.load_effect(sent)


def test_a_plugins_context_is_the_events_with_that_plugins_params_as_replace_would_make_it():
    from dataclasses import fields, replace
    from types import MappingProxyType

    original = context()
    mine = original.for_plugin({"pointsPerYuan": 2})
    assert mine == replace(original, params=MappingProxyType({"pointsPerYuan": 2}))
    assert all(getattr(mine, f.name) is getattr(original, f.name) for f in fields(original) if f.name != "params")
