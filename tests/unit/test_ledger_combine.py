"""One posting combined with nothing is what `combine` always made of it (its shortcut, issue 15)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules import ledger
from rules.ledger import Lot, LotUpdate, PointsState, Posting

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
YEAR = NOW + timedelta(days=365)


def the_long_way(postings: list[Posting]) -> Posting:
    """`combine` as it was before its shortcut."""
    entries, new_lots, updates, reverses, debt = [], {}, {}, None, 0
    debt_before = postings[0].debt_before if postings else 0
    for posting in postings:
        entries += posting.entries
        debt += posting.debt_delta
        for lot in posting.new_lots:
            new_lots[lot.lot_id] = lot
        for update in posting.lot_updates:
            if update.lot_id in new_lots:
                lot = new_lots[update.lot_id]
                remaining = update.after_or_delta if update.is_exact else lot.remaining + update.after_or_delta
                from dataclasses import replace
                new_lots[update.lot_id] = replace(lot, remaining=remaining)
            elif update.lot_id in updates and update.is_exact:
                first = updates[update.lot_id]
                updates[update.lot_id] = LotUpdate(update.lot_id, update.expires_at, first.before,
                                                   update.after_or_delta)
            else:
                updates[update.lot_id] = update
        reverses = reverses or posting.reverses
    return Posting(entries=tuple(entries), new_lots=tuple(new_lots.values()), lot_updates=tuple(updates.values()),
                   reverses=reverses, debt_delta=debt, debt_before=debt_before)


HOLDING = PointsState(300, (Lot("l1", 100, 100, NOW - timedelta(days=9), NOW + timedelta(days=30)),
                            Lot("l2", 200, 200, NOW - timedelta(days=5), NOW + timedelta(days=60))))
ORDER_AWARD = ledger.earn(HOLDING, points=128, now=NOW, expires_at=YEAR, entry_id="e1", reason="order o1")
AWARD_REPAYING = ledger.earn(PointsState(0, (), debt=50), points=128, now=NOW, expires_at=YEAR, entry_id="e2")
SPEND = ledger.spend(HOLDING, points=150, now=NOW, entry_id="e3")
LISTED = ledger.listing(HOLDING, ORDER_AWARD)
TWO_NEW_LOTS = Posting(entries=ORDER_AWARD.entries + AWARD_REPAYING.entries[:1],
                       new_lots=(ORDER_AWARD.new_lots[0], AWARD_REPAYING.new_lots[0]))
SAME_LOT_TWICE = Posting(entries=ORDER_AWARD.entries, new_lots=ORDER_AWARD.new_lots * 2)
LISTED_ENTRIES = Posting(entries=list(ORDER_AWARD.entries), new_lots=ORDER_AWARD.new_lots)


@pytest.mark.parametrize("posting", [ORDER_AWARD, AWARD_REPAYING, SPEND, LISTED, TWO_NEW_LOTS, SAME_LOT_TWICE,
                                     LISTED_ENTRIES, Posting(entries=())],
                         ids=["order award", "award repaying a debt", "spend", "listed", "two new lots",
                              "one lot twice", "entries in a list", "nothing"])
def test_an_event_that_posts_once_writes_what_combining_its_one_posting_always_wrote(posting):
    assert ledger.combine([posting]) == the_long_way([posting])
    assert ledger.combine(iter([posting])) == the_long_way([posting])


def test_an_award_then_a_spend_in_one_event_still_combine_into_one_write():
    spend = ledger.spend(ledger.applied(HOLDING, ORDER_AWARD), points=150, now=NOW, entry_id="e4")
    assert ledger.combine([ORDER_AWARD, spend]) == the_long_way([ORDER_AWARD, spend])
