"""元气森林's commission (DOMAIN.md 4.1, issue 13 item 3): 10% of the invitee's paid orders, at most 100 yuan per
invitee. A commission is the rate on the net paid amount, within the cap: a refund inside the window recomputes the
order's commission on what is left of it; a refund after the window changes nothing settled.

Each event is delivered one to three times, shuffled within its day, with the daily sweep running every day."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.interleave import NOW, YUAN, fresh_world

DAY0 = (NOW - timedelta(days=25)).replace(hour=2)


def deliver_days(world, days, seed):
    """days: {day number: [callables]}; every callable delivered 1-3 times, shuffled within its day, then that
    day's sweep (twice: a sweep delivered again changes nothing)."""
    rng = random.Random(seed)
    for day in range(0, max(days) + 1):
        deliveries = [event for event in days.get(day, ()) for _ in range(rng.randint(1, 3))]
        rng.shuffle(deliveries)
        for deliver in deliveries:
            deliver(world)
        for _ in range(2):
            world.sweep(DAY0 + timedelta(days=day, hours=20))
        yield day


def commission(world):
    return world.snapshot()["members"]["inviter"]["commission"]  # (pending, settled) in fen


def announced(world):
    seen = {e.id: e.detail["fen"] for e in world.engine.bus.published if e.detail_type == "commission.settled"}
    return sorted(seen.values())


@pytest.mark.parametrize("seed", [1, 2])
def test_1200_then_a_600_refund_then_800_settles_exactly_100_yuan(seed, dynamodb_endpoint):
    with fresh_world(("inviter", "invitee")) as world:
        code = world.store.load_member(world.brand, world.members["inviter"]).profile.referral_code
        at = lambda day, hour: DAY0 + timedelta(days=day, hours=hour)  # noqa: E731
        days = {
            0: [lambda w: w.send("member.registered", {"memberId": w.members["invitee"], "channel": "miniprogram",
                                                       "referralCode": code}, at(0, 0), "join")],
            1: [lambda w: w.order("invitee", "A", 1200, at(1, 1))],
            3: [lambda w: w.refund("invitee", "A", 600, at(3, 3), "rA")],
            5: [lambda w: w.order("invitee", "B", 800, at(5, 3))],
            # B's window ended on day 12: a refund on day 15 leaves its settled commission as it is.
            15: [lambda w: w.refund("invitee", "B", 400, at(15, 3), "rB")],
        }
        seen = {}
        for day in deliver_days(world, days, seed):
            seen[day] = commission(world)
        assert seen[1] == (100 * YUAN, 0)  # 10% of 1,200 is 120, capped at 100
        assert seen[3] == (60 * YUAN, 0)  # min(10% x 600, cap room 100) = 60, not 100 x 600/1,200 = 50
        assert seen[5] == (100 * YUAN, 0)  # 800 yuan would earn 80; the cap leaves 40
        assert seen[8] == (40 * YUAN, 60 * YUAN)  # A's window ended on day 8
        assert seen[12] == (0, 100 * YUAN)
        assert seen[15] == (0, 100 * YUAN)
        assert announced(world) == [40 * YUAN, 60 * YUAN]


def test_the_cap_counts_settled_commission_net_of_claw_backs(dynamodb_endpoint):
    """A settled 60 yuan leaves 40 yuan of room, whatever A earned before its refund."""
    with fresh_world(("inviter", "invitee")) as world:
        code = world.store.load_member(world.brand, world.members["inviter"]).profile.referral_code
        world.send("member.registered", {"memberId": world.members["invitee"], "channel": "miniprogram",
                                         "referralCode": code}, DAY0, "join")
        world.order("invitee", "A", 1200, DAY0 + timedelta(hours=1))
        world.refund("invitee", "A", 600, DAY0 + timedelta(days=2), "rA")
        world.sweep(DAY0 + timedelta(days=8))
        assert commission(world) == (0, 60 * YUAN)
        world.order("invitee", "B", 2000, DAY0 + timedelta(days=9))
        assert commission(world) == (40 * YUAN, 60 * YUAN)
