"""Parallel redemptions over real HTTP through the moto server: only what the balance covers goes through."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from rules import points
from rules.errors import InsufficientPoints
from tests.helpers import earn, register


def test_twenty_parallel_redemptions_of_100_against_1000_points_let_exactly_ten_through(store, brand_id, now):
    member = register(store, brand_id, now)
    # Several lots with different expiries, so the racing requests contend for the same lots in FIFO order.
    for amount, days in ((300, 30), (250, 60), (450, 90)):
        earn(store, brand_id, member, amount, now, days=days)

    def attempt(i: int):
        try:
            return points.redeem(store, brand_id, member, points=100, now=now + timedelta(seconds=1),
                                 idempotency_key=f"parallel-{i}")
        except InsufficientPoints as short:
            return short

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))

    succeeded = [o for o in outcomes if isinstance(o, points.PointsResult)]
    refused = [o for o in outcomes if isinstance(o, InsufficientPoints)]
    assert len(succeeded) == 10 and len(refused) == 10
    assert len({o.entry_id for o in succeeded}) == 10

    state = store.load_member(brand_id, member)
    entries = store.entries(brand_id, member)
    assert state.points.balance == 0 == sum(e.points for e in entries) == sum(l.remaining for l in state.points.lots)
    assert all(lot.remaining >= 0 for lot in state.points.lots)
    redeemed = [e for e in entries if e.kind.value == "redeem"]
    assert len(redeemed) == 10 and sum(e.points for e in redeemed) == -1000
