"""A refund takes back the refunded order's own points first (issue 13), planned without storage."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from rules import ledger
from rules.ledger import Lot, PointsState

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def order_lot(order_id, remaining, expires_in_days, earned=None):
    return Lot(f"lot-{order_id}", earned or remaining, remaining, T0, T0 + timedelta(days=expires_in_days),
               source=f"points:order:{order_id}")


def remaining(state):
    return {lot.lot_id: lot.remaining for lot in state.lots}


def take(state, points, order_id=None, now=T0):
    posting = ledger.take_back(state, points=points, now=now, entry_id="tb",
                               source=f"points:order:{order_id}" if order_id else None)
    return posting, ledger.applied(state, posting)


def test_a_refund_of_the_second_order_takes_from_its_own_lot_not_the_one_expiring_first():
    state = PointsState(550, (order_lot("o1", 300, 315), order_lot("o2", 250, 337)))
    posting, after = take(state, 50, "o2")
    assert remaining(after) == {"lot-o1": 300, "lot-o2": 200}
    assert (posting.points, posting.debt_delta) == (-50, 0)
    assert after.balance == 500 == sum(lot.remaining for lot in after.lots)


def test_what_was_already_spent_of_the_own_lot_comes_from_the_others_earliest_expiry_first():
    state = PointsState(190, (order_lot("o2", 40, 300), order_lot("o3", 100, 400), order_lot("o4", 50, 350)))
    posting, after = take(state, 120, "o2")
    assert remaining(after) == {"lot-o2": 0, "lot-o3": 70, "lot-o4": 0}
    assert [(a.lot_id, a.points) for a in posting.entries[0].allocations] == [
        ("lot-o2", -40), ("lot-o4", -50), ("lot-o3", -30)]


def test_what_the_member_no_longer_has_anywhere_becomes_debt():
    state = PointsState(30, (order_lot("o2", 10, 300), order_lot("o3", 20, 400)))
    posting, after = take(state, 100, "o2")
    assert (posting.points, posting.debt_delta, after.balance, after.debt) == (-30, 70, 0, 70)
    assert posting.entries[0].explanation == {"owed": 70}


def test_an_own_lot_past_its_expiry_is_not_taken_from_its_points_are_gone_already():
    state = PointsState(300, (order_lot("o1", 100, 10), order_lot("o2", 200, 400)))
    _, after = take(state, 50, "o1", now=T0 + timedelta(days=11))
    assert remaining(after) == {"lot-o1": 100, "lot-o2": 150}


def test_without_a_source_a_take_back_is_earliest_expiry_first_as_before():
    state = PointsState(550, (order_lot("o1", 300, 315), order_lot("o2", 250, 337)))
    _, after = take(state, 50)
    assert remaining(after) == {"lot-o1": 250, "lot-o2": 250}


def test_a_lot_keeps_its_source_through_earning_spending_and_combining():
    earned = ledger.earn(PointsState(0), points=100, now=T0, expires_at=T0 + timedelta(days=365), entry_id="e1",
                         source="points:order:o9")
    state = ledger.applied(PointsState(0), earned)
    spent = ledger.spend(state, points=30, now=T0, entry_id="s1")
    combined = ledger.combine([earned, spent])
    assert [(lot.source, lot.remaining) for lot in combined.new_lots] == [("points:order:o9", 70)]
    assert [lot.source for lot in ledger.applied(state, spent).lots] == ["points:order:o9"]
    assert replace(state.lots[0], remaining=0).source == "points:order:o9"
