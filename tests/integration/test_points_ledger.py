"""Points operations through the real store: idempotency, expiry, reversal and the reconciliation invariant."""

from datetime import timedelta

import pytest

from infra.db import count_requests
from rules import points
from rules.errors import EntryNotReversible, IdempotencyKeyReused, InsufficientPoints, InvalidInput
from rules.ledger import EntryKind
from tests.helpers import earn, register


def assert_reconciles(store, brand_id, member_id):
    totals = points.reconcile(store, brand_id, member_id)
    assert totals["balance"] == totals["entries"] == totals["lots"], totals


def test_repeating_a_redemption_with_its_key_returns_the_first_result_and_writes_nothing(store, brand_id, now):
    member = register(store, brand_id, now)
    earn(store, brand_id, member, 500, now)
    first = points.redeem(store, brand_id, member, points=200, now=now, idempotency_key="order-1")
    with count_requests() as requests:
        again = points.redeem(store, brand_id, member, points=200, now=now + timedelta(minutes=5),
                              idempotency_key="order-1")
    assert (again.entry_id, again.points, again.balance) == (first.entry_id, -200, 300)
    assert again.replayed and not first.replayed
    # The member's state (never their orders' markers) and the request's record by its key; nothing written.
    assert dict(requests.by_operation) == {"Query": 1, "GetItem": 1}
    assert store.load_member(brand_id, member).points.balance == 300
    assert_reconciles(store, brand_id, member)


def test_a_key_reused_for_a_different_amount_is_refused(store, brand_id, now):
    member = register(store, brand_id, now)
    earn(store, brand_id, member, 500, now)
    points.redeem(store, brand_id, member, points=200, now=now, idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused):
        points.redeem(store, brand_id, member, points=250, now=now, idempotency_key="k")


def test_points_past_their_expiry_cannot_be_spent_before_any_sweep_has_run(store, brand_id, now):
    member = register(store, brand_id, now)
    earn(store, brand_id, member, 300, now, days=30)
    earn(store, brand_id, member, 100, now, days=365)
    thirty_days_later = now + timedelta(days=30)
    with pytest.raises(InsufficientPoints) as short:
        points.redeem(store, brand_id, member, points=150, now=thirty_days_later, idempotency_key="r")
    assert short.value.available == 100
    # The stored balance still counts the unswept lot; only what is spendable excludes it.
    state = store.load_member(brand_id, member)
    assert state.points.balance == 400 and state.points.spendable(thirty_days_later) == 100


def test_the_expiry_sweep_writes_off_expired_lots_once(store, brand_id, now):
    member = register(store, brand_id, now)
    earn(store, brand_id, member, 300, now, days=30)
    earn(store, brand_id, member, 100, now, days=365)
    later = now + timedelta(days=31)
    first = points.expire_due(store, brand_id, member, now=later)
    assert first.points == -300
    assert points.expire_due(store, brand_id, member, now=later).replayed
    assert points.expire_due(store, brand_id, member, now=later + timedelta(hours=1)) is None
    assert store.load_member(brand_id, member).points.balance == 100
    assert_reconciles(store, brand_id, member)


def test_staff_adjustments_add_a_lot_or_spend_and_need_a_reason(store, brand_id, now):
    member = register(store, brand_id, now)
    added = points.adjust(store, brand_id, member, points=80, reason="compensation for a late delivery", now=now,
                          validity_days=365, idempotency_key="a1", actor="staff:s1")
    taken = points.adjust(store, brand_id, member, points=-30, reason="duplicate award", now=now,
                          validity_days=365, idempotency_key="a2", actor="staff:s1")
    assert (added.balance, taken.balance) == (80, 50)
    with pytest.raises(InvalidInput):
        points.adjust(store, brand_id, member, points=10, reason="", now=now, validity_days=365,
                      idempotency_key="a3")
    entry = store.get_entry(brand_id, member, taken.entry_id)
    assert (entry.kind, entry.reason, entry.actor) == (EntryKind.ADJUST, "duplicate award", "staff:s1")
    assert_reconciles(store, brand_id, member)


def test_a_reversed_redemption_gives_the_points_back_to_their_lots_once(store, brand_id, now):
    member = register(store, brand_id, now)
    earn(store, brand_id, member, 100, now, days=60)
    redemption = points.redeem(store, brand_id, member, points=100, now=now, idempotency_key="r")
    reversal = points.reverse(store, brand_id, member, entry_id=redemption.entry_id, now=now,
                              idempotency_key="v1", reason="order cancelled")
    assert reversal.balance == 100
    with pytest.raises(EntryNotReversible):
        points.reverse(store, brand_id, member, entry_id=redemption.entry_id, now=now, idempotency_key="v2")
    lots = store.load_member(brand_id, member).points.lots
    assert [(lot.remaining, lot.expires_at) for lot in lots] == [(100, now + timedelta(days=60))]
    assert_reconciles(store, brand_id, member)


def test_history_pages_newest_first_with_a_cursor(store, brand_id, now):
    member = register(store, brand_id, now)
    for day in range(5):
        earn(store, brand_id, member, 10 + day, now + timedelta(days=day))
    first = store.history(brand_id, member, first=2, after=None)
    second = store.history(brand_id, member, first=2, after=first.end_cursor)
    third = store.history(brand_id, member, first=2, after=second.end_cursor)
    assert [e.points for e in first.items + second.items + third.items] == [14, 13, 12, 11, 10]
    assert first.has_next_page and second.has_next_page and not third.has_next_page


def test_a_reversed_redemption_brings_an_emptied_lot_back_as_it_was_earned_and_first_in_line_again(
        store, brand_id, now):
    # Two lots expiring on the same day; the one earned first is spent first.
    member = register(store, brand_id, now)
    expires = now + timedelta(days=365)
    first = points.earn(store, brand_id, member, points=100, now=now, expires_at=expires, idempotency_key="first")
    later = now + timedelta(hours=1)
    points.earn(store, brand_id, member, points=50, now=later, expires_at=expires, idempotency_key="second")
    spent = points.redeem(store, brand_id, member, points=100, now=later, idempotency_key="spend")
    assert first.entry_id not in {lot.lot_id for lot in store.load_member(brand_id, member).points.lots}
    # Undone by staff: the first lot, emptied and so deleted, comes back with its own earning date and amount...
    points.reverse(store, brand_id, member, entry_id=spent.entry_id, now=later, idempotency_key="undo")
    back = {lot.lot_id: lot for lot in store.load_member(brand_id, member).points.lots}[first.entry_id]
    assert (back.earned_at, back.earned, back.remaining) == (now, 100, 100)
    # ... and so is spent first again, before the lot earned an hour after it.
    points.redeem(store, brand_id, member, points=1, now=later, idempotency_key="one")
    remaining = {lot.lot_id: lot.remaining for lot in store.load_member(brand_id, member).points.lots}
    assert remaining[first.entry_id] == 99
    assert_reconciles(store, brand_id, member)
