"""The ledger planner's rules, without storage."""

from datetime import datetime, timedelta, timezone

import pytest

from rules import ledger
from rules.errors import EntryNotReversible, InsufficientPoints, InvalidInput
from rules.ledger import EntryKind, Lot, PointsState

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def lot(lot_id, remaining, expires_in_days, earned=None):
    return Lot(lot_id, earned or remaining, remaining, T0, T0 + timedelta(days=expires_in_days))


def apply(state: PointsState, posting: ledger.Posting) -> PointsState:
    lots = {l.lot_id: l for l in state.lots}
    for new in posting.new_lots:
        lots[new.lot_id] = new
    for u in posting.lot_updates:
        old = lots.get(u.lot_id)
        remaining = u.after_or_delta if u.is_exact else (old.remaining if old else 0) + u.after_or_delta
        lots[u.lot_id] = Lot(u.lot_id, old.earned if old else remaining, remaining, T0, u.expires_at)
    return PointsState(state.balance + posting.points, tuple(lots.values()))


def test_redemption_spends_the_lot_that_expires_first():
    state = PointsState(300, (lot("late", 200, 300), lot("early", 100, 30)))
    posting = ledger.spend(state, points=150, now=T0, entry_id="r1")
    assert [(a.lot_id, a.points) for a in posting.entries[0].allocations] == [("early", -100), ("late", -50)]


def test_a_lot_past_its_expiry_cannot_be_spent_even_before_the_sweep():
    state = PointsState(300, (lot("expired", 200, 10), lot("fresh", 100, 300)))
    day_after_expiry = T0 + timedelta(days=10)
    assert state.spendable(day_after_expiry) == 100
    with pytest.raises(InsufficientPoints) as short:
        ledger.spend(state, points=150, now=day_after_expiry, entry_id="r1")
    assert (short.value.requested, short.value.available) == (150, 100)


def test_a_lot_is_spendable_until_the_instant_it_expires():
    state = PointsState(100, (lot("a", 100, 10),))
    assert state.spendable(T0 + timedelta(days=10) - timedelta(microseconds=1)) == 100
    assert state.spendable(T0 + timedelta(days=10)) == 0


def test_staff_adjustment_without_a_reason_is_refused():
    with pytest.raises(InvalidInput) as refused:
        ledger.adjust(PointsState(0), points=10, reason="  ", now=T0, expires_at=T0 + timedelta(days=1), entry_id="a")
    assert refused.value.field == "reason"


@pytest.mark.parametrize("amount", [0, -5, True, 1.5])
def test_redeeming_zero_negative_or_fractional_points_is_invalid_input(amount):
    with pytest.raises(InvalidInput):
        ledger.spend(PointsState(100, (lot("a", 100, 10),)), points=amount, now=T0, entry_id="r")


def test_reversing_a_redemption_after_one_of_its_lots_expired_gives_back_only_what_is_still_valid():
    state = PointsState(150, (lot("short", 50, 10), lot("long", 100, 300)))
    redeem = ledger.spend(state, points=120, now=T0, entry_id="r1")
    state = apply(state, redeem)
    later = T0 + timedelta(days=20)
    posting = ledger.reverse(state, redeem.entries[0], now=later, entry_id="v1")
    kinds = [(e.kind, e.points) for e in posting.entries]
    assert kinds == [(EntryKind.REVERSE, 120), (EntryKind.EXPIRE, -50)]
    after = apply(state, posting)
    assert after.balance == 100 == sum(l.remaining for l in after.lots)
    assert after.spendable(later) == 100


def test_earned_points_already_spent_cannot_be_reversed():
    state = PointsState(0)
    earned = ledger.earn(state, points=100, now=T0, expires_at=T0 + timedelta(days=365), entry_id="e1")
    state = apply(state, earned)
    state = apply(state, ledger.spend(state, points=60, now=T0, entry_id="r1"))
    with pytest.raises(EntryNotReversible):
        ledger.reverse(state, earned.entries[0], now=T0, entry_id="v1")


def test_reversals_and_expiries_are_final():
    state = PointsState(100, (lot("a", 100, 1),))
    expiry = ledger.expire(state, now=T0 + timedelta(days=2), entry_id="x1")
    assert expiry.entries[0].points == -100
    with pytest.raises(EntryNotReversible):
        ledger.reverse(state, expiry.entries[0], now=T0, entry_id="v")


def test_an_entry_must_add_up_to_its_lot_allocations():
    with pytest.raises(ValueError):
        ledger.Entry("e", T0, EntryKind.EARN, 10, (ledger.Allocation("a", T0, 9),))
