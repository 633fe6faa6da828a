"""Every pair of operations that can touch the same member, commission, coupon template or alert scope, raced so
that both read before either writes (tests/interleave.py): each race ends in the state of one of its two serial
orders, computed on fresh tables. Every read that decides a write is a condition of that write, so the loser of a
race reads again and plans on what the winner wrote."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import earn, order_paid
from tests.interleave import NOW, race_pair

T = NOW - timedelta(days=10)


def nothing(world):
    pass


def paid_order(yuan=300, order_id="o1", at=T):
    def setup(world):
        world.order("m", order_id, yuan, at)
    return setup


def expiring_lot(world):
    """300 points from an order that stay, and 100 points that expired four days ago."""
    world.order("m", "o-old", 300, NOW - timedelta(days=12))
    earn(world.store, world.brand, world.members["m"], 100, NOW - timedelta(days=6), days=2, key="short-lived")


def bound_invitee_with_order(world):
    """The invitee joined with the inviter's code and paid 1,000 yuan nine days ago: 100 yuan pending (the cap),
    settling two days ago."""
    code = world.store.load_member(world.brand, world.members["inviter"]).profile.referral_code
    world.send("member.registered", {"memberId": world.members["invitee"], "channel": "miniprogram",
                                     "referralCode": code}, NOW - timedelta(days=20), "join-invitee")
    world.order("invitee", "o1", 1000, NOW - timedelta(days=9))


def register_with_code(role, event_id=None):
    def run(world):
        code = world.store.load_member(world.brand, world.members["inviter"]).profile.referral_code
        world.send("member.registered", {"memberId": world.members[role], "channel": "miniprogram",
                                         "referralCode": code}, NOW - timedelta(days=20), event_id or f"join-{role}")
    return run


def negative_post(feedback_id, minutes):
    def run(world):
        world.send("feedback.received", {"feedbackId": feedback_id, "channel": "douyin", "kind": "review",
                                         "rating": 1}, T + timedelta(minutes=minutes), f"fb-{feedback_id}")
    return run


PAIRS = {
    # name: (setup, first, second, roles)
    "order/refund": (nothing, lambda w: w.order("m", "o1", 300, T),
                     lambda w: w.refund("m", "o1", 100, T + timedelta(hours=1), "r1"), ("m",)),
    "refund/order": (nothing, lambda w: w.refund("m", "o1", 100, T + timedelta(hours=1), "r1"),
                     lambda w: w.order("m", "o1", 300, T), ("m",)),
    "order/the same order resent": (nothing, lambda w: w.order("m", "o1", 300, T),
                                    lambda w: w.send("order.paid", order_paid(w.brand, w.members["m"], 300 * 100,
                                                                              order_id="o1"),
                                                     T + timedelta(minutes=5), "pay-o1-resent"), ("m",)),
    "order/order": (nothing, lambda w: w.order("m", "o1", 300, T),
                    lambda w: w.order("m", "o2", 300, T + timedelta(hours=1)), ("m",)),
    "refund/refund": (paid_order(500), lambda w: w.refund("m", "o1", 100, T + timedelta(hours=1), "r1"),
                      lambda w: w.refund("m", "o1", 200, T + timedelta(hours=2), "r2"), ("m",)),
    "redeem/refund": (paid_order(300), lambda w: w.redeem("m", 200, "spend-1"),
                      lambda w: w.refund("m", "o1", 200, T + timedelta(hours=1), "r1"), ("m",)),
    "redeem/redeem": (paid_order(300), lambda w: w.redeem("m", 200, "spend-1"),
                      lambda w: w.redeem("m", 200, "spend-2"), ("m",)),
    "claim/claim": (nothing, lambda w: w.claim("a", "limited-1"), lambda w: w.claim("b", "limited-1"), ("a", "b")),
    "settle/refund": (bound_invitee_with_order, lambda w: w.sweep(NOW - timedelta(days=2) + timedelta(hours=1)),
                      lambda w: w.refund("invitee", "o1", 500, NOW - timedelta(days=3), "r1"),
                      ("inviter", "invitee")),
    "sweep/order": (expiring_lot, lambda w: w.sweep(NOW - timedelta(days=4) + timedelta(hours=1)),
                    lambda w: w.order("m", "o2", 300, NOW - timedelta(days=4) + timedelta(hours=2)), ("m",)),
    "sweep/redeem": (expiring_lot, lambda w: w.sweep(NOW - timedelta(days=4) + timedelta(hours=1)),
                     lambda w: w.redeem("m", 250, "spend-1"), ("m",)),
    "feedback/feedback": (nothing, negative_post("f1", 0), negative_post("f2", 1), ("m",)),
    "checkIn/checkIn": (nothing, lambda w: w.check_in("m"), lambda w: w.check_in("m"), ("m",)),
    "registration with a referral code twice": (nothing, register_with_code("a"), register_with_code("b"),
                                                ("inviter", "a", "b")),
    "one registration announced twice, with a referral code": (nothing, register_with_code("a", "join-shop"),
                                                               register_with_code("a", "join-api"), ("inviter", "a")),
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_a_race_ends_in_the_state_of_one_of_its_serial_orders(pair, dynamodb_endpoint):
    setup, first, second, roles = PAIRS[pair]
    raced, serial, interleaved = race_pair(setup, first, second, roles)
    assert raced in serial, f"{pair}: raced {raced}\nserial orders: {serial}"
    if pair != "checkIn/checkIn":  # two taps in one minute are one event: the second may never reach a write
        assert interleaved, f"{pair}: the two operations did not both read before either wrote"


def test_settlement_racing_a_refund_inside_the_window_ends_with_half_settled_and_nothing_pending(
        dynamodb_endpoint):
    setup, first, second, roles = PAIRS["settle/refund"]
    raced, serial, interleaved = race_pair(setup, first, second, roles)
    assert interleaved
    assert raced["members"]["inviter"]["commission"] == (0, 5000)  # (pending, settled) in fen
    assert serial[0]["members"]["inviter"]["commission"] == serial[1]["members"]["inviter"]["commission"] == (0, 5000)


def test_an_order_and_its_refund_racing_lose_nothing(dynamodb_endpoint):
    for name in ("order/refund", "refund/order"):
        setup, first, second, roles = PAIRS[name]
        raced, serial, interleaved = race_pair(setup, first, second, roles)
        assert interleaved
        # 300 points for the order, 100 taken back by its refund, in whichever order they landed.
        assert raced["members"]["m"]["balance"] == 200, name


def test_one_order_paid_twice_under_two_event_ids_at_once_awards_once(dynamodb_endpoint):
    # Both plan the order as new without reading it (order.paid puts the order's item only if it is missing): the
    # loser finds the item on its write, reads it and plans again, and the order's award is already claimed.
    setup, first, second, roles = PAIRS["order/the same order resent"]
    raced, serial, interleaved = race_pair(setup, first, second, roles)
    assert interleaved
    assert raced["members"]["m"]["balance"] == 300
    assert serial[0]["members"]["m"]["balance"] == serial[1]["members"]["m"]["balance"] == 300
