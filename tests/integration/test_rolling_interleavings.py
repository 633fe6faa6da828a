"""Under the `rolling12` tier policy, two events of one member that add to the same brand-local day's growth, raced so
that both read before either writes (tests/interleave.py): both count, and the race ends where one of its serial
orders ends."""

from __future__ import annotations

from datetime import timedelta

from infra import db
from rules import months
from tests.interleave import NOW, WriteBarrier, fresh_world, race_pair

T = NOW - timedelta(days=10)  # a whole hour: T and a minute later are the same day in Shanghai (midnight is 16:00 UTC)
ROLLING = {"tiers": {"policy": "rolling12"}}


def first_order(world):
    world.order("m", "o1", 300, T)


def second_order(world):
    world.order("m", "o2", 400, T + timedelta(minutes=1))


def test_two_orders_of_one_brand_local_day_raced_both_count_in_the_days_growth(dynamodb_endpoint):
    with fresh_world(("m",), **ROLLING) as world:
        barrier = WriteBarrier(db.client(), world.brand)
        barrier.race(lambda: first_order(world), lambda: second_order(world))
        assert barrier.met, "the two orders did not both read before either wrote"
        state = world.store.load_member(world.brand, world.members["m"])
        day = months.local_day(T, "Asia/Shanghai")
        assert dict(state.daily["tiers:growth"]) == {day: 700}
        assert (state.profile.growth, state.profile.tier_code) == (700, "YIN")


def test_an_order_and_a_refund_of_another_order_of_the_same_day_raced_end_as_one_serial_order(dynamodb_endpoint):
    raced, serial, interleaved = race_pair(
        first_order, second_order, lambda w: w.refund("m", "o1", 100, T + timedelta(minutes=2), "r1"), ("m",),
        **ROLLING)
    assert interleaved
    assert raced in serial
    assert raced["members"]["m"]["growth"] == 600
