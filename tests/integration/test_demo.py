"""The demo brand `make dev` loads: its members' histories are real orders the rules were applied to."""

from __future__ import annotations

from datetime import datetime, timezone

from infra import demo
from plugins.segments.effects import state_of
from rules import phone
from rules.members import LookupKind

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
KEY = "demo-test-key"


def demo_state(store, number: str):
    member_id = store.find_member_id(demo.DEMO_BRAND, LookupKind.PHONE, phone.phone_hash(number, KEY))
    return store.load_member(demo.DEMO_BRAND, member_id)


def test_the_demo_members_earned_their_points_and_tiers_from_real_orders(fresh_table, store):
    loaded = demo.load(store, now=NOW, phone_key=KEY)
    assert len(loaded) == 3
    first = demo_state(store, "13800138000")
    # 1,200 + 800 + 300 yuan at one point and one growth per yuan: 金卡 from the second order on.
    assert (first.points.balance, first.profile.growth, first.profile.tier_code) == (2300, 2300, "JIN")
    assert sorted(lot.remaining for lot in first.points.lots) == [300, 800, 1200]
    assert sum(lot.remaining for lot in first.points.lots) == first.points.balance
    second, third = demo_state(store, "13900139000"), demo_state(store, "13700137000")
    assert (second.points.balance, second.profile.tier_code) == (500, "YIN")
    assert (third.points.balance, third.profile.tier_code) == (5400, "ZUAN")


def test_a_demo_member_who_ordered_two_days_ago_is_an_active_customer_not_a_prospect(fresh_table, store):
    demo.load(store, now=NOW, phone_key=KEY)
    held = state_of(demo_state(store, "13800138000"))
    assert held is not None and held.stage == "ACTIVE"


def test_loading_the_demo_again_changes_nothing(fresh_table, store):
    first = demo.load(store, now=NOW, phone_key=KEY)
    before = demo_state(store, "13800138000")
    assert demo.load(store, now=NOW, phone_key=KEY) == first
    after = demo_state(store, "13800138000")
    assert (after.points.balance, after.version) == (before.points.balance, before.version)
