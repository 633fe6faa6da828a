"""Which lots a posting lists in the due index (`ledger.listing`) is what the sorted walk always chose: the first
holding lot by expiry, the next one after each listed lot a posting empties, a refilled lot, and the first one
from each reminder's day, whatever the member holds (issue 15: the ids of the holding lots and the lots by id are
now made only when a posting needs them)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from rules import ledger
from rules.ledger import Lot, PointsState, Posting

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def the_sorted_walk(state: PointsState, posting: Posting, reminders_from=(), list_new: bool = False) -> Posting:
    """`listing` as it was written before: every holding lot sorted, each first match taken from the sorted list."""
    after = ledger.applied(state, posting)
    holding = sorted([lot for lot in after.lots if lot.remaining > 0], key=lambda lot: (lot.expires_at, lot.lot_id))
    held = {lot.lot_id for lot in holding}
    fresh = {lot.lot_id for lot in posting.new_lots}
    wanted: dict[str, Lot] = {}

    def want(lot):
        if lot is not None and (lot.lot_id in fresh or not lot.listed):
            wanted[lot.lot_id] = lot

    if holding:
        want(holding[0])
    if list_new:
        for lot in holding:
            if lot.lot_id in fresh:
                want(lot)
    for gone in state.lots:
        if gone.listed and gone.remaining > 0 and gone.lot_id not in held:
            order = (gone.expires_at, gone.lot_id)
            want(next((lot for lot in holding if (lot.expires_at, lot.lot_id) > order), None))
    by_id = {lot.lot_id: lot for lot in holding}
    for update in posting.lot_updates:
        if update.lot_id in by_id and (update.before is None or update.before == 0):
            wanted[update.lot_id] = by_id[update.lot_id]
    for start in reminders_from:
        want(next((lot for lot in holding if lot.expires_at >= start), None))
    return replace(posting, listed=tuple(wanted.values()))


def a_member(rnd: random.Random) -> PointsState:
    lots = []
    for n in range(rnd.randint(0, 14)):
        remaining = rnd.choice([0, 0, 5, 10, 40])
        # Few distinct expiries, so several lots often expire at the same instant and their ids decide.
        expires = NOW + timedelta(days=rnd.choice([-3, 1, 30, 30, 200, 365]))
        lots.append(Lot(f"{rnd.choice('abc')}{n:02d}", remaining + 10, remaining, NOW - timedelta(days=10), expires,
                        listed=rnd.random() < 0.3))
    rnd.shuffle(lots)
    return PointsState(sum(lot.remaining for lot in lots), tuple(lots), debt=rnd.choice([0, 0, 15]))


def a_posting(rnd: random.Random, state: PointsState) -> Posting:
    kind = rnd.choice(["earn", "spend", "expire", "take_back", "nothing"])
    if kind == "earn":
        return ledger.earn(state, points=rnd.randint(1, 50), now=NOW, entry_id=f"new{rnd.randint(0, 9)}",
                           expires_at=NOW + timedelta(days=rnd.choice([1, 30, 365])))
    if kind == "spend" and state.debt == 0 and state.spendable(NOW) > 0:
        return ledger.spend(state, points=rnd.randint(1, state.spendable(NOW)), now=NOW, entry_id="spend")
    if kind == "expire":
        return ledger.expire(state, now=NOW, entry_id="expire") or Posting(entries=())
    if kind == "take_back" and state.lots:
        return ledger.take_back(state, points=rnd.randint(1, 30), now=NOW, entry_id="take",
                                source=None)
    return Posting(entries=())


@pytest.mark.parametrize("seed", range(40))
def test_the_lots_a_posting_lists_are_the_ones_the_sorted_walk_listed(seed):
    rnd = random.Random(seed)
    for _ in range(25):
        state = a_member(rnd)
        posting = a_posting(rnd, state)
        reminders = sorted(NOW + timedelta(days=rnd.choice([0, 1, 3, 30, 200])) for _ in range(rnd.randint(0, 3)))
        for list_new in (False, True):
            ours = ledger.listing(state, posting, reminders_from=reminders, list_new=list_new)
            theirs = the_sorted_walk(state, posting, reminders, list_new)
            assert ours == theirs
            assert [lot.lot_id for lot in ours.listed] == [lot.lot_id for lot in theirs.listed]  # the same order
