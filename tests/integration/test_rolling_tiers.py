"""The `rolling12` tier policy (DOMAIN.md 2.2): a member is graded on the growth of the last twelve calendar months
(brand-local days), net of refunds; each order and each refund re-grades, and the daily sweep re-grades when an
order leaves the window. Every business event is delivered one to three times, shuffled within its day."""

from __future__ import annotations

import uuid

import pytest

from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import register
from tests.integration.test_playbook_numbers import Deliveries, order, refund, shanghai, standing


@pytest.fixture
def rolling(fresh_table, store, plugins):
    """百果园's ladder (银卡 500, 金卡 2,000, 钻卡 5,000), one growth per yuan, graded on the last 12 months."""
    brand = "r12" + uuid.uuid4().hex[:10]
    store.put_brand(BrandConfig(brand, "滚动十二月", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=shanghai(2026, 1, 1), plugin_settings=[
        ("points", True, {}), ("tiers", True, {"policy": "rolling12"})])
    return brand


def test_an_order_counts_to_the_end_of_its_brand_local_day_twelve_months_on_not_its_utc_day(
        store, plugins, bus, rolling):
    send = Deliveries(Engine(store, plugins, bus), seed=15)
    member = register(store, rolling, shanghai(2026, 3, 1))
    # Both orders are on 15 March by UTC; the second is on 16 March in Shanghai.
    send.day(order(rolling, member, 300, shanghai(2026, 3, 15, 23, 30), order_id="late-on-the-15th"),
             order(rolling, member, 500, shanghai(2026, 3, 16, 0, 10), order_id="early-on-the-16th"))
    assert standing(store, rolling, member) == (800, "YIN", shanghai(2027, 3, 15))
    send.sweep(shanghai(2027, 3, 14, 23, 59))
    assert standing(store, rolling, member) == (800, "YIN", shanghai(2027, 3, 15))
    # 00:00 on 15 March 2027 in Shanghai: the order of the 15th has left, the one of the 16th counts one day more.
    send.sweep(shanghai(2027, 3, 15))
    assert standing(store, rolling, member) == (500, "YIN", shanghai(2027, 3, 16))
    send.sweep(shanghai(2027, 3, 16))
    assert standing(store, rolling, member) == (0, "PU", None)


def test_refunds_inside_the_window_take_their_growth_off_their_own_order_and_re_grade_at_once(
        store, plugins, bus, rolling):
    send = Deliveries(Engine(store, plugins, bus), seed=16)
    member = register(store, rolling, shanghai(2026, 1, 1))
    send.day(order(rolling, member, 1500, shanghai(2026, 2, 10, 12), order_id="o1"))
    # Refunded in part before the order itself arrives: the order counts net of it.
    send.day(refund(rolling, member, "o2", 100, shanghai(2026, 5, 20, 9)))
    send.day(order(rolling, member, 1500, shanghai(2026, 5, 20, 10), order_id="o2"))
    assert standing(store, rolling, member) == (2900, "JIN", shanghai(2027, 2, 10))

    # 1,000 yuan of o2 back: 1,900 growth in the last twelve months, 银卡 at once.
    send.day(refund(rolling, member, "o2", 1000, shanghai(2026, 6, 1, 10)))
    assert standing(store, rolling, member) == (1900, "YIN", shanghai(2027, 2, 10))
    assert [(f.detail["from"], f.detail["to"]) for f in {f.id: f for f in bus.published
                                                         if f.detail_type == "tier.changed"}.values()] == [
        ("PU", "YIN"), ("YIN", "JIN"), ("JIN", "YIN")]

    # o1 leaves the window at the start of 10 February 2027: o2's 400 net growth is left, 普卡.
    send.sweep(shanghai(2027, 2, 10))
    assert standing(store, rolling, member) == (400, "PU", None)
    # A new order counts with what is still in the window.
    send.day(order(rolling, member, 200, shanghai(2027, 3, 1, 10), order_id="o3"))
    assert standing(store, rolling, member) == (600, "YIN", shanghai(2027, 5, 20))
    send.sweep(shanghai(2027, 5, 20))
    assert standing(store, rolling, member) == (200, "PU", None)


def test_a_refund_of_an_order_that_left_the_window_takes_nothing_from_the_growth_that_still_counts(
        store, plugins, bus, rolling):
    send = Deliveries(Engine(store, plugins, bus), seed=17)
    member = register(store, rolling, shanghai(2026, 1, 1))
    send.day(order(rolling, member, 1000, shanghai(2026, 1, 20, 10), order_id="old"))
    send.day(order(rolling, member, 600, shanghai(2026, 8, 8, 10), order_id="recent"))
    assert standing(store, rolling, member) == (1600, "YIN", shanghai(2027, 1, 20))
    send.sweep(shanghai(2027, 1, 20, 1))
    assert standing(store, rolling, member) == (600, "YIN", shanghai(2027, 8, 8))

    # The old order no longer counts, so refunding it changes nothing; a refund of the recent one does.
    send.day(refund(rolling, member, "old", 1000, shanghai(2027, 1, 25, 10)))
    assert standing(store, rolling, member) == (600, "YIN", shanghai(2027, 8, 8))
    send.day(refund(rolling, member, "recent", 200, shanghai(2027, 1, 26, 10)))
    assert standing(store, rolling, member) == (400, "PU", None)


def test_the_sweeps_re_grade_when_an_order_leaves_the_window_needs_none_of_the_members_order_markers(
        store, plugins, rolling):
    from rules.events import SweepEvent
    from rules.persistence import Marks, Standing

    engine = Engine(store, plugins)
    member = register(store, rolling, shanghai(2026, 3, 1))
    for event in (order(rolling, member, 1500, shanghai(2026, 3, 15, 10)),
                  order(rolling, member, 800, shanghai(2026, 6, 1, 10))):
        assert engine.handle(event).status == "applied"
    at = shanghai(2027, 3, 15)
    # The member's state alone (profile, lots, daily totals): not one order's markers.
    state = store.load_member(rolling, member, as_of=at, marks=Marks())
    assert not any(key.startswith("tiers:order:") for key in state.markers)
    evaluation = engine.evaluate("sweep-probe", at, store.get_brand(rolling), state, "siyu_member_due",
                                 {"sweep": SweepEvent("sweep-probe", "daily", at)})
    assert evaluation.change.standing == Standing(800, "YIN", shanghai(2027, 6, 1))
