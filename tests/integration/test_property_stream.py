"""A property of the whole engine under production-like delivery: members' orders, refunds (before and after their
orders), check-ins and redemptions (through GraphQL), every one delivered 1-3 times, shuffled, through several
threads, while the embedded DynamoDB answers TransactionConflict on a share of all transactions. The stored
balance, debt, growth, tier and commissions must equal an independent plain calculation.

The default size keeps CI quick; SIYU_FULL_PROPERTY=1 runs 200 members and more than 5,000 events.

The stream is built so that its result does not depend on the order of arrival (it must not: each arrival order
is a valid production history): redemptions are funded by a grant made before the stream, each invitee's orders
stay under the commission cap, amounts are whole tens of yuan (so every proportional take-back is exact), and each
check-in falls on its own day.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from infra import db
from infra.embedded_dynamodb import CONFLICT, Faults
from rules.errors import Busy
from tests.helpers import earn
from tests.interleave import NOW, YUAN, fresh_world

FULL = os.environ.get("SIYU_FULL_PROPERTY") == "1"
MEMBERS = 200 if FULL else 6
INVITERS = max(1, MEMBERS // 10)  # each invites about nine others
THREADS = 6 if FULL else 4
CONFLICT_SHARE = 0.05
GRANT = 1000
CHECK_IN_POINTS = 5
START = NOW - timedelta(days=30)
LADDER = ((5000, "ZUAN"), (2000, "JIN"), (500, "YIN"), (0, "PU"))  # 百果园's thresholds
FLAT = {"tierMultipliers": {"PU": 1, "YIN": 1, "JIN": 1, "ZUAN": 1}, "checkInPoints": CHECK_IN_POINTS}


@dataclass
class Expected:
    points: int = GRANT
    growth: int = 0
    commission_fen: int = 0  # as an inviter: everything settles once the windows have ended
    events: list = field(default_factory=list)


def plan(rng: random.Random, roles: list[str]) -> tuple[dict[str, Expected], dict[str, str], list]:
    """The stream, and what it must leave, computed by plain arithmetic."""
    expected = {role: Expected() for role in roles}
    inviter_of = {role: roles[i % INVITERS] for i, role in enumerate(roles) if i >= INVITERS}
    deliveries = []
    for index, role in enumerate(roles):
        mine = expected[role]
        for n in range(9):
            order_id, yuan = f"{role}-o{n}", rng.randrange(1, 11) * 10  # at most 900 yuan: under the 100-yuan cap
            at = START + timedelta(days=rng.randrange(0, 8), minutes=rng.randrange(0, 1440))
            deliveries.append(("order", role, order_id, yuan, at))
            refunds = []
            if rng.random() < 0.55:
                left = yuan
                for r in range(rng.randrange(1, 3)):
                    part = rng.randrange(0, left // 10 + 1) * 10
                    if part:
                        refunds.append(part)
                        left -= part
                        when = at + timedelta(hours=1 + r, days=rng.randrange(0, 4))  # inside the 7-day window
                        deliveries.append(("refund", role, order_id, part, when, f"{order_id}-r{r}"))
            net = yuan - sum(refunds)
            mine.points += net
            mine.growth += net
            if role in inviter_of:
                expected[inviter_of[role]].commission_fen += net * YUAN // 10
        for day in rng.sample(range(0, 12), 6):
            deliveries.append(("checkin", role, START + timedelta(days=day, hours=3)))
            mine.points += CHECK_IN_POINTS
        for n in range(5):
            spend = rng.randrange(1, 6) * 10
            deliveries.append(("redeem", role, f"{role}-spend{n}", spend))
            mine.points -= spend
    return expected, inviter_of, deliveries


def test_a_shuffled_stream_with_redeliveries_and_conflicts_leaves_every_member_as_plain_arithmetic_says(
        dynamodb_endpoint):
    rng = random.Random(20261130)
    roles = [f"m{i:03d}" for i in range(MEMBERS)]
    with fresh_world(tuple(roles), points=FLAT) as world:
        expected, inviter_of, events = plan(rng, roles)
        for invitee, inviter in inviter_of.items():
            code = world.store.load_member(world.brand, world.members[inviter]).profile.referral_code
            world.send("member.registered", {"memberId": world.members[invitee], "channel": "miniprogram",
                                             "referralCode": code}, START - timedelta(days=1), f"join-{invitee}")
        for role in roles:
            earn(world.store, world.brand, world.members[role], GRANT, START - timedelta(days=1), days=400,
                 key=f"grant-{role}")
        stream = [event for event in events for _ in range(rng.randint(1, 3))]
        rng.shuffle(stream)

        def deliver(event):
            kind, role = event[0], event[1]
            for _ in range(50):  # Lambda's retries: a delivery that ends Busy comes again
                try:
                    if kind == "order":
                        return world.order(role, event[2], event[3], event[4])["status"]
                    if kind == "refund":
                        return world.refund(role, event[2], event[3], event[4], event[5])["status"]
                    if kind == "checkin":
                        return world.send("member.checked_in", {"memberId": world.members[role]}, event[2],
                                          f"checkin-{role}-{event[2]:%Y%m%d}")["status"]
                    answer = world.redeem(role, event[3], event[2])
                    if answer != "Busy":
                        return answer
                except Busy:
                    pass
            return "gave up"

        started = time.monotonic()
        with Faults(db.client(), CONFLICT, fraction=CONFLICT_SHARE, seed=11) as faults:
            with ThreadPoolExecutor(THREADS, initializer=lambda: asyncio.set_event_loop(
                    asyncio.new_event_loop())) as pool:
                answers = list(pool.map(deliver, stream))
        streamed = time.monotonic() - started
        assert set(answers) <= {"applied", "duplicate", "PointsChanged"}, sorted(set(answers))
        # Every commission's window has ended: the daily sweeps settle them all.
        for day in (9, 11, 13, 15):  # each daily sweep looks three days back
            world.sweep(START + timedelta(days=day, hours=20))

        mismatches = []
        snapshot = world.snapshot()["members"]
        for role in roles:
            got, want = snapshot[role], expected[role]
            tier = next(code for threshold, code in LADDER if want.growth >= threshold)
            for name, actual, wanted in (("balance", got["balance"], want.points), ("debt", got["debt"], 0),
                                         ("growth", got["growth"], want.growth), ("tier", got["tier"], tier),
                                         ("commission", got["commission"], (0, want.commission_fen))):
                if actual != wanted:
                    mismatches.append((role, name, actual, wanted))
        transactions = faults.seen
        print(f"\nproperty stream: {MEMBERS} members, {len(events)} events, {len(stream)} deliveries, "
              f"{THREADS} threads, {faults.injected} of {transactions} transactions answered TransactionConflict "
              f"({faults.injected / max(1, transactions):.1%}), {streamed:.0f}s, {len(mismatches)} mismatches")
        assert faults.injected >= CONFLICT_SHARE * transactions * 0.6
        assert mismatches == []
        if FULL:
            assert MEMBERS == 200 and len(events) >= 5000
